-- A recipient answered from a lease in one process, whose request Postfix then retried at another
-- process before the first reported it (the first answer was lost), was counted twice: once in
-- the lease, granted and counted up front, and once by the other process, which did not find it
-- in counted_recipients yet. Each row now says which lease recorded it (null: a decision at the
-- database), and a usage report that finds one of its recipients recorded by anyone else gives
-- it back to the counters of the minute its lease was counted in (`bucket` in the report), with
-- the message if the lease counted that recipient as a new one (`new_message`). A recipient
-- recorded by the same lease (a report retried after its commit was not heard) is not given back.
ALTER TABLE "counted_recipients" ADD COLUMN "lease" uuid;
--> statement-breakpoint
DROP FUNCTION sendguard_settle_leases(jsonb);
--> statement-breakpoint
DROP FUNCTION sendguard_record_lease_recipients(jsonb);
--> statement-breakpoint
-- Records the recipients a report carries, as in migration 0009, and returns what to give back,
-- one row per counter {tenant, sender, bucket, internal, recipients, messages}, or null. All
-- recorded is the usual case and costs one count more; only a report with recipients recorded
-- already looks up who recorded them.
CREATE FUNCTION sendguard_record_lease_recipients(p_items jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_reported integer;
  v_recorded integer;
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
  RETURN (
    SELECT jsonb_agg(g) FROM (
      SELECT x.recipients ->> 'tenant' AS tenant, x.recipients ->> 'sender' AS sender,
             (x.recipients ->> 'bucket')::timestamptz AS bucket, (x.recipients ->> 'internal')::boolean AS internal,
             count(DISTINCT (r.instance, r.recipient))::int AS recipients,
             count(DISTINCT (r.instance, r.recipient)) FILTER (WHERE r.new_message)::int AS messages
        FROM jsonb_to_recordset(p_items) AS x(lease uuid, recipients jsonb)
       CROSS JOIN LATERAL jsonb_to_recordset(
               CASE WHEN jsonb_typeof(x.recipients -> 'rows') = 'array' THEN x.recipients -> 'rows' ELSE '[]'::jsonb END
             ) AS r(instance text, recipient text, new_message boolean)
        JOIN counted_recipients cr
          ON cr.tenant_id = x.recipients ->> 'tenant' AND cr.instance = r.instance AND cr.recipient = r.recipient
       WHERE cr.lease IS DISTINCT FROM x.lease
       GROUP BY 1, 2, 3, 4
    ) AS g
  );
END
$$;
--> statement-breakpoint
-- Gives back what `sendguard_record_lease_recipients` found counted twice; the caller holds the
-- senders' advisory locks.
CREATE FUNCTION sendguard_give_back_counted_twice(p_given jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_given IS NULL THEN
    RETURN;
  END IF;
  UPDATE sending_counters c
     SET internal = c.internal - g.internal, external = c.external - g.external, messages = c.messages - g.messages
    FROM (SELECT x.tenant, x.sender, x.bucket,
                 sum(CASE WHEN x.internal THEN x.recipients ELSE 0 END) AS internal,
                 sum(CASE WHEN x.internal THEN 0 ELSE x.recipients END) AS external,
                 sum(x.messages) AS messages
            FROM jsonb_to_recordset(p_given) AS x(tenant text, sender text, bucket timestamptz, internal boolean, recipients integer, messages integer)
           GROUP BY 1, 2, 3) AS g
   WHERE c.tenant_id = g.tenant AND c.sender = g.sender AND c.bucket = g.bucket;
END
$$;
--> statement-breakpoint
-- As in migration 0011; the senders of what is given back are locked as well.
CREATE FUNCTION sendguard_settle_leases(p_items jsonb)
RETURNS TABLE (extended_lease uuid, extended_until timestamptz) LANGUAGE plpgsql AS $$
DECLARE
  v_key bigint;
  v_given jsonb;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  v_given := sendguard_record_lease_recipients(p_items);
  FOR v_key IN
    SELECT hashtextextended(l.tenant_id || chr(31) || l.sender, 7)
      FROM sending_leases l WHERE l.id IN (SELECT (i ->> 'lease')::uuid FROM jsonb_array_elements(p_items) AS i)
    UNION
    SELECT hashtextextended((g ->> 'tenant') || chr(31) || (g ->> 'sender'), 7)
      FROM jsonb_array_elements(coalesce(v_given, '[]'::jsonb)) AS g
    ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  PERFORM sendguard_give_back_counted_twice(v_given);
  RETURN QUERY SELECT * FROM sendguard_settle_lease_totals(p_items);
END
$$;
--> statement-breakpoint
-- The final report a decision carries for its sender's leases (under that sender's advisory
-- lock): as in migration 0008, recording its recipients as above.
CREATE OR REPLACE FUNCTION sendguard_settle_lease(p_lease uuid, p_used integer, p_used_messages integer, p_final boolean, p_recipients jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  l sending_leases%ROWTYPE;
  v_used integer;
  v_used_messages integer;
BEGIN
  IF p_recipients IS NOT NULL THEN
    PERFORM sendguard_give_back_counted_twice(
      sendguard_record_lease_recipients(jsonb_build_array(jsonb_build_object('lease', p_lease, 'recipients', p_recipients))));
  END IF;
  SELECT * INTO l FROM sending_leases WHERE id = p_lease FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  v_used := least(greatest(l.used, p_used), l.recipients);
  v_used_messages := least(greatest(l.used_messages, p_used_messages), l.messages);
  IF p_final THEN
    UPDATE sending_counters c
       SET internal = c.internal - CASE WHEN l.internal THEN l.recipients - v_used ELSE 0 END,
           external = c.external - CASE WHEN l.internal THEN 0 ELSE l.recipients - v_used END,
           messages = c.messages - (l.messages - v_used_messages)
     WHERE c.tenant_id = l.tenant_id AND c.sender = l.sender AND c.bucket = l.bucket;
    DELETE FROM sending_leases WHERE id = p_lease;
  ELSE
    UPDATE sending_leases SET used = v_used, used_messages = v_used_messages WHERE id = p_lease;
  END IF;
END
$$;
