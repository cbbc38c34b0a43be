-- Counting restarts when a limit restriction ends, at the minute it ended: nothing is counted while
-- a sender is restricted, so that minute held only later recipients, unless the restriction began
-- in the same minute. Then the minute also holds the recipients that led to it, and counting
-- restarts at the next minute instead (a release within a minute of the restriction used to leave
-- the old counts in force, and the sender was restricted again at midnight on them). Recipients
-- accepted in the rest of that minute count for the service limit, not for the policy's.
CREATE FUNCTION sendguard_counting_restart(p_restricted_at timestamptz, p_lifted_at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT date_trunc('minute', p_lifted_at)
         + CASE WHEN date_trunc('minute', p_restricted_at) = date_trunc('minute', p_lifted_at) THEN interval '1 minute' ELSE interval '0' END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION sendguard_record_recipients(p_items jsonb, p_durable boolean DEFAULT true, p_lease_ms integer DEFAULT 0, p_lease_percent integer DEFAULT 100)
RETURNS TABLE (
  ord integer, outcome text, exceeded_limit text, internal_hour integer, external_hour integer, internal_day integer,
  external_day integer, message_recipients integer, restriction_id uuid,
  lease_id uuid, lease_recipients integer, lease_messages integer, lease_expires_at timestamptz
) LANGUAGE plpgsql AS $$
DECLARE
  v_key bigint;
  i record;
  v_n integer := 0;
  v_minute timestamptz;
  v_restriction uuid;
  v_lifted timestamptz;
  v_restart timestamptz;
  v_reset timestamptz;
  v_int integer; v_ext integer; v_int_day integer; v_ext_day integer; v_minute_msgs integer;
  v_pint integer; v_pext integer; v_pint_day integer; v_pext_day integer;
  v_msg_rcpts integer;
  v_duplicate boolean;
  v_exceeded text;
  v_outcome text;
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
    SELECT DISTINCT hashtextextended((x ->> 'tenant') || chr(31) || (x ->> 'sender'), 7) FROM jsonb_array_elements(p_items) AS x ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  FOR i IN
    SELECT x.* FROM jsonb_to_recordset(p_items) AS x(
      tenant text, sender text, instance text, recipient text, internal boolean, at timestamptz,
      limit_internal_hour integer, limit_external_hour integer, limit_day integer, restricts boolean,
      service_day integer, messages_per_minute integer, recipients_per_message integer, close jsonb, lease_want integer)
  LOOP
    v_n := v_n + 1;
    IF i.close IS NOT NULL THEN
      PERFORM sendguard_settle_lease(c.lease, c.used, c.used_messages, true, c.recipients)
         FROM jsonb_to_recordset(i.close) AS c(lease uuid, used integer, used_messages integer, recipients jsonb);
    END IF;
    v_minute := date_trunc('minute', i.at);

    -- The active restriction, and when the latest limit restriction was lifted, in one scan.
    SELECT (array_agg(r.id) FILTER (WHERE r.status = 'Restricted' AND (r.expires_at IS NULL OR r.expires_at > i.at)))[1],
           max(CASE WHEN r.status = 'Released' THEN r.released_at ELSE r.expires_at END)
             FILTER (WHERE r.reason_code = 'SendingLimitExceeded'
                       AND (r.status IN ('Released', 'Expired') OR (r.status = 'Restricted' AND r.expires_at <= i.at))),
           max(sendguard_counting_restart(r.created_at, CASE WHEN r.status = 'Released' THEN r.released_at ELSE r.expires_at END))
             FILTER (WHERE r.reason_code = 'SendingLimitExceeded'
                       AND (r.status IN ('Released', 'Expired') OR (r.status = 'Restricted' AND r.expires_at <= i.at)))
      INTO v_restriction, v_lifted, v_restart
      FROM restrictions r
     WHERE r.tenant_id = i.tenant AND r.entity_kind = 'user' AND r.entity_key = i.sender;
    v_reset := CASE WHEN v_lifted > v_minute - interval '1440 minutes' THEN v_restart END;

    SELECT coalesce(sum(c.internal) FILTER (WHERE c.bucket > v_minute - interval '60 minutes'), 0)::int,
           coalesce(sum(c.external) FILTER (WHERE c.bucket > v_minute - interval '60 minutes'), 0)::int,
           coalesce(sum(c.internal), 0)::int,
           coalesce(sum(c.external), 0)::int,
           coalesce(sum(c.messages) FILTER (WHERE c.bucket = v_minute), 0)::int,
           coalesce(sum(c.internal) FILTER (WHERE c.bucket > v_minute - interval '60 minutes' AND (v_reset IS NULL OR c.bucket >= v_reset)), 0)::int,
           coalesce(sum(c.external) FILTER (WHERE c.bucket > v_minute - interval '60 minutes' AND (v_reset IS NULL OR c.bucket >= v_reset)), 0)::int,
           coalesce(sum(c.internal) FILTER (WHERE v_reset IS NULL OR c.bucket >= v_reset), 0)::int,
           coalesce(sum(c.external) FILTER (WHERE v_reset IS NULL OR c.bucket >= v_reset), 0)::int
      INTO v_int, v_ext, v_int_day, v_ext_day, v_minute_msgs, v_pint, v_pext, v_pint_day, v_pext_day
      FROM sending_counters c
     WHERE c.tenant_id = i.tenant AND c.sender = i.sender AND c.bucket > v_minute - interval '1440 minutes';

    v_outcome := NULL; v_exceeded := NULL; v_msg_rcpts := 0;
    IF v_restriction IS NOT NULL THEN
      v_outcome := 'restricted';
    ELSIF i.instance IS NOT NULL THEN
      SELECT count(*)::int, coalesce(bool_or(cr.recipient = i.recipient), false) INTO v_msg_rcpts, v_duplicate
        FROM counted_recipients cr WHERE cr.tenant_id = i.tenant AND cr.instance = i.instance;
      IF v_duplicate THEN
        v_outcome := 'duplicate';
        v_msg_rcpts := 0;
      END IF;
    END IF;

    IF v_outcome IS NULL THEN
      IF v_msg_rcpts >= i.recipients_per_message THEN
        v_outcome := 'too_many_recipients'; v_exceeded := 'RecipientsPerMessage';
      ELSIF v_msg_rcpts = 0 AND v_minute_msgs >= i.messages_per_minute THEN
        v_outcome := 'rate_deferred'; v_exceeded := 'MessagesPerMinute';
      ELSE
        IF NOT i.internal AND v_pext + 1 > i.limit_external_hour THEN v_exceeded := 'RecipientLimitExternalPerHour';
        ELSIF i.internal AND v_pint + 1 > i.limit_internal_hour THEN v_exceeded := 'RecipientLimitInternalPerHour';
        ELSIF v_pint_day + v_pext_day + 1 > i.limit_day THEN v_exceeded := 'RecipientLimitPerDay';
        END IF;
        IF v_exceeded IS NOT NULL AND i.restricts THEN
          IF EXISTS (SELECT 1 FROM releases rl WHERE rl.tenant_id = i.tenant AND rl.entity_kind = 'user'
                       AND rl.entity_key = i.sender AND rl.limit_exempt_until > i.at) THEN
            v_exceeded := NULL;
          ELSE
            v_outcome := 'limit_restrict';
          END IF;
        END IF;
        IF v_outcome IS NULL AND v_int_day + v_ext_day + 1 > i.service_day THEN
          v_outcome := 'service_limit'; v_exceeded := 'ServiceRecipientsPerDay';
        END IF;
      END IF;
    END IF;

    -- A refusal for a limit waits while another process holds quota of this sender it may not use.
    IF v_outcome IN ('limit_restrict', 'service_limit', 'rate_deferred') AND EXISTS (
         SELECT 1 FROM sending_leases l
          WHERE l.tenant_id = i.tenant AND l.sender = i.sender AND l.expires_at > i.at - interval '2 seconds') THEN
      PERFORM pg_notify('sendguard_lease_recall', i.tenant || chr(31) || i.sender);
      v_outcome := 'leased_elsewhere'; v_exceeded := NULL;
    END IF;

    IF v_outcome IS NOT NULL THEN
      -- Nothing counted. The service limit reports the full 24-hour counts, the others what the policy limits saw.
      IF v_outcome = 'service_limit' THEN
        RETURN QUERY SELECT v_n, v_outcome, v_exceeded, v_int, v_ext, v_int_day, v_ext_day, v_msg_rcpts + 1, NULL::uuid, NULL::uuid, 0, 0, NULL::timestamptz;
      ELSE
        RETURN QUERY SELECT v_n, v_outcome, v_exceeded, v_pint, v_pext, v_pint_day, v_pext_day,
                            CASE WHEN v_outcome = 'limit_restrict' THEN v_msg_rcpts + 1 WHEN v_outcome IN ('restricted', 'duplicate') THEN 0 ELSE v_msg_rcpts END,
                            v_restriction, NULL::uuid, 0, 0, NULL::timestamptz;
      END IF;
      CONTINUE;
    END IF;

    -- Accepted: the counts after this recipient.
    IF i.internal THEN v_pint := v_pint + 1; v_pint_day := v_pint_day + 1; ELSE v_pext := v_pext + 1; v_pext_day := v_pext_day + 1; END IF;

    -- A lease stops short of the warning threshold, the service limit and the message rate, and takes half of what is left.
    v_grant := 0; v_grant_messages := 0; v_lease := NULL; v_expires := NULL;
    IF v_exceeded IS NULL AND coalesce(i.lease_want, 0) > 0 AND p_lease_ms > 0 THEN
      v_room := least(
        ceil(CASE WHEN i.internal THEN i.limit_internal_hour ELSE i.limit_external_hour END * p_lease_percent / 100.0)::int - 1
          - CASE WHEN i.internal THEN v_pint ELSE v_pext END,
        ceil(i.limit_day * p_lease_percent / 100.0)::int - 1 - (v_pint_day + v_pext_day),
        i.service_day - (v_int_day + v_ext_day + 1));
      v_grant := greatest(least(i.lease_want, v_room / 2), 0);
      IF v_grant > 0 THEN
        v_grant_messages := greatest(least(v_grant, (i.messages_per_minute - v_minute_msgs - CASE WHEN v_msg_rcpts = 0 THEN 1 ELSE 0 END) / 2), 0);
        v_expires := least(i.at + make_interval(secs => p_lease_ms / 1000.0), v_minute + interval '1 minute');
      END IF;
    END IF;

    INSERT INTO sending_counters AS c (tenant_id, sender, bucket, internal, external, messages)
    VALUES (i.tenant, i.sender, v_minute,
            CASE WHEN i.internal THEN 1 + v_grant ELSE 0 END, CASE WHEN i.internal THEN 0 ELSE 1 + v_grant END,
            CASE WHEN v_msg_rcpts = 0 THEN 1 ELSE 0 END + v_grant_messages)
    ON CONFLICT (tenant_id, sender, bucket) DO UPDATE
       SET internal = c.internal + excluded.internal, external = c.external + excluded.external, messages = c.messages + excluded.messages;
    IF i.instance IS NOT NULL THEN
      INSERT INTO counted_recipients (tenant_id, instance, recipient, sender, internal, created_at)
      VALUES (i.tenant, i.instance, i.recipient, i.sender, i.internal, i.at);
    END IF;
    IF v_grant > 0 THEN
      INSERT INTO sending_leases (tenant_id, sender, bucket, internal, recipients, messages, expires_at)
      VALUES (i.tenant, i.sender, v_minute, i.internal, v_grant, v_grant_messages, v_expires)
      RETURNING id INTO v_lease;
    END IF;
    RETURN QUERY SELECT v_n, CASE WHEN v_exceeded IS NULL THEN 'accepted' ELSE 'accepted_over_limit' END, v_exceeded,
                        v_pint, v_pext, v_pint_day, v_pext_day, v_msg_rcpts + 1, NULL::uuid, v_lease, v_grant, v_grant_messages, v_expires;
  END LOOP;
END
$$;
