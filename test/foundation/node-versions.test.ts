import { existsSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyClient, rcptRequest } from '../helpers/policy-client.ts';
import { postGraphQL } from '../helpers/graphql.ts';
import { otherNodeReleases, repoRoot, runSendguard, sendguardLauncher, startServerProcess } from '../helpers/process.ts';
import { testDir } from '../helpers/config.ts';

// Sendguard runs on Node.js 20 and later releases: each release listed in scripts/test-nodes.json
// (installed under .cache/node by `node scripts/fetch-node.js`, as .ci/run does) runs the user's
// path here, started as `npm start` starts it. The rest of the suite runs on the node running it.
const nodeDir = (version: string): string => path.join(repoRoot, '.cache', 'node', version, 'bin');
const installed = (version: string): boolean => existsSync(path.join(nodeDir(version), 'node'));
// Locally a release not installed is skipped; CI installs them, so there a missing one fails.
const required = Boolean(process.env.CI);

const LIST = `query($search: String!) { restrictedUsers(first: 5, filter: { search: $search }) { totalCount edges { node { senderAddress status reasonCode } } } }`;
const UNBLOCK = `mutation($input: UnblockUserInput!) { unblockUser(input: $input) { __typename ... on UnblockUserSuccess { restrictedUser { senderAddress status } } ... on Error { message } } }`;

describe.each(otherNodeReleases)('on Node.js %s', (version) => {
  it.skipIf(!installed(version) && !required)(`restricts a sender over its limit, lists it, releases it and lets it send again (needs node ${version} installed by \`node scripts/fetch-node.js\`)`, async () => {
    expect(installed(version), `node ${version} is not installed under .cache/node: run node scripts/fetch-node.js`).toBe(true);
    const env = {
      PATH: `${nodeDir(version)}${path.delimiter}${process.env.PATH ?? ''}`,
      DATABASE_URL: '',
      SENDGUARD_DATA_DIR: testDir(`node-${version}`),
      SENDGUARD_HTTP_PORT: '0',
      SENDGUARD_POLICY_PORT: '0',
      // Its start-up steps are logged, so a start that times out shows how far it got.
      SENDGUARD_LOG_LEVEL: 'info',
      SENDGUARD_TENANT_ID: 'contoso',
      SENDGUARD_ACCEPTED_DOMAINS: 'contoso.com',
      SENDGUARD_LIMIT_EXTERNAL_PER_HOUR: '3',
    };
    // From the sources through tsx, creating its embedded database: about 10 s alone, several
    // times that beside the rest of the suite.
    const server = await startServerProcess(['--only', 'api,policy'], env, ['http', 'policy'], sendguardLauncher, 120_000);
    const policy = await PolicyClient.connect(Number(new URL(server.urls.policy as string).port));
    try {
      // The launcher execs the node found first on PATH: the server is that release.
      expect(readlinkSync(`/proc/${server.child.pid}/exe`)).toBe(path.join(nodeDir(version), 'node'));

      const sender = 'ann@contoso.com';
      const ask = (n: number) => policy.ask(rcptRequest({ sender, recipient: `r${n}@fabrikam.test`, instance: `m${n}` }));
      const replies = [];
      for (let n = 1; n <= 4; n++) replies.push(await ask(n));
      expect(replies).toEqual(['DUNNO', 'DUNNO', 'DUNNO', '550 5.1.8 Access denied, bad outbound sender']);

      const token = await runSendguard(['token', '--tenant', 'contoso', '--principal', 'adele@contoso.com', '--role', 'Security Administrator'], env, undefined, sendguardLauncher);
      expect(token.code, token.stderr).toBe(0);
      const gql = async (query: string, variables: Record<string, unknown>) => (await postGraphQL(`${server.urls.http}/graphql`, token.stdout.trim(), { query, variables })).body;
      expect(await gql(LIST, { search: 'ann' })).toEqual({
        data: { restrictedUsers: { totalCount: 1, edges: [{ node: { senderAddress: sender, status: 'RESTRICTED', reasonCode: 'SENDING_LIMIT_EXCEEDED' } }] } },
      });
      expect(await gql(UNBLOCK, { input: { senderAddress: sender, reason: 'password reset, MFA on' } })).toEqual({
        data: { unblockUser: { __typename: 'UnblockUserSuccess', restrictedUser: { senderAddress: sender, status: 'RELEASED' } } },
      });
      expect(await ask(5)).toBe('DUNNO');
    } finally {
      policy.close();
      expect(await server.stop()).toBe(0);
    }
  }, 180_000);
});
