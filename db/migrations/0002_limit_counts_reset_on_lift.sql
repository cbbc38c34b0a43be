-- Fix: the counts that led to a limit restriction kept counting after it ended. A sender whose
-- BlockUserForToday ended at 00:00 (or whom an admin released) was restricted again by its first
-- recipient, because the rolling windows still held the recipients sent before the restriction.
-- Now the policy limits count only recipients since the sender's latest limit restriction was
-- lifted (released, or expired); the service's rolling 24-hour limit still counts them all.
-- Same signature and result as before (migration 0001); the returned counts are those the policy
-- limits saw, except for `service_limit`, which returns the full 24-hour counts.
CREATE OR REPLACE FUNCTION sendguard_record_recipient(
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
  v_lifted timestamptz;
  v_reset timestamptz;
  v_pint integer; v_pext integer; v_pint_day integer; v_pext_day integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_tenant || chr(31) || p_sender, 7));

  SELECT r.id INTO v_restriction FROM restrictions r
   WHERE r.tenant_id = p_tenant AND r.entity_kind = 'user' AND r.entity_key = p_sender AND r.status = 'Restricted'
     AND (r.expires_at IS NULL OR r.expires_at > p_now);

  SELECT max(CASE WHEN r.status = 'Released' THEN r.released_at ELSE r.expires_at END) INTO v_lifted
    FROM restrictions r
   WHERE r.tenant_id = p_tenant AND r.entity_kind = 'user' AND r.entity_key = p_sender
     AND r.reason_code = 'SendingLimitExceeded'
     AND (r.status IN ('Released', 'Expired') OR (r.status = 'Restricted' AND r.expires_at <= p_now));
  -- Nothing is counted while a sender is restricted, so the minute it was lifted holds only later recipients.
  v_reset := CASE WHEN v_lifted > v_minute - interval '1440 minutes' THEN date_trunc('minute', v_lifted) END;

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
   WHERE c.tenant_id = p_tenant AND c.sender = p_sender AND c.bucket > v_minute - interval '1440 minutes';

  v_day := v_int_day + v_ext_day;

  IF v_restriction IS NOT NULL THEN
    RETURN QUERY SELECT 'restricted'::text, NULL::text, v_pint, v_pext, v_pint_day, v_pext_day, 0, v_restriction;
    RETURN;
  END IF;

  IF p_instance IS NOT NULL THEN
    IF EXISTS (SELECT 1 FROM counted_recipients cr WHERE cr.tenant_id = p_tenant AND cr.instance = p_instance AND cr.recipient = p_recipient) THEN
      RETURN QUERY SELECT 'duplicate'::text, NULL::text, v_pint, v_pext, v_pint_day, v_pext_day, 0, NULL::uuid;
      RETURN;
    END IF;
    SELECT count(*)::int INTO v_msg_rcpts FROM counted_recipients cr WHERE cr.tenant_id = p_tenant AND cr.instance = p_instance;
  ELSE
    v_msg_rcpts := 0;
  END IF;
  v_new_message := v_msg_rcpts = 0;

  IF v_msg_rcpts >= p_recipients_per_message THEN
    RETURN QUERY SELECT 'too_many_recipients'::text, 'RecipientsPerMessage'::text, v_pint, v_pext, v_pint_day, v_pext_day, v_msg_rcpts, NULL::uuid;
    RETURN;
  END IF;
  IF v_new_message AND v_minute_msgs >= p_messages_per_minute THEN
    RETURN QUERY SELECT 'rate_deferred'::text, 'MessagesPerMinute'::text, v_pint, v_pext, v_pint_day, v_pext_day, v_msg_rcpts, NULL::uuid;
    RETURN;
  END IF;

  IF NOT p_internal AND v_pext + 1 > p_limit_external_hour THEN v_exceeded := 'RecipientLimitExternalPerHour';
  ELSIF p_internal AND v_pint + 1 > p_limit_internal_hour THEN v_exceeded := 'RecipientLimitInternalPerHour';
  ELSIF v_pint_day + v_pext_day + 1 > p_limit_day THEN v_exceeded := 'RecipientLimitPerDay';
  END IF;

  IF v_exceeded IS NOT NULL AND p_restricts THEN
    SELECT EXISTS (SELECT 1 FROM releases rl WHERE rl.tenant_id = p_tenant AND rl.entity_kind = 'user'
                     AND rl.entity_key = p_sender AND rl.limit_exempt_until > p_now) INTO v_exempt;
    IF NOT v_exempt THEN
      RETURN QUERY SELECT 'limit_restrict'::text, v_exceeded, v_pint, v_pext, v_pint_day, v_pext_day, v_msg_rcpts + 1, NULL::uuid;
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

  IF p_internal THEN v_pint := v_pint + 1; v_pint_day := v_pint_day + 1; ELSE v_pext := v_pext + 1; v_pext_day := v_pext_day + 1; END IF;
  RETURN QUERY SELECT CASE WHEN v_exceeded IS NULL THEN 'accepted' ELSE 'accepted_over_limit' END,
                      v_exceeded, v_pint, v_pext, v_pint_day, v_pext_day, v_msg_rcpts + 1, NULL::uuid;
END
$$;
