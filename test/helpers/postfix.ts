import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const POSTFIX = '/usr/sbin/postfix';
const SWAKS = '/usr/bin/swaks';

/** Why a real Postfix cannot run here, or null when it can (installed, and we are root). */
export function postfixUnavailable(): string | null {
  if (!existsSync(POSTFIX)) return 'postfix is not installed (apt-get install postfix)';
  if (!existsSync(SWAKS)) return 'swaks is not installed (apt-get install swaks)';
  if (process.getuid?.() !== 0) return 'starting postfix needs root';
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export interface RunningPostfix {
  port: number;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

function mainCf(dir: string, policy: string): string {
  return `compatibility_level = 3.6
config_directory = ${dir}/conf
queue_directory = ${dir}/queue
data_directory = ${dir}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = ${dir}/postfix.log
maillog_file_prefixes = ${dir}
myhostname = postfix.sendguard.test
mydomain = sendguard.test
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
default_transport = discard
relay_transport = discard
local_transport = discard
virtual_transport = discard
smtputf8_enable = no
alias_maps =
alias_database =
smtpd_recipient_limit = 1000
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
# Sender restrictions run at each RCPT TO (smtpd_delay_reject = yes, the default), and there
# Postfix keeps the sender status 5.1.8; in recipient restrictions it would rewrite it to 5.1.2.
smtpd_delay_reject = yes
smtpd_sender_restrictions = check_policy_service { ${policy}, timeout=10s, default_action=DUNNO }
`;
}

function masterCf(port: number): string {
  return [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'proxywrite unix - - n - 1 proxymap',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
    '',
  ].join('\n');
}

async function waitForPort(port: number, dir: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`postfix did not open 127.0.0.1:${port}; log:\n${readLog(dir)}`);
}

function readLog(dir: string): string {
  const file = path.join(dir, 'postfix.log');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/**
 * A throw-away Postfix on 127.0.0.1 with its own configuration and queue in a temporary folder:
 * the policy hook, called at each RCPT TO, points at `policy` (e.g. `inet:127.0.0.1:10040`) and
 * every accepted message is discarded.
 */
export async function startPostfix(policy: string): Promise<RunningPostfix> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sendguard-postfix-'));
  chmodSync(dir, 0o755);
  for (const sub of ['conf', 'queue', 'data']) mkdirSync(path.join(dir, sub));
  const postfixUser = await run('id', ['-u', 'postfix']);
  const postfixGroup = await run('id', ['-g', 'postfix']);
  chownSync(path.join(dir, 'data'), Number(postfixUser.stdout), Number(postfixGroup.stdout));
  const port = await freePort();
  writeFileSync(path.join(dir, 'conf/main.cf'), mainCf(dir, policy));
  writeFileSync(path.join(dir, 'conf/master.cf'), masterCf(port));
  await run(POSTFIX, ['-c', path.join(dir, 'conf'), 'check']);
  await run(POSTFIX, ['-c', path.join(dir, 'conf'), 'start']);
  await waitForPort(port, dir);
  return {
    port,
    dir,
    log: () => readLog(dir),
    async stop() {
      await run(POSTFIX, ['-c', path.join(dir, 'conf'), 'stop']).catch(() => undefined);
      // Its processes may still be leaving the queue: a few tries, and a leftover never fails a test.
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      } catch {
        // left in the temp dir
      }
    },
  };
}

export interface SwaksResult {
  /** The server's reply to each RCPT TO, in order (e.g. `250 2.1.5 Ok`). */
  rcptReplies: string[];
  /** The server's reply to the end of DATA, if the transaction got that far. */
  dataReply: string | undefined;
  output: string;
}

/** Sends one message through the Postfix with swaks and reports what the server answered. */
export async function swaks(port: number, from: string, to: string[], options: { quitAfterRcpt?: boolean } = {}): Promise<SwaksResult> {
  const args = ['--server', '127.0.0.1', '--port', String(port), '--helo', 'client.sendguard.test', '--from', from, '--to', to.join(','), '--timeout', '30'];
  if (options.quitAfterRcpt) args.push('--quit-after', 'RCPT');
  const { stdout } = await run(SWAKS, args, { maxBuffer: 16 * 1024 * 1024 }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  const lines = stdout.split('\n');
  const replyAfter = (i: number): string => (lines[i + 1] ?? '').replace(/^\s*<[-~*]+\s*/, '').trim();
  const rcptReplies: string[] = [];
  let dataReply: string | undefined;
  lines.forEach((line, i) => {
    if (/^\s*[-~*]>\s*RCPT TO:/i.test(line)) rcptReplies.push(replyAfter(i));
    if (/^\s*[-~*]>\s*\.\s*$/.test(line)) dataReply = replyAfter(i);
  });
  return { rcptReplies, dataReply, output: stdout };
}
