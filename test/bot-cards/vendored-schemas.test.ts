import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The vendored schemas must stay byte-exact copies of the upstream blobs named in their README. */
const dir = new URL('../fixtures/schemas/', import.meta.url);

function gitBlobSha1(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

describe('vendored schemas', () => {
  it.each([
    ['adaptive-card-1.5.json', '8301d0efef25d6626b52d6e38b20dc81dc59502e'],
    ['teams-host-config-light.json', 'eb6d6053394a5a90e9c237ae73a3d2c6be118d18'],
    ['teams-manifest-1.29.schema.json', '0d3bd2f380bb3501bdc509a25857d85b0526d8f0'],
  ])('%s is the upstream blob', (name, sha) => {
    const readme = readFileSync(new URL('README.md', dir), 'utf8');
    expect(readme).toContain(`\`${name}\``);
    expect(readme).toContain(sha);
    expect(gitBlobSha1(readFileSync(new URL(name, dir)))).toBe(sha);
  });

  it('keeps the manifest schema out of line-ending conversion', () => {
    expect(readFileSync(new URL('.gitattributes', dir), 'utf8')).toMatch(/^teams-manifest-1\.29\.schema\.json -text$/m);
  });
});
