-- counted_recipients: no foreign key to tenants, and a BRIN index for the pruner (see db/schema/sending-counters.ts).
ALTER TABLE "counted_recipients" DROP CONSTRAINT "counted_recipients_tenant_id_tenants_id_fk";
--> statement-breakpoint
DROP INDEX "counted_recipients_created_idx";--> statement-breakpoint
CREATE INDEX "counted_recipients_created_idx" ON "counted_recipients" USING brin ("created_at");