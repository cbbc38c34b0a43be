-- A usage report may extend the leases it reports (`extend_from`, `extend_to` in an item): a
-- sender still sending keeps its lease past `SENDGUARD_POLICY_LEASE_MS`, so a steady sender
-- costs one database decision a minute rather than one every lease period. The lease's quota
-- was counted when it was granted, so this changes no count. A lease is extended only
--   - while it is live (`expires_at > extend_from`: the holder's clock read when it built the
--     report, at which its copy of the lease was live, and never later than the database's),
--   - never past the minute it was granted in (its quota is counted in that minute's bucket),
--   - not while the sender is restricted (a restriction made while the holder does not hear
--     events still stops the sender within one lease period),
--   - and not once another process's decision has recalled it (`recalled`, set by that process
--     besides the NOTIFY, so a holder that misses the notification still lets go within one
--     lease period).
-- A holder that dies stops extending, so its lease still expires one lease period after its
-- last report, and after that nothing waits for it. The functions return the leases extended
-- and until when; a holder uses a lease only as long as the database says.
--
-- Usage reports move expires_at forward many times a second, which an index on it would turn into
-- new index entries (no HOT update); only the daily pruner filters on it, over a table of live leases.
DROP INDEX "sending_leases_expires_idx";--> statement-breakpoint
ALTER TABLE "sending_leases" ADD COLUMN "recalled" boolean DEFAULT false NOT NULL;--> statement-breakpoint
DROP FUNCTION sendguard_settle_leases(jsonb);
--> statement-breakpoint
DROP FUNCTION sendguard_settle_lease_totals(jsonb);
--> statement-breakpoint
CREATE FUNCTION sendguard_settle_lease_totals(p_items jsonb)
RETURNS TABLE (extended_lease uuid, extended_until timestamptz) LANGUAGE plpgsql AS $$
DECLARE
  -- The leases by primary key: a join on the report alone is planned for ~100 rows and scans.
  v_ids uuid[] := ARRAY(SELECT (i ->> 'lease')::uuid FROM jsonb_array_elements(p_items) AS i);
BEGIN
  RETURN QUERY
  WITH reported AS (
    -- One row per lease, should a report name it twice.
    SELECT x.lease, max(x.used) AS used, max(x.used_messages) AS used_messages, bool_or(x.final) AS final,
           min(x.extend_from) AS extend_from, max(x.extend_to) AS extend_to
      FROM jsonb_to_recordset(p_items) AS x(lease uuid, used integer, used_messages integer, final boolean, extend_from timestamptz, extend_to timestamptz)
     GROUP BY x.lease
  ), settled AS (
    SELECT l.id, l.tenant_id, l.sender, l.bucket, l.internal, l.recipients, l.messages, r.final, l.expires_at AS was,
           least(greatest(l.used, r.used), l.recipients) AS used,
           least(greatest(l.used_messages, r.used_messages), l.messages) AS used_messages,
           CASE WHEN NOT r.final AND r.extend_to IS NOT NULL AND l.expires_at > r.extend_from AND NOT l.recalled
                     AND NOT EXISTS (SELECT 1 FROM restrictions rs
                                      WHERE rs.tenant_id = l.tenant_id AND rs.entity_kind = 'user' AND rs.entity_key = l.sender
                                        AND rs.status = 'Restricted' AND (rs.expires_at IS NULL OR rs.expires_at > r.extend_from))
                THEN greatest(l.expires_at, least(r.extend_to, l.bucket + interval '1 minute'))
                ELSE l.expires_at END AS until
      FROM sending_leases l JOIN reported r ON r.lease = l.id
     WHERE l.id = ANY (v_ids)
       FOR UPDATE OF l
  ), kept AS (
    UPDATE sending_leases l SET used = s.used, used_messages = s.used_messages, expires_at = s.until
      FROM settled s WHERE l.id = s.id AND NOT s.final
    RETURNING l.id, s.until, s.was
  ), closed AS (
    DELETE FROM sending_leases l USING settled s WHERE l.id = s.id AND s.final
    RETURNING s.tenant_id, s.sender, s.bucket, s.internal, s.recipients - s.used AS unused, s.messages - s.used_messages AS unused_messages
  ), given_back AS (
    UPDATE sending_counters c
       SET internal = c.internal - b.internal, external = c.external - b.external, messages = c.messages - b.messages
      FROM (SELECT tenant_id, sender, bucket,
                   sum(CASE WHEN internal THEN unused ELSE 0 END) AS internal,
                   sum(CASE WHEN internal THEN 0 ELSE unused END) AS external,
                   sum(unused_messages) AS messages
              FROM closed GROUP BY tenant_id, sender, bucket) AS b
     WHERE c.tenant_id = b.tenant_id AND c.sender = b.sender AND c.bucket = b.bucket
    RETURNING 1
  )
  SELECT k.id, k.until FROM kept k WHERE k.until > k.was;
END
$$;
--> statement-breakpoint
-- As in migration 0009, returning the leases extended.
CREATE FUNCTION sendguard_settle_leases(p_items jsonb)
RETURNS TABLE (extended_lease uuid, extended_until timestamptz) LANGUAGE plpgsql AS $$
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
  RETURN QUERY SELECT * FROM sendguard_settle_lease_totals(p_items);
END
$$;
--> statement-breakpoint
-- A decision that found another process's live lease in its way (`leased_elsewhere`) marks the
-- sender's leases recalled, besides the NOTIFY: they are extended no more. The sender's advisory
-- lock first, as every writer of leases takes it.
CREATE FUNCTION sendguard_mark_leases_recalled(p_tenant text, p_sender text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_tenant || chr(31) || p_sender, 7));
  UPDATE sending_leases SET recalled = true WHERE tenant_id = p_tenant AND sender = p_sender AND NOT recalled;
END
$$;
