CREATE TABLE "sending_leases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"sender" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"internal" boolean NOT NULL,
	"recipients" integer NOT NULL,
	"messages" integer NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sending_leases" ADD CONSTRAINT "sending_leases_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sending_leases_sender_idx" ON "sending_leases" USING btree ("tenant_id","sender");--> statement-breakpoint
CREATE INDEX "sending_leases_expires_idx" ON "sending_leases" USING btree ("expires_at");--> statement-breakpoint
-- Quota leases: a policy server that counted a recipient may take part of the sender's remaining
-- quota with it and answer the sender's next recipients from memory. A lease is added to the
-- counters when granted, so every limit, in every process, sees it as sent until the holder
-- reports what it used; the rest is then taken back off. Counts are never below what was
-- accepted, and a holder that dies leaves its unused lease counted (the safe side).
-- Settles one lease: records the recipients it accepted (so a retried request counts once and
-- a message's recipients stay counted) and, when final, gives the unused part back and drops it.
-- A lease already settled is ignored, so a settlement may be retried. The caller holds the
-- sender's advisory lock.
CREATE FUNCTION sendguard_settle_lease(p_lease uuid, p_used integer, p_used_messages integer, p_final boolean, p_recipients jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  l sending_leases%ROWTYPE;
  v_left integer;
  v_left_messages integer;
BEGIN
  SELECT * INTO l FROM sending_leases WHERE id = p_lease FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF p_recipients IS NOT NULL AND jsonb_array_length(p_recipients) > 0 THEN
    INSERT INTO counted_recipients (tenant_id, instance, recipient, sender, internal, created_at)
    SELECT l.tenant_id, r.instance, r.recipient, l.sender, l.internal, r.at
      FROM jsonb_to_recordset(p_recipients) AS r(instance text, recipient text, at timestamptz)
    ON CONFLICT DO NOTHING;
  END IF;
  v_left := greatest(l.recipients - p_used, 0);
  v_left_messages := greatest(l.messages - p_used_messages, 0);
  IF p_final THEN
    UPDATE sending_counters c
       SET internal = c.internal - CASE WHEN l.internal THEN v_left ELSE 0 END,
           external = c.external - CASE WHEN l.internal THEN 0 ELSE v_left END,
           messages = c.messages - v_left_messages
     WHERE c.tenant_id = l.tenant_id AND c.sender = l.sender AND c.bucket = l.bucket;
    DELETE FROM sending_leases WHERE id = p_lease;
  ELSE
    UPDATE sending_leases SET recipients = v_left, messages = v_left_messages WHERE id = p_lease;
  END IF;
END
$$;
--> statement-breakpoint
-- Settles many leases in one transaction, taking their senders' advisory locks in key order
-- (as sendguard_record_recipients does), so a decision never sees a lease half settled.
-- Settling only moves counts a holder already had, so it never waits for the disk.
CREATE FUNCTION sendguard_settle_leases(p_items jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_key bigint;
  v record;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  FOR v_key IN
    SELECT DISTINCT hashtextextended(l.tenant_id || chr(31) || l.sender, 7)
      FROM sending_leases l WHERE l.id IN (SELECT (i ->> 'lease')::uuid FROM jsonb_array_elements(p_items) AS i) ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  FOR v IN SELECT x.* FROM jsonb_to_recordset(p_items) AS x(lease uuid, used integer, used_messages integer, final boolean, recipients jsonb)
  LOOP
    PERFORM sendguard_settle_lease(v.lease, v.used, v.used_messages, v.final, v.recipients);
  END LOOP;
END
$$;
--> statement-breakpoint
DROP FUNCTION sendguard_record_recipients(jsonb, boolean);
--> statement-breakpoint
-- As in migration 0003, plus leases. Each item may first close the caller's own leases for its
-- sender (`close`), so the decision below sees the sender's true counts. When the decision would
-- refuse or defer for a limit while another process still holds a live lease for the sender, the
-- answer is `leased_elsewhere` instead: nothing is counted, holders are asked on the
-- `sendguard_lease_recall` channel to settle, and the caller asks again; a lease that expired
-- more than 2 s ago belongs to a process presumed dead and no longer holds anyone up.
-- An accepted item with `lease_want` > 0 may take a lease of its recipient kind: at most half of
-- what is left before the first warning threshold (`p_lease_percent` of a limit), the service
-- limit or the minute's message rate, valid until `p_lease_ms` after the item's time and never
-- past its minute. Half, so that another process can take a lease for the same sender.
CREATE FUNCTION sendguard_record_recipients(p_items jsonb, p_durable boolean DEFAULT true, p_lease_ms integer DEFAULT 0, p_lease_percent integer DEFAULT 100)
RETURNS TABLE (
  ord integer, outcome text, exceeded_limit text, internal_hour integer, external_hour integer, internal_day integer,
  external_day integer, message_recipients integer, restriction_id uuid,
  lease_id uuid, lease_recipients integer, lease_messages integer, lease_expires_at timestamptz
) LANGUAGE plpgsql AS $$
DECLARE
  v_key bigint;
  v_item record;
  v_r record;
  v_n integer := 0;
  v_minute timestamptz;
  v_all_day integer;
  v_minute_messages integer;
  v_room integer;
  v_grant integer;
  v_grant_messages integer;
  v_lease uuid;
  v_expires timestamptz;
BEGIN
  IF NOT p_durable THEN
    PERFORM set_config('synchronous_commit', 'off', true);
  END IF;
  FOR v_key IN
    SELECT DISTINCT hashtextextended((i ->> 'tenant') || chr(31) || (i ->> 'sender'), 7) FROM jsonb_array_elements(p_items) AS i ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  FOR v_item IN
    SELECT x.* FROM jsonb_to_recordset(p_items) AS x(
      tenant text, sender text, instance text, recipient text, internal boolean, at timestamptz,
      limit_internal_hour integer, limit_external_hour integer, limit_day integer, restricts boolean,
      service_day integer, messages_per_minute integer, recipients_per_message integer, close jsonb, lease_want integer)
  LOOP
    v_n := v_n + 1;
    IF v_item.close IS NOT NULL THEN
      PERFORM sendguard_settle_lease(c.lease, c.used, c.used_messages, true, c.recipients)
         FROM jsonb_to_recordset(v_item.close) AS c(lease uuid, used integer, used_messages integer, recipients jsonb);
    END IF;
    SELECT * INTO v_r FROM sendguard_record_recipient(
      v_item.tenant, v_item.sender, v_item.instance, v_item.recipient, v_item.internal, v_item.at,
      v_item.limit_internal_hour, v_item.limit_external_hour, v_item.limit_day, v_item.restricts,
      v_item.service_day, v_item.messages_per_minute, v_item.recipients_per_message) AS r;

    IF v_r.outcome IN ('limit_restrict', 'service_limit', 'rate_deferred') AND EXISTS (
         SELECT 1 FROM sending_leases l
          WHERE l.tenant_id = v_item.tenant AND l.sender = v_item.sender AND l.expires_at > v_item.at - interval '2 seconds') THEN
      PERFORM pg_notify('sendguard_lease_recall', v_item.tenant || chr(31) || v_item.sender);
      RETURN QUERY SELECT v_n, 'leased_elsewhere'::text, NULL::text, v_r.internal_hour, v_r.external_hour, v_r.internal_day,
                          v_r.external_day, v_r.message_recipients, NULL::uuid, NULL::uuid, 0, 0, NULL::timestamptz;
      CONTINUE;
    END IF;

    v_lease := NULL; v_grant := 0; v_grant_messages := 0; v_expires := NULL;
    IF v_r.outcome = 'accepted' AND coalesce(v_item.lease_want, 0) > 0 AND p_lease_ms > 0 THEN
      v_minute := date_trunc('minute', v_item.at);
      SELECT coalesce(sum(c.internal + c.external), 0)::int, coalesce(sum(c.messages) FILTER (WHERE c.bucket = v_minute), 0)::int
        INTO v_all_day, v_minute_messages
        FROM sending_counters c
       WHERE c.tenant_id = v_item.tenant AND c.sender = v_item.sender AND c.bucket > v_minute - interval '1440 minutes';
      v_room := least(
        ceil(CASE WHEN v_item.internal THEN v_item.limit_internal_hour ELSE v_item.limit_external_hour END * p_lease_percent / 100.0)::int - 1
          - CASE WHEN v_item.internal THEN v_r.internal_hour ELSE v_r.external_hour END,
        ceil(v_item.limit_day * p_lease_percent / 100.0)::int - 1 - (v_r.internal_day + v_r.external_day),
        v_item.service_day - v_all_day);
      v_grant := least(v_item.lease_want, v_room / 2);
      IF v_grant > 0 THEN
        v_grant_messages := greatest(least(v_grant, (v_item.messages_per_minute - v_minute_messages) / 2), 0);
        v_expires := least(v_item.at + make_interval(secs => p_lease_ms / 1000.0), v_minute + interval '1 minute');
        UPDATE sending_counters c
           SET internal = c.internal + CASE WHEN v_item.internal THEN v_grant ELSE 0 END,
               external = c.external + CASE WHEN v_item.internal THEN 0 ELSE v_grant END,
               messages = c.messages + v_grant_messages
         WHERE c.tenant_id = v_item.tenant AND c.sender = v_item.sender AND c.bucket = v_minute;
        INSERT INTO sending_leases (tenant_id, sender, bucket, internal, recipients, messages, expires_at)
        VALUES (v_item.tenant, v_item.sender, v_minute, v_item.internal, v_grant, v_grant_messages, v_expires)
        RETURNING id INTO v_lease;
      ELSE
        v_grant := 0;
      END IF;
    END IF;
    RETURN QUERY SELECT v_n, v_r.outcome, v_r.exceeded_limit, v_r.internal_hour, v_r.external_hour, v_r.internal_day,
                        v_r.external_day, v_r.message_recipients, v_r.restriction_id, v_lease, v_grant, v_grant_messages, v_expires;
  END LOOP;
END
$$;
