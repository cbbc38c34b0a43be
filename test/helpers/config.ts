import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { parseRawConfig } from '../../config/config.ts';
import { toConfig, type Config } from '../../config/load-config.ts';

/** A new directory for a test, in the run's directory (removed when the run ends). */
export function testDir(prefix: string): string {
  return mkdtempSync(path.join(inject('testDataRoot'), `${prefix}-`));
}

/** A configuration for a server under test: ephemeral ports, its own data dir (in the run's, removed after it). */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  const dataDir = testDir('data');
  return toConfig(
    parseRawConfig({
      NODE_ENV: 'test',
      SENDGUARD_DATA_DIR: dataDir,
      SENDGUARD_HTTP_PORT: '0',
      SENDGUARD_POLICY_PORT: '0',
      SENDGUARD_SMTP_PORT: '0',
      SENDGUARD_LOG_LEVEL: 'silent',
      SENDGUARD_EVENT_POLL_MS: '100',
      ...env,
    }),
  );
}
