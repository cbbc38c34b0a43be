import postgres from 'postgres';
import { openDatabase } from '../db/client.ts';
import { provisionTenant } from '../domain/tenants/provision-tenant.ts';

/** Surnames the seeded addresses are built from; each is in 1/SURNAMES.length of them. */
export const SURNAMES = [
  'garcia', 'smith', 'johnson', 'nguyen', 'kowalski', 'muller', 'rossi', 'dubois', 'silva', 'tanaka',
  'okafor', 'larsen', 'novak', 'haddad', 'kim', 'patel', 'ivanova', 'santos', 'murphy', 'schmidt',
] as const;
const GIVEN = ['adele', 'ben', 'chloe', 'diego', 'emma', 'farid', 'grace', 'hugo', 'ines', 'jonas', 'kai', 'lena', 'milo'] as const;

export const tenantIdOf = (t: number): string => `bench-t${String(t).padStart(2, '0')}`;
export const domainOf = (t: number): string => `t${String(t).padStart(2, '0')}.bench.sendguard.test`;

/** The address the seed gives the i-th (1-based) restricted user of tenant t. */
export const seededSender = (t: number, i: number): string =>
  `${GIVEN[i % GIVEN.length]}.${SURNAMES[Math.floor(i / GIVEN.length) % SURNAMES.length]}${i}@${domainOf(t)}`;

/**
 * Provisions `tenants` tenants with the application's own code (settings, accepted domain, default
 * policy, alert policies), then bulk-inserts `perTenant` active limit restrictions in each, shaped
 * the way enforcement writes them, with creation times spread over the last 30 days.
 */
export async function seedRestrictedUsers(databaseUrl: string, o: { tenants: number; perTenant: number }): Promise<void> {
  const database = await openDatabase({ databaseUrl, dataDir: 'memory', maxConnections: 2 });
  try {
    for (let t = 0; t < o.tenants; t++) {
      await provisionTenant(database.db, { id: tenantIdOf(t), name: `Bench tenant ${t}`, acceptedDomains: [domainOf(t)] }, { warningThresholdPercent: 80 });
    }
  } finally {
    await database.close();
  }
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    for (let t = 0; t < o.tenants; t++) {
      await sql`
        insert into restrictions (tenant_id, entity_kind, entity_key, reason_code, exceeded_limit, limit_value,
          internal_recipient_count, external_recipient_count, last_message_recipient_count, policy_id, policy_name, action,
          details, temporary, expires_at, status, created_by, created_at, changed_at)
        select ${tenantIdOf(t)}, 'user',
          (string_to_array(${GIVEN.join(',')}::text, ','))[1 + i % ${GIVEN.length}::int] || '.' || (string_to_array(${SURNAMES.join(',')}::text, ','))[1 + (i / ${GIVEN.length}::int) % ${SURNAMES.length}::int]
            || i || '@' || ${domainOf(t)},
          'SendingLimitExceeded', 'RecipientLimitExternalPerHour', 500, 12, 501, 40, p.id, p.name, 'BlockUser',
          'Exceeded the limit of 500 external recipients per hour of outbound spam policy "Default" (BlockUser).',
          false, null, 'Restricted', 'Sendguard policy',
          now() - (i * interval '25 seconds'), now() - (i * interval '25 seconds')
        from generate_series(1, ${o.perTenant}) as i
        cross join (select id, name from outbound_spam_policies where tenant_id = ${tenantIdOf(t)} and is_default) as p`;
    }
    await sql`analyze`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
