ALTER TABLE "sending_leases" ADD COLUMN "used" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sending_leases" ADD COLUMN "used_messages" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Fix: usage reports were increments, so a report still in flight when the lease was closed
-- gave back quota that had been used, and two policy servers could accept a few recipients over
-- a limit. Reports now carry totals since the grant; the lease keeps the highest seen, and the
-- final one gives back `recipients - max(used)`, whatever order the reports land in. The
-- recipients a report carries are recorded even when the lease is already gone
-- (`p_recipients` = {tenant, sender, internal, rows}). Same signature as in migration 0006.
CREATE OR REPLACE FUNCTION sendguard_settle_lease(p_lease uuid, p_used integer, p_used_messages integer, p_final boolean, p_recipients jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  l sending_leases%ROWTYPE;
  v_used integer;
  v_used_messages integer;
BEGIN
  IF p_recipients IS NOT NULL AND jsonb_array_length(p_recipients -> 'rows') > 0 THEN
    INSERT INTO counted_recipients (tenant_id, instance, recipient, sender, internal, created_at)
    SELECT p_recipients ->> 'tenant', r.instance, r.recipient, p_recipients ->> 'sender', (p_recipients ->> 'internal')::boolean, r.at
      FROM jsonb_to_recordset(p_recipients -> 'rows') AS r(instance text, recipient text, at timestamptz)
    ON CONFLICT DO NOTHING;
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
