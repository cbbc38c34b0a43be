-- An event that raised no alert because alerts were off (the tenant's audit log, or the policy) is
-- marked handled in its alert stream, so a catch-up on start does not raise it later.
CREATE TABLE "alert_stream_marks" (
	"tenant_id" text NOT NULL,
	"policy_id" uuid NOT NULL,
	"entity_kind" text NOT NULL,
	"entity_key" text NOT NULL,
	"last_event_id" bigint NOT NULL,
	CONSTRAINT "alert_stream_marks_tenant_id_policy_id_entity_kind_entity_key_pk" PRIMARY KEY("tenant_id","policy_id","entity_kind","entity_key")
);
--> statement-breakpoint
ALTER TABLE "alert_stream_marks" ADD CONSTRAINT "alert_stream_marks_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_stream_marks" ADD CONSTRAINT "alert_stream_marks_policy_id_alert_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."alert_policies"("id") ON DELETE cascade ON UPDATE no action;