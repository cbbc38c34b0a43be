-- Lease settlement as a few set-based statements rather than one plpgsql call per lease.
-- A usage report of a busy policy server carries about a thousand leases and tens of thousands
-- of recipients; settled one lease at a time it cost about 57 ms, and every decision for those
-- senders waited behind its advisory locks all that time. Same rules as migration 0008: the
-- recipients a report carries are recorded even when the lease is already gone, a lease keeps
-- the highest totals reported, and the final report gives back `recipients - max(used)`.
-- `p_items` holds {lease, used, used_messages, final, recipients: {tenant, sender, internal, rows}}.
--
-- The recipients a report carries: they need no lock (a conflict means counted already), so a
-- report records them before it takes its senders' advisory locks, and decisions never wait on
-- the bulk of a report's work.
-- (plpgsql rather than sql in these two: plpgsql keeps its plans for the session.)
CREATE FUNCTION sendguard_record_lease_recipients(p_items jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO counted_recipients (tenant_id, instance, recipient, sender, internal, created_at)
  SELECT x.recipients ->> 'tenant', r.instance, r.recipient, x.recipients ->> 'sender', (x.recipients ->> 'internal')::boolean, r.at
    FROM jsonb_to_recordset(p_items) AS x(recipients jsonb)
   CROSS JOIN LATERAL jsonb_to_recordset(
           CASE WHEN jsonb_typeof(x.recipients -> 'rows') = 'array' THEN x.recipients -> 'rows' ELSE '[]'::jsonb END
         ) AS r(instance text, recipient text, at timestamptz)
  ON CONFLICT DO NOTHING;
END
$$;
--> statement-breakpoint
-- The leases' totals, and the unused rest of final ones given back to the counters; the caller
-- holds the advisory locks of the leases' senders.
CREATE FUNCTION sendguard_settle_lease_totals(p_items jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  -- The leases by primary key: a join on the report alone is planned for ~100 rows and scans.
  v_ids uuid[] := ARRAY(SELECT (i ->> 'lease')::uuid FROM jsonb_array_elements(p_items) AS i);
BEGIN
  WITH reported AS (
    -- One row per lease, should a report name it twice.
    SELECT x.lease, max(x.used) AS used, max(x.used_messages) AS used_messages, bool_or(x.final) AS final
      FROM jsonb_to_recordset(p_items) AS x(lease uuid, used integer, used_messages integer, final boolean)
     GROUP BY x.lease
  ), settled AS (
    SELECT l.id, l.tenant_id, l.sender, l.bucket, l.internal, l.recipients, l.messages, r.final,
           least(greatest(l.used, r.used), l.recipients) AS used,
           least(greatest(l.used_messages, r.used_messages), l.messages) AS used_messages
      FROM sending_leases l JOIN reported r ON r.lease = l.id
     WHERE l.id = ANY (v_ids)
       FOR UPDATE OF l
  ), kept AS (
    UPDATE sending_leases l SET used = s.used, used_messages = s.used_messages
      FROM settled s WHERE l.id = s.id AND NOT s.final
  ), closed AS (
    DELETE FROM sending_leases l USING settled s WHERE l.id = s.id AND s.final
    RETURNING s.tenant_id, s.sender, s.bucket, s.internal, s.recipients - s.used AS unused, s.messages - s.used_messages AS unused_messages
  )
  UPDATE sending_counters c
     SET internal = c.internal - b.internal, external = c.external - b.external, messages = c.messages - b.messages
    FROM (SELECT tenant_id, sender, bucket,
                 sum(CASE WHEN internal THEN unused ELSE 0 END) AS internal,
                 sum(CASE WHEN internal THEN 0 ELSE unused END) AS external,
                 sum(unused_messages) AS messages
            FROM closed GROUP BY tenant_id, sender, bucket) AS b
   WHERE c.tenant_id = b.tenant_id AND c.sender = b.sender AND c.bucket = b.bucket;
END
$$;
--> statement-breakpoint
-- As in migration 0006, but the recipients are recorded before the senders' advisory locks are
-- taken (in key order), and the totals settled under them. (A decision closing its own leases
-- still settles them one by one with sendguard_settle_lease of migration 0008: a few at a time.)
CREATE OR REPLACE FUNCTION sendguard_settle_leases(p_items jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_key bigint;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  PERFORM sendguard_record_lease_recipients(p_items);
  FOR v_key IN
    SELECT DISTINCT hashtextextended(l.tenant_id || chr(31) || l.sender, 7)
      FROM sending_leases l WHERE l.id IN (SELECT (i ->> 'lease')::uuid FROM jsonb_array_elements(p_items) AS i) ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  PERFORM sendguard_settle_lease_totals(p_items);
END
$$;
