import { describe, expect, it } from 'vitest';
import { ConfigError, parseRawConfig, settings } from '../../config/config.ts';
import { toConfig } from '../../config/load-config.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, runSendguard } from '../helpers/process.ts';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = toConfig(parseRawConfig({}), '/srv/sg');
    expect(config.listen).toEqual({ host: '127.0.0.1', httpPort: 4000, policyPort: 10040, smtpPort: 2525 });
    expect(config.dataDir).toBe('/srv/sg/.sendguard');
    expect(config.databaseUrl).toBeUndefined();
    // The pool size is left to the database client, which sizes it for the machine.
    expect(config.databasePoolSize).toBeUndefined();
    expect(config.serviceLimits).toEqual({ recipientsPerDay: 10000, externalPerHour: 500, internalPerHour: 10000, messagesPerMinute: 30, recipientsPerMessage: 500 });
    expect(config.unblockQuota).toEqual({ maxReleases: 3, windowDays: 30 });
    expect(config.smtpRelay.enabled).toBe(false);
  });

  it.each([
    ['SENDGUARD_HTTP_PORT', 'abc', 'SENDGUARD_HTTP_PORT must be a whole number'],
    ['SENDGUARD_POLICY_PORT', '70000', 'SENDGUARD_POLICY_PORT must be at most 65535'],
    ['SENDGUARD_POLICY_DB_ERROR_ACTION', 'maybe', 'SENDGUARD_POLICY_DB_ERROR_ACTION must be one of defer, dunno'],
    ['SENDGUARD_ACCEPTED_DOMAINS', 'contoso.com,not a domain', 'SENDGUARD_ACCEPTED_DOMAINS is not valid: a domain name such as example.com'],
    ['SENDGUARD_SASL_LOGIN_DOMAIN', 'example', 'SENDGUARD_SASL_LOGIN_DOMAIN is not valid: a domain name such as example.com'],
    ['DATABASE_URL', 'nope', 'DATABASE_URL must be a valid url'],
    ['SENDGUARD_DB_POOL_SIZE', '101', 'SENDGUARD_DB_POOL_SIZE must be at most 100'],
    ['SENDGUARD_POLICY_TIMEOUT_MS', '50', 'SENDGUARD_POLICY_TIMEOUT_MS must be at least 100'],
    ['SENDGUARD_DB_POOL_SIZE', 'many', 'SENDGUARD_DB_POOL_SIZE must be a whole number'],
    // A URL all the same, with no host to reach: the relay sent to localhost.
    ['SENDGUARD_SMARTHOST', 'mail.internal:25', 'SENDGUARD_SMARTHOST is not valid: smtp://host[:port] or smtps://host[:port]'],
    ['SENDGUARD_SMARTHOST', 'http://mail.internal', 'SENDGUARD_SMARTHOST is not valid: smtp://host[:port] or smtps://host[:port]'],
    // Left out of the list without a word: those clients were asked to authenticate.
    ['SENDGUARD_RELAY_NETWORKS', '10.0.0.0/8,192.168.0.0/33', 'SENDGUARD_RELAY_NETWORKS is not valid: 192.168.0.0/33 is not an IP address or CIDR range such as 10.0.0.0/8'],
    ['SENDGUARD_RELAY_NETWORKS', '10.0.0.0/8 192.168.0.0/16', 'SENDGUARD_RELAY_NETWORKS is not valid: 10.0.0.0/8 192.168.0.0/16 is not an IP address or CIDR range such as 10.0.0.0/8'],
  ])('refuses %s=%s naming the variable', (name, value, message) => {
    expect(() => parseRawConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseRawConfig({ [name]: value })).toThrow(message);
  });

  it.each([
    // Blank would have been 0: no unblock quota, a random port, a limit of 0.
    ['SENDGUARD_UNBLOCK_QUOTA', ' ', 'SENDGUARD_UNBLOCK_QUOTA must be a whole number'],
    ['SENDGUARD_HTTP_PORT', ' ', 'SENDGUARD_HTTP_PORT must be a whole number'],
    ['SENDGUARD_HTTP_PORT', '0x10', 'SENDGUARD_HTTP_PORT must be a whole number'],
    ['SENDGUARD_LIMIT_RECIPIENTS_PER_DAY', '1e3', 'SENDGUARD_LIMIT_RECIPIENTS_PER_DAY must be a whole number'],
    ['SENDGUARD_HTTP_PORT', '4000.5', 'SENDGUARD_HTTP_PORT must be a whole number'],
  ])('refuses %s=%j, which it would have read as another number', (name, value, message) => {
    expect(() => parseRawConfig({ [name]: value })).toThrow(message);
  });

  it('takes numbers with spaces around them, and yes/no settings in any case', () => {
    const config = toConfig(parseRawConfig({ SENDGUARD_UNBLOCK_QUOTA: ' 5 ', SENDGUARD_HTTP_PORT: '4001\n', SENDGUARD_SMTP_ENABLED: 'TRUE', SENDGUARD_GRAPHIQL: ' Yes ' }));
    expect(config.unblockQuota.maxReleases).toBe(5);
    expect(config.listen.httpPort).toBe(4001);
    expect(config.smtpRelay.enabled).toBe(true);
    expect(config.graphql.graphiql).toBe(true);
  });

  it.each([
    ['DATABASE_URL', 'mysql://db.internal/sendguard', 'DATABASE_URL is not valid: postgres://user@host:port/database'],
    ['SENDGUARD_NOTIFY_SMTP_URL', 'mail.internal:25', 'SENDGUARD_NOTIFY_SMTP_URL is not valid: smtp://host[:port] or smtps://host[:port]'],
    ['SENDGUARD_NOTIFY_SMTP_URL', 'http://mail.internal', 'SENDGUARD_NOTIFY_SMTP_URL is not valid: smtp://host[:port] or smtps://host[:port]'],
    ['SENDGUARD_API_URL', 'api.internal:4000', 'SENDGUARD_API_URL is not valid: http(s)://host[:port]/graphql'],
    ['SENDGUARD_OIDC_ISSUER', 'ftp://login.example', 'SENDGUARD_OIDC_ISSUER is not valid: an http(s) URL'],
    ['SENDGUARD_OIDC_JWKS_URL', 'javascript:alert(1)', 'SENDGUARD_OIDC_JWKS_URL is not valid: an http(s) URL'],
  ])('refuses %s=%j, a URL it cannot use', (name, value, message) => {
    expect(() => parseRawConfig({ [name]: value })).toThrow(message);
  });

  it('takes the URLs it can use', () => {
    const config = toConfig(
      parseRawConfig({
        DATABASE_URL: 'postgresql://sendguard@db.internal:5432/sendguard',
        SENDGUARD_NOTIFY_SMTP_URL: 'smtps://alerts:secret@mail.internal:465',
        SENDGUARD_API_URL: 'https://sendguard.internal/graphql',
        SENDGUARD_OIDC_ISSUER: 'https://login.microsoftonline.com/tenant/v2.0',
      }),
    );
    expect(config.databaseUrl).toBe('postgresql://sendguard@db.internal:5432/sendguard');
    expect(config.alerts.notifySmtpUrl).toBe('smtps://alerts:secret@mail.internal:465');
    expect(config.bot.apiUrl).toBe('https://sendguard.internal/graphql');
    expect(config.auth.oidc?.jwksUrl).toBe('https://login.microsoftonline.com/tenant/v2.0/discovery/v2.0/keys');
  });

  it('takes the smarthost as an smtp:// or smtps:// URL, and the relay networks as addresses and CIDR ranges', () => {
    const config = toConfig(parseRawConfig({ SENDGUARD_SMARTHOST: 'smtps://relay:secret@mail.internal:465', SENDGUARD_RELAY_NETWORKS: '10.0.0.0/8, 2001:db8::/32,192.0.2.7' }));
    expect(config.smtpRelay).toEqual({ enabled: true, smarthost: 'smtps://relay:secret@mail.internal:465', networks: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'] });
  });

  it('qualifies SASL logins without a domain with the first accepted domain unless told another', () => {
    expect(toConfig(parseRawConfig({ SENDGUARD_ACCEPTED_DOMAINS: 'contoso.com,fabrikam.com' })).policyServer.saslLoginDomain).toBe('contoso.com');
    expect(toConfig(parseRawConfig({ SENDGUARD_ACCEPTED_DOMAINS: 'contoso.com', SENDGUARD_SASL_LOGIN_DOMAIN: 'corp.contoso.com' })).policyServer.saslLoginDomain).toBe('corp.contoso.com');
  });

  it('keeps accepted and SASL login domains as accepted domains are kept: lower-case, ASCII labels, no trailing dot', () => {
    const config = toConfig(parseRawConfig({ SENDGUARD_ACCEPTED_DOMAINS: 'Bücher.Example.,CONTOSO.com,contoso.com', SENDGUARD_SASL_LOGIN_DOMAIN: 'corp.bücher.example' }));
    expect(config.bootstrapTenant.acceptedDomains).toEqual(['xn--bcher-kva.example', 'contoso.com']);
    expect(config.policyServer.saslLoginDomain).toBe('corp.xn--bcher-kva.example');
    expect(toConfig(parseRawConfig({ SENDGUARD_ACCEPTED_DOMAINS: 'bücher.example' })).policyServer.saslLoginDomain).toBe('xn--bcher-kva.example');
    expect(() => parseRawConfig({ SENDGUARD_ACCEPTED_DOMAINS: 'bücher..example' })).toThrow('SENDGUARD_ACCEPTED_DOMAINS is not valid: a domain name such as example.com');
  });

  it('takes a PostgreSQL pool size, 0 leaving it to the machine', () => {
    expect(toConfig(parseRawConfig({ SENDGUARD_DB_POOL_SIZE: '4' })).databasePoolSize).toBe(4);
    expect(toConfig(parseRawConfig({ SENDGUARD_DB_POOL_SIZE: '0' })).databasePoolSize).toBeUndefined();
  });

  it('stops start-up with exit code 2 and one line naming the variable', async () => {
    const result = await runSendguard(['serve'], { SENDGUARD_UNBLOCK_QUOTA: '-1', SENDGUARD_DATA_DIR: '/tmp/never-created' });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual(['sendguard: invalid configuration: SENDGUARD_UNBLOCK_QUOTA must be at least 0']);
  });

  it('documents every setting in the README', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const missing = Object.keys(settings).filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
