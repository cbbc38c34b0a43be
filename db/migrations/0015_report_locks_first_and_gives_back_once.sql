-- Two corrections to usage reports (migration 0014).
--
-- A report retried after a commit it did not hear gave back again what its first attempt had
-- given back (a recipient someone else had recorded first), so the sender was undercounted by
-- one. What a lease gives back is now noted in lease_give_backs, once per recipient and lease.
--
-- A report recorded its recipients before taking its senders' advisory locks. When one of them
-- was a retried recipient that a decision call holding that sender's lock was about to insert,
-- the report waited for the lock and the decision for the report's uncommitted row: a deadlock,
-- which PostgreSQL broke after deadlock_timeout by failing one of the two (a stall of a second,
-- and a batch of recipients deferred if it was the decision). A report now takes the locks of its
-- leases' senders first, in the order decisions take them, and then records.
CREATE TABLE "lease_give_backs" (
	"tenant_id" text NOT NULL,
	"instance" text NOT NULL,
	"recipient" text NOT NULL,
	"lease" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lease_give_backs_tenant_id_instance_recipient_lease_pk" PRIMARY KEY("tenant_id","instance","recipient","lease")
);
--> statement-breakpoint
CREATE INDEX "lease_give_backs_created_idx" ON "lease_give_backs" USING btree ("created_at");
--> statement-breakpoint
-- As in migration 0014; what is given back is noted first, and only what was not noted before
-- is given back.
CREATE OR REPLACE FUNCTION sendguard_record_lease_recipients(p_items jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_reported integer;
  v_recorded integer;
  v_given jsonb;
BEGIN
  SELECT coalesce(sum(jsonb_array_length(x.recipients -> 'rows')) FILTER (WHERE jsonb_typeof(x.recipients -> 'rows') = 'array'), 0)::int
    INTO v_reported
    FROM jsonb_to_recordset(p_items) AS x(recipients jsonb);
  IF v_reported = 0 THEN
    RETURN NULL;
  END IF;
  WITH recorded AS (
    INSERT INTO counted_recipients (tenant_id, instance, recipient, sender, internal, created_at, lease)
    SELECT x.recipients ->> 'tenant', r.instance, r.recipient, x.recipients ->> 'sender', (x.recipients ->> 'internal')::boolean, r.at, x.lease
      FROM jsonb_to_recordset(p_items) AS x(lease uuid, recipients jsonb)
     CROSS JOIN LATERAL jsonb_to_recordset(
             CASE WHEN jsonb_typeof(x.recipients -> 'rows') = 'array' THEN x.recipients -> 'rows' ELSE '[]'::jsonb END
           ) AS r(instance text, recipient text, at timestamptz)
    ON CONFLICT DO NOTHING
    RETURNING 1
  )
  SELECT count(*)::int INTO v_recorded FROM recorded;
  IF v_recorded = v_reported THEN
    RETURN NULL;
  END IF;
  -- A new statement: it sees the rows that were in the way, committed by then (an insert waits
  -- for the one it conflicts with), and this report's own.
  WITH elsewhere AS (
    SELECT DISTINCT ON (x.lease, r.instance, r.recipient)
           x.lease, x.recipients ->> 'tenant' AS tenant, x.recipients ->> 'sender' AS sender,
           (x.recipients ->> 'bucket')::timestamptz AS bucket, (x.recipients ->> 'internal')::boolean AS internal,
           r.instance, r.recipient, r.new_message, r.at
      FROM jsonb_to_recordset(p_items) AS x(lease uuid, recipients jsonb)
     CROSS JOIN LATERAL jsonb_to_recordset(
             CASE WHEN jsonb_typeof(x.recipients -> 'rows') = 'array' THEN x.recipients -> 'rows' ELSE '[]'::jsonb END
           ) AS r(instance text, recipient text, new_message boolean, at timestamptz)
      JOIN counted_recipients cr
        ON cr.tenant_id = x.recipients ->> 'tenant' AND cr.instance = r.instance AND cr.recipient = r.recipient
     WHERE cr.lease IS DISTINCT FROM x.lease
  ), noted AS (
    INSERT INTO lease_give_backs (tenant_id, instance, recipient, lease, created_at)
    SELECT e.tenant, e.instance, e.recipient, e.lease, e.at FROM elsewhere e
    ON CONFLICT DO NOTHING
    RETURNING tenant_id, instance, recipient, lease
  )
  SELECT jsonb_agg(g) INTO v_given FROM (
    SELECT e.tenant, e.sender, e.bucket, e.internal,
           count(*)::int AS recipients, count(*) FILTER (WHERE e.new_message)::int AS messages
      FROM noted n
      JOIN elsewhere e ON e.lease = n.lease AND e.tenant = n.tenant_id AND e.instance = n.instance AND e.recipient = n.recipient
     GROUP BY 1, 2, 3, 4
  ) AS g;
  RETURN v_given;
END
$$;
--> statement-breakpoint
-- As in migration 0014, with the locks taken before the recipients are recorded. The senders come
-- from the reports themselves, so a lease already gone still has its sender locked; they are the
-- senders anything is given back to.
CREATE OR REPLACE FUNCTION sendguard_settle_leases(p_items jsonb)
RETURNS TABLE (extended_lease uuid, extended_until timestamptz) LANGUAGE plpgsql AS $$
DECLARE
  v_key bigint;
  v_given jsonb;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  FOR v_key IN
    SELECT hashtextextended((x.recipients ->> 'tenant') || chr(31) || (x.recipients ->> 'sender'), 7)
      FROM jsonb_to_recordset(p_items) AS x(recipients jsonb)
     WHERE x.recipients ->> 'tenant' IS NOT NULL AND x.recipients ->> 'sender' IS NOT NULL
    UNION
    SELECT hashtextextended(l.tenant_id || chr(31) || l.sender, 7)
      FROM sending_leases l WHERE l.id IN (SELECT (i ->> 'lease')::uuid FROM jsonb_array_elements(p_items) AS i)
    ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  v_given := sendguard_record_lease_recipients(p_items);
  PERFORM sendguard_give_back_counted_twice(v_given);
  RETURN QUERY SELECT * FROM sendguard_settle_lease_totals(p_items);
END
$$;
