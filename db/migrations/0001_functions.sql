-- The audit log and the event log are append-only, whatever path tries to change them.
CREATE FUNCTION sendguard_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'sendguard: % is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION sendguard_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION sendguard_append_only();
--> statement-breakpoint
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events FOR EACH ROW EXECUTE FUNCTION sendguard_append_only();
--> statement-breakpoint
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION sendguard_append_only();
--> statement-breakpoint
-- Decides and counts one recipient for one counted sender in a single round trip.
-- Every decision for a sender is serialised by a transaction-level advisory lock on the
-- sender, so counts are exact across connections and processes. Refused recipients are not
-- counted. The caller (domain/enforcement) turns the outcome into a reply and a restriction.
CREATE FUNCTION sendguard_record_recipient(
  p_tenant text, p_sender text, p_instance text, p_recipient text, p_internal boolean, p_now timestamptz,
  p_limit_internal_hour integer, p_limit_external_hour integer, p_limit_day integer, p_restricts boolean,
  p_service_day integer, p_messages_per_minute integer, p_recipients_per_message integer
) RETURNS TABLE (
  outcome text, exceeded_limit text, internal_hour integer, external_hour integer, internal_day integer,
  external_day integer, message_recipients integer, restriction_id uuid
) LANGUAGE plpgsql AS $$
DECLARE
  v_minute timestamptz := date_trunc('minute', p_now);
  v_restriction uuid;
  v_int integer; v_ext integer; v_int_day integer; v_ext_day integer; v_day integer; v_minute_msgs integer; v_msg_rcpts integer;
  v_new_message boolean;
  v_exempt boolean;
  v_exceeded text := NULL;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_tenant || chr(31) || p_sender, 7));

  SELECT r.id INTO v_restriction FROM restrictions r
   WHERE r.tenant_id = p_tenant AND r.entity_kind = 'user' AND r.entity_key = p_sender AND r.status = 'Restricted'
     AND (r.expires_at IS NULL OR r.expires_at > p_now);

  SELECT coalesce(sum(c.internal) FILTER (WHERE c.bucket > v_minute - interval '60 minutes'), 0)::int,
         coalesce(sum(c.external) FILTER (WHERE c.bucket > v_minute - interval '60 minutes'), 0)::int,
         coalesce(sum(c.internal), 0)::int,
         coalesce(sum(c.external), 0)::int,
         coalesce(sum(c.messages) FILTER (WHERE c.bucket = v_minute), 0)::int
    INTO v_int, v_ext, v_int_day, v_ext_day, v_minute_msgs
    FROM sending_counters c
   WHERE c.tenant_id = p_tenant AND c.sender = p_sender AND c.bucket > v_minute - interval '1440 minutes';

  v_day := v_int_day + v_ext_day;

  IF v_restriction IS NOT NULL THEN
    RETURN QUERY SELECT 'restricted'::text, NULL::text, v_int, v_ext, v_int_day, v_ext_day, 0, v_restriction;
    RETURN;
  END IF;

  IF p_instance IS NOT NULL THEN
    IF EXISTS (SELECT 1 FROM counted_recipients cr WHERE cr.tenant_id = p_tenant AND cr.instance = p_instance AND cr.recipient = p_recipient) THEN
      RETURN QUERY SELECT 'duplicate'::text, NULL::text, v_int, v_ext, v_int_day, v_ext_day, 0, NULL::uuid;
      RETURN;
    END IF;
    SELECT count(*)::int INTO v_msg_rcpts FROM counted_recipients cr WHERE cr.tenant_id = p_tenant AND cr.instance = p_instance;
  ELSE
    v_msg_rcpts := 0;
  END IF;
  v_new_message := v_msg_rcpts = 0;

  IF v_msg_rcpts >= p_recipients_per_message THEN
    RETURN QUERY SELECT 'too_many_recipients'::text, 'RecipientsPerMessage'::text, v_int, v_ext, v_int_day, v_ext_day, v_msg_rcpts, NULL::uuid;
    RETURN;
  END IF;
  IF v_new_message AND v_minute_msgs >= p_messages_per_minute THEN
    RETURN QUERY SELECT 'rate_deferred'::text, 'MessagesPerMinute'::text, v_int, v_ext, v_int_day, v_ext_day, v_msg_rcpts, NULL::uuid;
    RETURN;
  END IF;

  IF NOT p_internal AND v_ext + 1 > p_limit_external_hour THEN v_exceeded := 'RecipientLimitExternalPerHour';
  ELSIF p_internal AND v_int + 1 > p_limit_internal_hour THEN v_exceeded := 'RecipientLimitInternalPerHour';
  ELSIF v_day + 1 > p_limit_day THEN v_exceeded := 'RecipientLimitPerDay';
  END IF;

  IF v_exceeded IS NOT NULL AND p_restricts THEN
    SELECT EXISTS (SELECT 1 FROM releases rl WHERE rl.tenant_id = p_tenant AND rl.entity_kind = 'user'
                     AND rl.entity_key = p_sender AND rl.limit_exempt_until > p_now) INTO v_exempt;
    IF NOT v_exempt THEN
      RETURN QUERY SELECT 'limit_restrict'::text, v_exceeded, v_int, v_ext, v_int_day, v_ext_day, v_msg_rcpts + 1, NULL::uuid;
      RETURN;
    END IF;
    v_exceeded := NULL;
  END IF;

  IF v_day + 1 > p_service_day THEN
    RETURN QUERY SELECT 'service_limit'::text, 'ServiceRecipientsPerDay'::text, v_int, v_ext, v_int_day, v_ext_day, v_msg_rcpts + 1, NULL::uuid;
    RETURN;
  END IF;

  INSERT INTO sending_counters AS c (tenant_id, sender, bucket, internal, external, messages)
  VALUES (p_tenant, p_sender, v_minute, CASE WHEN p_internal THEN 1 ELSE 0 END, CASE WHEN p_internal THEN 0 ELSE 1 END,
          CASE WHEN v_new_message THEN 1 ELSE 0 END)
  ON CONFLICT (tenant_id, sender, bucket) DO UPDATE
     SET internal = c.internal + excluded.internal, external = c.external + excluded.external, messages = c.messages + excluded.messages;

  IF p_instance IS NOT NULL THEN
    INSERT INTO counted_recipients (tenant_id, instance, recipient, sender, internal, created_at)
    VALUES (p_tenant, p_instance, p_recipient, p_sender, p_internal, p_now);
  END IF;

  IF p_internal THEN v_int := v_int + 1; v_int_day := v_int_day + 1; ELSE v_ext := v_ext + 1; v_ext_day := v_ext_day + 1; END IF;
  RETURN QUERY SELECT CASE WHEN v_exceeded IS NULL THEN 'accepted' ELSE 'accepted_over_limit' END,
                      v_exceeded, v_int, v_ext, v_int_day, v_ext_day, v_msg_rcpts + 1, NULL::uuid;
END
$$;
