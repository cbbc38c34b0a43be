import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { ConfigError } from './config.ts';

export const DEFAULT_API_URL = 'http://127.0.0.1:4000/graphql';

const apiUrl = z.url({ protocol: /^https?$/ }).transform((value) => {
  const url = new URL(value);
  // `http://host:4000` means the GraphQL endpoint of that server.
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/graphql';
  return url.toString();
});

/**
 * Settings of the admin verbs (`get-blocked-sender-address`, …), which talk to a running Sendguard
 * over HTTP and never open the database. Documented in the README's CLI section.
 */
export const clientSettings = {
  SENDGUARD_URL: { schema: apiUrl, default: DEFAULT_API_URL, doc: 'GraphQL endpoint the admin verbs call' },
  SENDGUARD_TOKEN: { schema: z.string().trim().min(1).optional(), default: undefined, doc: 'bearer token the admin verbs send (or --token)' },
  // Decimal only: Number() reads '0x10' as 16 and '1e3' as 1000.
  SENDGUARD_TIMEOUT: { schema: z.string().trim().regex(/^\d*\.?\d+$/).transform(Number).pipe(z.number().positive().max(3600)), default: '30', doc: 'seconds an admin verb waits for the API, all its requests together (or --timeout)' },
} as const;

export interface ClientConfig {
  url: string;
  token: string | undefined;
  timeoutSeconds: number;
}

/** Parses a timeout in seconds given on the command line the same way as `SENDGUARD_TIMEOUT`. */
export function parseTimeout(value: string | undefined, variable = 'SENDGUARD_TIMEOUT'): number {
  const parsed = clientSettings.SENDGUARD_TIMEOUT.schema.safeParse(value === undefined || value.trim() === '' ? clientSettings.SENDGUARD_TIMEOUT.default : value);
  if (!parsed.success) throw new ConfigError(variable, 'must be a number of seconds greater than 0 and at most 3600');
  return parsed.data;
}

/** Parses an API URL given on the command line the same way as `SENDGUARD_URL`. */
export function parseApiUrl(value: string, variable = 'SENDGUARD_URL'): string {
  const parsed = apiUrl.safeParse(value);
  if (!parsed.success) throw new ConfigError(variable, `must be an http(s) URL such as ${DEFAULT_API_URL}`);
  return parsed.data;
}

/** Reads the client settings from the environment (and `.env` in the working directory, which the environment overrides). */
export function loadClientConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): ClientConfig {
  const dotenvFile = path.join(cwd, '.env');
  const fromFile = existsSync(dotenvFile) ? parseDotenv(readFileSync(dotenvFile)) : {};
  const merged: Record<string, string | undefined> = { ...fromFile, ...env };
  const url = merged.SENDGUARD_URL ? parseApiUrl(merged.SENDGUARD_URL) : clientSettings.SENDGUARD_URL.default;
  const token = clientSettings.SENDGUARD_TOKEN.schema.safeParse(merged.SENDGUARD_TOKEN || undefined);
  if (!token.success) throw new ConfigError('SENDGUARD_TOKEN', 'must not be blank');
  return { url, token: token.data, timeoutSeconds: parseTimeout(merged.SENDGUARD_TIMEOUT) };
}
