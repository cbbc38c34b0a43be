import net from 'node:net';

export interface TcpProxy {
  /** The proxy's address, for a URL in place of the target's. */
  port: number;
  /** Stops passing bytes either way, without closing anything: a peer that stopped answering. */
  stall(): void;
  /** Passes the held bytes on, and everything after them. */
  resume(): void;
  close(): Promise<void>;
}

/** A TCP proxy to `target` on loopback that a test can stall, as a network or a host can. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let stalled = false;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
    if (stalled) socket.pause();
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    track(client);
    track(upstream);
    // pipe() resumes a paused source when its destination drains, so data is forwarded by hand.
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stall() {
      stalled = true;
      for (const s of sockets) s.pause();
    },
    resume() {
      stalled = false;
      for (const s of sockets) s.resume();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
