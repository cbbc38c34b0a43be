import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { schema } from '../../api/schema/index.ts';
import { repoRoot, runSendguard } from '../helpers/process.ts';

describe('the GraphQL schema', () => {
  it('is printed by `sendguard print-schema` exactly as committed in schema.graphql (run `npm run schema:print` after a change)', async () => {
    const printed = await runSendguard(['print-schema'], { SENDGUARD_LOG_LEVEL: 'silent' });
    expect(printed.stderr).toBe('');
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(readFileSync(path.join(repoRoot, 'schema.graphql'), 'utf8'));
  });

  it('declares auth scopes on every root field (default deny)', () => {
    const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
    const fields = roots.flatMap((type) => (type ? Object.values(type.getFields()).map((field) => ({ type: type.name, field })) : []));
    expect(fields.length).toBeGreaterThan(25);
    const unscoped = fields
      .filter(({ field }) => {
        const options = (field.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions;
        const scopes = options?.authScopes;
        return !scopes || (typeof scopes === 'object' && Object.keys(scopes).length === 0);
      })
      .map(({ type, field }) => `${type}.${field.name}`);
    expect(unscoped).toEqual([]);
  });
});
