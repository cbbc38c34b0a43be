import type { Db } from '../../db/client.ts';
import { insertAlertPoliciesIfMissing, type NewAlertPolicy } from '../../db/repos/alert-policies.ts';
import { insertDefaultPolicyIfMissing } from '../../db/repos/outbound-spam-policies.ts';
import { addAcceptedDomains, insertTenantIfMissing } from '../../db/repos/tenants.ts';
import { refuseOverlappingDomains } from './domain-overlap.ts';

export interface TenantSpec {
  id: string;
  name: string;
  acceptedDomains: string[];
}

/** The default alert policies of every tenant (DESIGN §4.5). */
export function defaultAlertPolicies(tenantId: string, warningThresholdPercent: number): NewAlertPolicy[] {
  return [
    { tenantId, kind: 'UserRestricted', name: 'User restricted from sending email', severity: 'High' },
    { tenantId, kind: 'SendingLimitExceeded', name: 'Email sending limit exceeded', severity: 'Medium' },
    { tenantId, kind: 'SendingLimitNearlyReached', name: 'Sending limit nearly reached', severity: 'Medium', thresholdPercent: warningThresholdPercent },
  ];
}

/**
 * Creates a tenant with its settings, accepted domains, default outbound spam policy
 * (0/0/0, BlockUserForToday) and default alert policies. Safe to run on every start. A domain
 * that would take senders from another organisation is refused with a ValidationError, and
 * nothing is created.
 */
export async function provisionTenant(db: Db, spec: TenantSpec, options: { warningThresholdPercent: number }): Promise<{ created: boolean }> {
  return db.transaction(async (tx) => {
    const created = await insertTenantIfMissing(tx, { id: spec.id, name: spec.name });
    await refuseOverlappingDomains(tx, spec.id, spec.acceptedDomains);
    await addAcceptedDomains(tx, spec.id, spec.acceptedDomains);
    await insertDefaultPolicyIfMissing(tx, spec.id);
    await insertAlertPoliciesIfMissing(tx, defaultAlertPolicies(spec.id, options.warningThresholdPercent));
    return { created };
  });
}
