import net from 'node:net';
import type { Db } from '../../db/client.ts';
import { listRestrictedConnectors, type RestrictedConnector } from '../../db/repos/connectors.ts';
import type { Clock } from '../clock.ts';
import { parseRange } from '../ip-range.ts';
import { NOT_LOADED } from './not-loaded.ts';

interface Loaded {
  loadedAt: number;
  ranges: { list: net.BlockList; connector: RestrictedConnector }[];
}

/** An IPv4 client seen through an IPv6 socket (`::ffff:192.0.2.1`) is matched as IPv4. */
export function normalizeClientAddress(address: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  const plain = address.trim().replace(/^\[|\]$/g, '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const version = net.isIP(plain);
  if (version === 0) return undefined;
  return { address: plain, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * Restricted connectors by client IP range, reloaded at most every `maxAgeMs` (and at once after
 * a connector event), so a released connector is honoured within that time.
 */
export function createConnectorGuard(deps: { db: Db; clock: Clock; maxAgeMs: number; onInvalidRange?: (connectorId: string, range: string) => void; onError?: (err: unknown) => void; onReloaded?: () => void }) {
  let loaded: Loaded | undefined;
  let loading: Promise<Loaded> | undefined;

  function build(rows: RestrictedConnector[]): Loaded {
    const ranges = rows.map((connector) => {
      const list = new net.BlockList();
      for (const text of connector.clientIpRanges) {
        const range = parseRange(text);
        if (!range) deps.onInvalidRange?.(connector.connectorId, text);
        else if (range.prefix === (range.family === 'ipv4' ? 32 : 128)) list.addAddress(range.address, range.family);
        else list.addSubnet(range.address, range.prefix, range.family);
      }
      return { list, connector };
    });
    return { loadedAt: deps.clock.now().getTime(), ranges };
  }

  function reload(): Promise<Loaded> {
    loading ??= listRestrictedConnectors(deps.db, deps.clock.now())
      .then((rows) => (loaded = build(rows)))
      .finally(() => (loading = undefined));
    return loading;
  }

  function matchIn(current: Loaded, client: { address: string; family: 'ipv4' | 'ipv6' }): RestrictedConnector | undefined {
    // A stale list keeps serving while it reloads; only a missing one (start, or an event) is awaited.
    if (deps.clock.now().getTime() - current.loadedAt >= deps.maxAgeMs) {
      reload().then(
        () => deps.onReloaded?.(),
        (err: unknown) => deps.onError?.(err),
      );
    }
    return current.ranges.find((r) => r.list.check(client.address, client.family))?.connector;
  }

  /** The restricted connector whose ranges hold the client address, if any. */
  async function match(clientAddress: string | undefined): Promise<RestrictedConnector | undefined> {
    const client = clientAddress ? normalizeClientAddress(clientAddress) : undefined;
    if (!client) return undefined;
    return matchIn(loaded ?? (await reload()), client);
  }

  /** As `match`, from the list in memory; `NOT_LOADED` when there is none yet (start, or after an event). */
  function matchLoaded(clientAddress: string | undefined): RestrictedConnector | undefined | typeof NOT_LOADED {
    const client = clientAddress ? normalizeClientAddress(clientAddress) : undefined;
    if (!client) return undefined;
    return loaded ? matchIn(loaded, client) : NOT_LOADED;
  }

  return {
    match,
    matchLoaded,
    invalidate(): void {
      loaded = undefined;
    },
  };
}

export type ConnectorGuard = ReturnType<typeof createConnectorGuard>;
