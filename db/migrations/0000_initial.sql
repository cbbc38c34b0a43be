CREATE TABLE "alert_policies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"severity" text NOT NULL,
	"is_default" boolean DEFAULT true NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"email_enabled" boolean DEFAULT true NOT NULL,
	"recipients" text[] DEFAULT '{TenantAdmins}'::text[] NOT NULL,
	"daily_notification_limit" integer,
	"threshold_percent" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alerts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"policy_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"severity" text NOT NULL,
	"status" text DEFAULT 'New' NOT NULL,
	"title" text NOT NULL,
	"entity_kind" text NOT NULL,
	"entity_key" text NOT NULL,
	"restriction_id" uuid,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"hit_count" integer DEFAULT 1 NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"status_changed_by" text,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"alert_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"recipient" text NOT NULL,
	"status" text DEFAULT 'Pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tenant_id" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"actor_id" text NOT NULL,
	"actor_name" text NOT NULL,
	"actor_roles" text[] DEFAULT '{}'::text[] NOT NULL,
	"source" text NOT NULL,
	"action" text NOT NULL,
	"target_kind" text NOT NULL,
	"target" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"result" text NOT NULL,
	"details" jsonb
);
--> statement-breakpoint
CREATE TABLE "connectors" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"name" text NOT NULL,
	"client_ip_ranges" text[] DEFAULT '{}'::text[] NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tenant_id" text NOT NULL,
	"type" text NOT NULL,
	"entity_kind" text NOT NULL,
	"entity_key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbound_spam_policies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"name" text NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"recipient_limit_external_per_hour" integer DEFAULT 0 NOT NULL,
	"recipient_limit_internal_per_hour" integer DEFAULT 0 NOT NULL,
	"recipient_limit_per_day" integer DEFAULT 0 NOT NULL,
	"action_when_threshold_reached" text DEFAULT 'BlockUserForToday' NOT NULL,
	"notify_outbound_spam_recipients" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbound_spam_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"policy_id" uuid NOT NULL,
	"name" text NOT NULL,
	"priority" integer NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"from" text[] DEFAULT '{}'::text[] NOT NULL,
	"from_member_of" text[] DEFAULT '{}'::text[] NOT NULL,
	"sender_domain_is" text[] DEFAULT '{}'::text[] NOT NULL,
	"except_if_from" text[] DEFAULT '{}'::text[] NOT NULL,
	"except_if_from_member_of" text[] DEFAULT '{}'::text[] NOT NULL,
	"except_if_sender_domain_is" text[] DEFAULT '{}'::text[] NOT NULL,
	"comments" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "relay_credentials" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"username" text NOT NULL,
	"password_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "release_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"restriction_id" uuid NOT NULL,
	"requested_by" text NOT NULL,
	"requested_by_name" text NOT NULL,
	"reason" text NOT NULL,
	"acknowledged_recommendations" text[] DEFAULT '{}'::text[] NOT NULL,
	"status" text DEFAULT 'Pending' NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone,
	"decided_by" text
);
--> statement-breakpoint
CREATE TABLE "releases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"restriction_id" uuid NOT NULL,
	"entity_kind" text NOT NULL,
	"entity_key" text NOT NULL,
	"actor_id" text NOT NULL,
	"actor_name" text NOT NULL,
	"actor_roles" text[] DEFAULT '{}'::text[] NOT NULL,
	"approved_by" text,
	"reason" text NOT NULL,
	"acknowledged_recommendations" text[] DEFAULT '{}'::text[] NOT NULL,
	"released_at" timestamp with time zone NOT NULL,
	"limit_exempt_until" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "restrictions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"entity_kind" text NOT NULL,
	"entity_key" text NOT NULL,
	"reason_code" text NOT NULL,
	"exceeded_limit" text,
	"limit_value" integer,
	"internal_recipient_count" integer DEFAULT 0 NOT NULL,
	"external_recipient_count" integer DEFAULT 0 NOT NULL,
	"last_message_recipient_count" integer,
	"policy_id" uuid,
	"policy_name" text,
	"action" text,
	"details" text,
	"temporary" boolean DEFAULT false NOT NULL,
	"expires_at" timestamp with time zone,
	"status" text DEFAULT 'Restricted' NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"changed_at" timestamp with time zone NOT NULL,
	"released_at" timestamp with time zone,
	"released_by" text,
	"release_reason" text
);
--> statement-breakpoint
CREATE TABLE "role_assignments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"principal_id" text NOT NULL,
	"role" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "counted_recipients" (
	"tenant_id" text NOT NULL,
	"instance" text NOT NULL,
	"recipient" text NOT NULL,
	"sender" text NOT NULL,
	"internal" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "counted_recipients_tenant_id_instance_recipient_pk" PRIMARY KEY("tenant_id","instance","recipient")
);
--> statement-breakpoint
CREATE TABLE "sending_counters" (
	"tenant_id" text NOT NULL,
	"sender" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"internal" integer DEFAULT 0 NOT NULL,
	"external" integer DEFAULT 0 NOT NULL,
	"messages" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "sending_counters_tenant_id_sender_bucket_pk" PRIMARY KEY("tenant_id","sender","bucket")
);
--> statement-breakpoint
CREATE TABLE "sending_warnings" (
	"tenant_id" text NOT NULL,
	"sender" text NOT NULL,
	"limit_type" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sending_warnings_tenant_id_sender_limit_type_window_start_pk" PRIMARY KEY("tenant_id","sender","limit_type","window_start")
);
--> statement-breakpoint
CREATE TABLE "teams_conversations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"conversation_id" text NOT NULL,
	"conversation_type" text NOT NULL,
	"service_url" text NOT NULL,
	"reference" jsonb NOT NULL,
	"subscribed" boolean DEFAULT false NOT NULL,
	"subscribed_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "teams_posted_cards" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"conversation_id" text NOT NULL,
	"activity_id" text NOT NULL,
	"restriction_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "accepted_domains" (
	"tenant_id" text NOT NULL,
	"domain" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "accepted_domains_tenant_id_domain_pk" PRIMARY KEY("tenant_id","domain")
);
--> statement-breakpoint
CREATE TABLE "group_members" (
	"tenant_id" text NOT NULL,
	"group_address" text NOT NULL,
	"member_address" text NOT NULL,
	CONSTRAINT "group_members_tenant_id_group_address_member_address_pk" PRIMARY KEY("tenant_id","group_address","member_address")
);
--> statement-breakpoint
CREATE TABLE "tenant_settings" (
	"tenant_id" text PRIMARY KEY NOT NULL,
	"audit_log_enabled" boolean DEFAULT true NOT NULL,
	"unblock_quota" integer,
	"unblock_quota_window_days" integer,
	"require_second_approval" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "alert_policies" ADD CONSTRAINT "alert_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_policy_id_alert_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."alert_policies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "connectors" ADD CONSTRAINT "connectors_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbound_spam_policies" ADD CONSTRAINT "outbound_spam_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbound_spam_rules" ADD CONSTRAINT "outbound_spam_rules_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbound_spam_rules" ADD CONSTRAINT "outbound_spam_rules_policy_id_outbound_spam_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."outbound_spam_policies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relay_credentials" ADD CONSTRAINT "relay_credentials_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "release_requests" ADD CONSTRAINT "release_requests_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "release_requests" ADD CONSTRAINT "release_requests_restriction_id_restrictions_id_fk" FOREIGN KEY ("restriction_id") REFERENCES "public"."restrictions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "releases" ADD CONSTRAINT "releases_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "releases" ADD CONSTRAINT "releases_restriction_id_restrictions_id_fk" FOREIGN KEY ("restriction_id") REFERENCES "public"."restrictions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restrictions" ADD CONSTRAINT "restrictions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_assignments" ADD CONSTRAINT "role_assignments_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "counted_recipients" ADD CONSTRAINT "counted_recipients_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sending_counters" ADD CONSTRAINT "sending_counters_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sending_warnings" ADD CONSTRAINT "sending_warnings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "teams_conversations" ADD CONSTRAINT "teams_conversations_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "teams_posted_cards" ADD CONSTRAINT "teams_posted_cards_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "accepted_domains" ADD CONSTRAINT "accepted_domains_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_members" ADD CONSTRAINT "group_members_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tenant_settings" ADD CONSTRAINT "tenant_settings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "alert_policies_name_uq" ON "alert_policies" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "alert_policies_default_kind_uq" ON "alert_policies" USING btree ("tenant_id","kind") WHERE "alert_policies"."is_default";--> statement-breakpoint
CREATE INDEX "alerts_list_idx" ON "alerts" USING btree ("tenant_id","status","first_seen_at","id");--> statement-breakpoint
CREATE INDEX "alerts_aggregate_idx" ON "alerts" USING btree ("tenant_id","policy_id","entity_key","last_seen_at");--> statement-breakpoint
CREATE UNIQUE INDEX "notifications_uq" ON "notifications" USING btree ("alert_id","channel","recipient");--> statement-breakpoint
CREATE INDEX "notifications_due_idx" ON "notifications" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "audit_log_tenant_time_idx" ON "audit_log" USING btree ("tenant_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_log_target_idx" ON "audit_log" USING btree ("tenant_id","target");--> statement-breakpoint
CREATE INDEX "audit_log_actor_idx" ON "audit_log" USING btree ("tenant_id","actor_id");--> statement-breakpoint
CREATE UNIQUE INDEX "connectors_name_uq" ON "connectors" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE INDEX "events_tenant_idx" ON "events" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "outbound_spam_policies_name_uq" ON "outbound_spam_policies" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "outbound_spam_policies_default_uq" ON "outbound_spam_policies" USING btree ("tenant_id") WHERE "outbound_spam_policies"."is_default";--> statement-breakpoint
CREATE UNIQUE INDEX "outbound_spam_rules_priority_uq" ON "outbound_spam_rules" USING btree ("tenant_id","priority");--> statement-breakpoint
CREATE UNIQUE INDEX "outbound_spam_rules_name_uq" ON "outbound_spam_rules" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "outbound_spam_rules_policy_uq" ON "outbound_spam_rules" USING btree ("policy_id");--> statement-breakpoint
CREATE UNIQUE INDEX "relay_credentials_username_uq" ON "relay_credentials" USING btree ("username");--> statement-breakpoint
CREATE UNIQUE INDEX "release_requests_pending_uq" ON "release_requests" USING btree ("restriction_id") WHERE "release_requests"."status" = 'Pending';--> statement-breakpoint
CREATE UNIQUE INDEX "releases_restriction_uq" ON "releases" USING btree ("restriction_id");--> statement-breakpoint
CREATE INDEX "releases_entity_idx" ON "releases" USING btree ("tenant_id","entity_kind","entity_key","released_at");--> statement-breakpoint
CREATE UNIQUE INDEX "restrictions_one_active_uq" ON "restrictions" USING btree ("tenant_id","entity_kind","entity_key") WHERE "restrictions"."status" = 'Restricted';--> statement-breakpoint
CREATE INDEX "restrictions_list_idx" ON "restrictions" USING btree ("tenant_id","entity_kind","status","created_at","id");--> statement-breakpoint
CREATE INDEX "restrictions_entity_idx" ON "restrictions" USING btree ("tenant_id","entity_kind","entity_key","created_at");--> statement-breakpoint
CREATE INDEX "restrictions_expiry_idx" ON "restrictions" USING btree ("expires_at") WHERE "restrictions"."status" = 'Restricted' and "restrictions"."temporary";--> statement-breakpoint
CREATE UNIQUE INDEX "role_assignments_uq" ON "role_assignments" USING btree ("tenant_id","principal_id","role");--> statement-breakpoint
CREATE INDEX "counted_recipients_created_idx" ON "counted_recipients" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "sending_counters_bucket_idx" ON "sending_counters" USING btree ("bucket");--> statement-breakpoint
CREATE UNIQUE INDEX "teams_conversations_uq" ON "teams_conversations" USING btree ("tenant_id","conversation_id");--> statement-breakpoint
CREATE INDEX "teams_posted_cards_restriction_idx" ON "teams_posted_cards" USING btree ("restriction_id");--> statement-breakpoint
CREATE UNIQUE INDEX "accepted_domains_domain_uq" ON "accepted_domains" USING btree ("domain");--> statement-breakpoint
CREATE INDEX "group_members_member_idx" ON "group_members" USING btree ("tenant_id","member_address");