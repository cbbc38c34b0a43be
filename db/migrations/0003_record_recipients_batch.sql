-- Decides and counts many recipients in one round trip and one transaction: a policy server
-- under load sends every RCPT that arrived while its previous call was running as one batch,
-- so the commit and the round trip are shared. Each item is decided exactly as a call to
-- `sendguard_record_recipient` would decide it, in the order given, and the result says which
-- item (`ord`, from 1) each row answers. Every sender's advisory lock is taken first, in key
-- order, so batches from several processes cannot deadlock; counts stay exact across them.
-- `p_durable = false` commits this transaction without waiting for the WAL flush
-- (SENDGUARD_POLICY_COMMIT=fast): counts stay exact and visible to every process at once, but a
-- PostgreSQL crash may forget the last fraction of a second of counted recipients.
CREATE FUNCTION sendguard_record_recipients(p_items jsonb, p_durable boolean DEFAULT true) RETURNS TABLE (
  ord integer, outcome text, exceeded_limit text, internal_hour integer, external_hour integer, internal_day integer,
  external_day integer, message_recipients integer, restriction_id uuid
) LANGUAGE plpgsql AS $$
DECLARE
  v_key bigint;
  v_item record;
  v_n integer := 0;
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
      service_day integer, messages_per_minute integer, recipients_per_message integer)
  LOOP
    v_n := v_n + 1;
    RETURN QUERY SELECT v_n, r.* FROM sendguard_record_recipient(
      v_item.tenant, v_item.sender, v_item.instance, v_item.recipient, v_item.internal, v_item.at,
      v_item.limit_internal_hour, v_item.limit_external_hour, v_item.limit_day, v_item.restricts,
      v_item.service_day, v_item.messages_per_minute, v_item.recipients_per_message) AS r;
  END LOOP;
END
$$;
