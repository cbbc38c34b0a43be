import { z } from 'zod';
import { parseRange } from '../domain/ip-range.ts';
import { canonicalDomain, DOMAIN_NAME } from '../domain/mail-address.ts';

// Digits only: Number() reads ' ' as 0 (no unblock quota, a random port), '0x10' as 16 and '1e3' as 1000.
const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .transform((v, ctx) => {
      if (/^[+-]?\d+$/.test(v)) return Number(v);
      ctx.addIssue({ code: 'invalid_type', expected: 'int', input: v });
      return z.NEVER;
    })
    .pipe(z.number().min(min).max(max));
const port = wholeNumber(0, 65535);
const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']))
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));
const list = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));
// A URL the relay can reach: `mail.internal:25` parses as a URL too (scheme `mail.internal:`) and sent to localhost.
const smarthostUrl = z
  .string()
  .refine((v) => URL.canParse(v) && ['smtp:', 'smtps:'].includes(new URL(v).protocol) && new URL(v).hostname !== '', 'smtp://host[:port] or smtps://host[:port]');
/** A URL of one of these schemes (with a host unless `hostless`); anything else is some other thing's address. */
const urlOf = (protocols: readonly string[], hint: string, options: { hostless?: boolean } = {}) =>
  z
    .string()
    .url()
    .refine((v) => URL.canParse(v) && protocols.includes(new URL(v).protocol) && (options.hostless || new URL(v).hostname !== ''), hint);
// A database on a Unix socket may give no host (postgres:///sendguard?host=/run/postgresql).
const databaseUrl = urlOf(['postgres:', 'postgresql:'], 'postgres://user@host:port/database', { hostless: true });
const httpUrl = (hint: string) => urlOf(['http:', 'https:'], hint);
const networks = list.superRefine((ranges, ctx) => {
  const bad = ranges.find((r) => !parseRange(r));
  if (bad !== undefined) ctx.addIssue({ code: 'custom', message: `${bad} is not an IP address or CIDR range such as 10.0.0.0/8` });
});
const count = (max: number) => wholeNumber(0, max);
// Checked and kept in canonical form, as accepted domains added through the API are: an
// internationalised name (bücher.example) as its ASCII labels, without a trailing dot.
const domainName = z
  .string()
  .transform(canonicalDomain)
  .pipe(z.string().regex(DOMAIN_NAME, 'a domain name such as example.com'));

/**
 * Every setting Sendguard reads, with its default. The README's configuration table is kept
 * in step with this object; `describeSettings()` prints it.
 */
export const settings = {
  NODE_ENV: { schema: z.enum(['development', 'production', 'test']), default: 'development', doc: 'production refuses unsafe settings (SENDGUARD_GRAPHIQL, SENDGUARD_BOT_DEV_NO_AUTH)' },
  DATABASE_URL: { schema: databaseUrl.optional(), default: undefined, doc: 'PostgreSQL (>= 15) URL; unset = embedded PGlite in the data dir' },
  SENDGUARD_DB_POOL_SIZE: { schema: count(100), default: '0', doc: 'connections each process keeps to PostgreSQL; 0 = one more than the CPUs, at least 3 (see Design)' },
  SENDGUARD_DATA_DIR: { schema: z.string().min(1), default: './.sendguard', doc: 'embedded database, signing key' },
  SENDGUARD_LOG_LEVEL: { schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info', doc: 'pino log level' },
  SENDGUARD_SHUTDOWN_TIMEOUT_MS: { schema: wholeNumber(1000, 600_000), default: '20000', doc: 'longest `serve` takes to stop on SIGTERM or SIGINT (quota leases given back, the database closed) before it exits anyway, with status 1; a second signal exits at once' },
  SENDGUARD_HOST: { schema: z.string().min(1), default: '127.0.0.1', doc: 'address every listener binds to' },
  SENDGUARD_HTTP_PORT: { schema: port, default: '4000', doc: 'GraphQL, bot endpoint, health, metrics' },
  SENDGUARD_POLICY_PORT: { schema: port, default: '10040', doc: 'Postfix policy delegation server' },
  SENDGUARD_SMTP_PORT: { schema: port, default: '2525', doc: 'SMTP submission relay' },
  SENDGUARD_SMTP_ENABLED: { schema: bool, default: 'false', doc: 'ask for the SMTP relay; it runs only with SENDGUARD_SMARTHOST, which turns it on by itself' },
  SENDGUARD_SMARTHOST: { schema: smarthostUrl.optional(), default: undefined, doc: 'smtp://host:port the relay forwards accepted mail to' },
  SENDGUARD_RELAY_NETWORKS: { schema: networks, default: '127.0.0.0/8', doc: 'client networks the relay accepts without AUTH (CIDR list)' },
  SENDGUARD_SMTP_HOSTNAME: { schema: domainName.optional(), default: undefined, doc: "the relay's own name (as Postfix's myhostname): its greeting, its EHLO to the smarthost, its Received: lines and the MAILER-DAEMON address of its NDRs; default: this machine's host name" },
  SENDGUARD_TENANT_ID: { schema: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/), default: 'default', doc: 'bootstrap tenant id (Entra tenant id or any stable id)' },
  SENDGUARD_TENANT_NAME: { schema: z.string().min(1).max(128), default: 'Default organization', doc: 'bootstrap tenant display name' },
  SENDGUARD_ACCEPTED_DOMAINS: { schema: list.pipe(z.array(domainName)), default: 'example.com', doc: "bootstrap tenant's accepted domains (comma-separated)" },
  SENDGUARD_LIMIT_RECIPIENTS_PER_DAY: { schema: count(1_000_000), default: '10000', doc: 'service limit: recipients per sender per rolling 24 h (also used when a policy says 0)' },
  SENDGUARD_LIMIT_EXTERNAL_PER_HOUR: { schema: count(1_000_000), default: '500', doc: 'external recipients per hour when a policy says 0' },
  SENDGUARD_LIMIT_INTERNAL_PER_HOUR: { schema: count(1_000_000), default: '10000', doc: 'internal recipients per hour when a policy says 0' },
  SENDGUARD_LIMIT_MESSAGES_PER_MINUTE: { schema: count(1_000_000), default: '30', doc: 'messages per sender per minute; over it: 451 4.7.0 deferral, never a restriction' },
  SENDGUARD_LIMIT_RECIPIENTS_PER_MESSAGE: { schema: count(100_000), default: '500', doc: 'recipients per message; over it: 452 4.5.3' },
  SENDGUARD_UNBLOCK_QUOTA: { schema: count(1000), default: '3', doc: 'releases per user per quota window (0 = no quota)' },
  SENDGUARD_UNBLOCK_QUOTA_WINDOW_DAYS: { schema: wholeNumber(1, 365), default: '30', doc: 'rolling window of the unblock quota, in days' },
  SENDGUARD_WARNING_THRESHOLD_PERCENT: { schema: wholeNumber(1, 99), default: '80', doc: "'Sending limit nearly reached' fires at this share of a limit" },
  SENDGUARD_POLICY_DB_ERROR_ACTION: { schema: z.enum(['defer', 'dunno']), default: 'defer', doc: 'policy reply while the database is unreachable: 451 4.3.5 or DUNNO' },
  SENDGUARD_POLICY_TIMEOUT_MS: {
    schema: wholeNumber(100, 60_000),
    default: '3000',
    doc: "longest a policy request waits for the database before it is answered as SENDGUARD_POLICY_DB_ERROR_ACTION says; keep it well under Postfix's smtpd_policy_service_timeout",
  },
  SENDGUARD_POLICY_UNKNOWN_SENDER_ACTION: { schema: z.enum(['dunno', 'reject']), default: 'dunno', doc: 'sender domain accepted by no tenant: DUNNO or 550 5.7.750' },
  SENDGUARD_SASL_LOGIN_DOMAIN: {
    schema: domainName.optional(),
    default: undefined,
    doc: "domain of a Postfix SASL login that has none (as `smtpd_sasl_local_domain`): `alice` is counted and restricted as alice@this domain, whatever MAIL FROM says; default: the first of SENDGUARD_ACCEPTED_DOMAINS",
  },
  SENDGUARD_POLICY_COMMIT: { schema: z.enum(['durable', 'fast']), default: 'durable', doc: "'durable': a counted recipient is on disk before the answer; 'fast': PostgreSQL commits counts without waiting for the disk (exact still, but a database crash may forget the last fraction of a second)" },
  SENDGUARD_POLICY_LEASE_MS: { schema: wholeNumber(0, 60_000), default: '2000', doc: 'how long a policy server may answer a sender from a quota lease, far from any limit, without the database (0 = every recipient goes to the database)' },
  SENDGUARD_RESTRICTION_CACHE_MS: { schema: wholeNumber(0, 1000), default: '500', doc: 'longest a policy server trusts a cached "restricted" without the database (<= 1000)' },
  SENDGUARD_EXPIRY_INTERVAL_MS: { schema: wholeNumber(100, 3_600_000), default: '5000', doc: 'how often temporary restrictions are checked for expiry' },
  SENDGUARD_EVENT_POLL_MS: { schema: wholeNumber(50, 60_000), default: '500', doc: 'event bus catch-up poll, in case a notification is lost' },
  SENDGUARD_TOKEN_ISSUER: { schema: z.string().min(1), default: 'sendguard', doc: "issuer of Sendguard's own tokens" },
  SENDGUARD_TOKEN_AUDIENCE: { schema: z.string().min(1), default: 'sendguard', doc: "audience of Sendguard's own tokens" },
  SENDGUARD_SIGNING_KEY_FILE: { schema: z.string().optional(), default: undefined, doc: 'PEM/JWK private key for local tokens; default: generated into the data dir' },
  SENDGUARD_OIDC_ISSUER: { schema: httpUrl('an http(s) URL').optional(), default: undefined, doc: 'external OpenID Connect issuer (e.g. Entra ID v2 issuer URL)' },
  SENDGUARD_OIDC_AUDIENCE: { schema: z.string().optional(), default: undefined, doc: 'audience expected in external tokens' },
  SENDGUARD_OIDC_JWKS_URL: { schema: httpUrl('an http(s) URL').optional(), default: undefined, doc: "the issuer's JWKS URL" },
  SENDGUARD_OIDC_ALGORITHMS: { schema: list.pipe(z.array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])).min(1)), default: 'RS256', doc: 'accepted signature algorithms (asymmetric only)' },
  SENDGUARD_GRAPHQL_MAX_BODY_BYTES: { schema: wholeNumber(1024, 10_000_000), default: '102400', doc: 'largest accepted GraphQL request body' },
  SENDGUARD_GRAPHQL_TIMEOUT_MS: { schema: wholeNumber(100, 600_000), default: '15000', doc: 'longest a GraphQL query or mutation runs before it is answered with a TIMEOUT error (HTTP 503); a mutation may still complete after it' },
  SENDGUARD_GRAPHIQL: { schema: bool, default: 'false', doc: 'not in production: serve GraphiQL (bundled, no CDN) to browsers at GET /graphql' },
  SENDGUARD_API_URL: { schema: httpUrl('http(s)://host[:port]/graphql').optional(), default: undefined, doc: 'remote GraphQL URL for a bot running without the API role' },
  SENDGUARD_ALERT_AGGREGATION_SECONDS: { schema: wholeNumber(0, 86_400), default: '60', doc: 'a repeat alert within this interval raises the hit count' },
  SENDGUARD_NOTIFY_SMTP_URL: { schema: smarthostUrl.optional(), default: undefined, doc: 'smtp://host:port for alert e-mail; unset = e-mail notifications are kept pending' },
  SENDGUARD_NOTIFY_FROM: { schema: z.string().email(), default: 'sendguard@localhost.localdomain', doc: 'From address of alert e-mail' },
  MicrosoftAppId: { schema: z.string().optional(), default: undefined, doc: 'Bot Framework app id' },
  MicrosoftAppPassword: { schema: z.string().optional(), default: undefined, doc: 'Bot Framework app secret' },
  MicrosoftAppType: { schema: z.enum(['SingleTenant', 'MultiTenant', 'UserAssignedMSI']), default: 'SingleTenant', doc: 'Bot Framework app type' },
  MicrosoftAppTenantId: { schema: z.string().optional(), default: undefined, doc: "the bot app registration's tenant" },
  SENDGUARD_BOT_ALLOWED_TENANTS: { schema: list, default: '', doc: 'Teams tenants the bot answers (default: every tenant Sendguard knows)' },
  SENDGUARD_BOT_TURN_TIMEOUT_MS: { schema: wholeNumber(500, 14_000), default: '10000', doc: 'longest the bot works on a message or a card action before it answers that it did not finish (Teams gives up after 15 s); a release may still go through' },
  SENDGUARD_BOT_DEV_NO_AUTH: { schema: bool, default: 'false', doc: 'development only: run the bot without Bot Framework authentication' },
} as const;

type Settings = typeof settings;
type Key = keyof Settings;
export type RawConfig = { [K in Key]: z.output<Settings[K]['schema']> };

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly allowed: string,
  ) {
    super(`invalid configuration: ${variable} ${allowed}`);
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value') return `must be one of ${issue.values.map(String).join(', ')}`;
  if (issue.code === 'too_small') return `must be at least ${String(issue.minimum)}`;
  if (issue.code === 'too_big') return `must be at most ${String(issue.maximum)}`;
  if (issue.code === 'invalid_type') return `must be ${issue.expected === 'number' || issue.expected === 'int' ? 'a whole number' : `a ${issue.expected}`}`;
  if (issue.code === 'invalid_format' && issue.format !== 'regex') return `must be a valid ${issue.format}`;
  return `is not valid: ${issue.message}`;
}

export function parseRawConfig(env: Record<string, string | undefined>): RawConfig {
  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings) as [Key, Settings[Key]][]) {
    const given = env[key];
    const value = given === undefined || given === '' ? setting.default : given;
    const parsed = (setting.schema as z.ZodType).safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(key, issue ? describeIssue(issue) : 'is not valid');
    }
    out[key] = parsed.data;
  }
  return out as RawConfig;
}
