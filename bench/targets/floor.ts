import { spawn } from 'node:child_process';
import { freePort, stopPid, waitForPort } from '../proc.ts';
import type { PolicyTarget } from '../target.ts';

// A Node.js policy server that reads each request and answers DUNNO without deciding anything:
// what this machine, this load generator and loopback TCP allow at all. It enforces no limit, so
// it only takes part in the scenarios where every request is accepted; it is the ceiling any
// real policy server here can approach, not a competitor.
const FLOOR_SERVER = `
const net = require('node:net');
const server = net.createServer((socket) => {
  let buffered = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk) => {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf('\\n\\n')) !== -1) {
      buffered = buffered.slice(end + 2);
      socket.write('action=DUNNO\\n\\n');
    }
  });
  socket.on('error', () => socket.destroy());
});
server.listen(Number(process.argv[1]), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

export const floorTarget: PolicyTarget = {
  name: 'floor-dunno',
  scenarios: ['B', 'C', 'D'],
  describe: async () => `a Node.js ${process.version} server answering DUNNO to every request without looking at it (the ceiling of this machine and harness; enforces nothing)`,
  async start() {
    const port = await freePort();
    const child = spawn(process.execPath, ['-e', FLOOR_SERVER, String(port)], { stdio: 'ignore' });
    let exited = false;
    child.once('exit', () => { exited = true; });
    await waitForPort(port, 10_000, () => !exited);
    const pid = child.pid ?? 0;
    return { port, pids: [pid], stop: () => stopPid(pid, 'SIGTERM') };
  },
};
