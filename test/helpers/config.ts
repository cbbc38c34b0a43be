import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseRawConfig } from '../../config/config.ts';
import { toConfig, type Config } from '../../config/load-config.ts';

/** A configuration for a server under test: ephemeral ports, its own data dir. */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sendguard-test-'));
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
