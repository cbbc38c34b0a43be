import { readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { otherNodeReleases, repoRoot } from '../helpers/process.ts';

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  engines?: { node?: string } | string[];
  bin?: Record<string, string> | string;
}

const read = <T>(file: string): T => JSON.parse(readFileSync(path.join(repoRoot, file), 'utf8')) as T;
const pkg = read<{ engines: { node: string }; bin: Record<string, string> }>('package.json');
const lock = read<{ packages: Record<string, LockEntry> }>('package-lock.json');

describe('what npm installs', () => {
  // A dependency's engines field is only a warning at install time (EBADENGINE), so a release of
  // one that dropped an older Node.js would otherwise slip in unnoticed with the next lock update.
  it('every package a production install gets accepts each Node.js release Sendguard supports', () => {
    const oldest = semver.minVersion(pkg.engines.node)?.version;
    expect(oldest).toBe('20.19.0');
    const supported = [oldest as string, ...otherNodeReleases];
    const refusing = Object.entries(lock.packages)
      .filter(([name, entry]) => name !== '' && !entry.dev && entry.engines && !Array.isArray(entry.engines) && entry.engines.node)
      .flatMap(([name, entry]) => {
        const range = (entry.engines as { node: string }).node;
        const refused = supported.filter((v) => !semver.satisfies(v, range));
        return refused.length > 0 ? [`${name}@${entry.version} (node ${range}) refuses ${refused.join(', ')}`] : [];
      });
    expect(refusing).toEqual([]);
  });

  it('the lock file describes the package as package.json does', () => {
    expect(lock.packages['']?.bin).toEqual(pkg.bin);
  });
});
