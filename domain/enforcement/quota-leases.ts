import type { LeaseExtension, LeaseGrant, LeasedRecipient, LeaseSettlement } from '../../db/repos/sending-counters.ts';

/**
 * The quota this process holds for senders (see migration 0006): a sender with a live lease of
 * the recipient's kind is answered from memory, without a database round trip. A lease never
 * reaches a warning threshold or a limit, so every warning, restriction and refusal is still
 * decided by the database; this only makes the many ordinary acceptances cheap.
 *
 * Per sender, the process is either answering from its leases or waiting for the database:
 * before a recipient goes to the database, the sender's leases are closed and their settlement
 * travels with it, so the decision sees the sender's true counts.
 */

interface Lease {
  readonly id: string;
  readonly tenantId: string;
  readonly sender: string;
  readonly internal: boolean;
  /** Until when the database holds it for us: as granted, or as a usage report extended it. */
  expiresAt: number;
  /** The end of the minute it was granted in, past which no report extends it (migration 0011). */
  endsBy: number;
  left: number;
  messagesLeft: number;
  /**
   * Used since the lease was granted. Reports carry these totals, not increments, so they may
   * land in any order (a usage report still in flight when the lease is closed is harmless).
   */
  used: number;
  usedMessages: number;
  /** `used` as of the last report. */
  reported: number;
  /** When the first recipient not yet reported was accepted (meaningful while `used > reported`). */
  unreportedSince: number;
  /** Recipients accepted since the last report. */
  recipients: LeasedRecipient[];
}

interface SenderLeases {
  internal?: Lease | undefined;
  external?: Lease | undefined;
  /** Recipients of this sender at the database now; while any are, nothing is answered from memory. */
  atDatabase: number;
}

interface Message {
  /** Most messages have one recipient, which needs no set (a set per message made each remembered message 490 bytes of heap instead of 351). */
  first: string;
  /** The others, if any. */
  more: Set<string> | undefined;
  lastSeen: number;
  /** Bumped whenever the message moves to the end of the age order. */
  position: number;
}

export interface LeaseRequest {
  tenantId: string;
  sender: string;
  internal: boolean;
  instance: string | null;
  recipient: string;
  now: Date;
  recipientsPerMessage: number;
}

export type LeaseAnswer = 'accepted' | 'duplicate' | null;

const hasRecipient = (m: Message, recipient: string): boolean => m.first === recipient || (m.more?.has(recipient) ?? false);
const recipientCount = (m: Message): number => 1 + (m.more?.size ?? 0);
function addRecipient(m: Message, recipient: string): void {
  if (m.first !== recipient) (m.more ??= new Set()).add(recipient);
}

const KEY_SEPARATOR = '\u001f';
/** Messages whose recipients are remembered, for duplicates and the per-message limit. */
const MAX_MESSAGES = 50_000;
const MESSAGE_MEMORY_MS = 10 * 60_000;

function settlementOf(lease: Lease, final: boolean): LeaseSettlement {
  const s: LeaseSettlement = {
    lease: lease.id, tenantId: lease.tenantId, sender: lease.sender, internal: lease.internal,
    used: lease.used, usedMessages: lease.usedMessages, final, recipients: lease.recipients, bucket: lease.endsBy - 60_000,
  };
  lease.reported = lease.used;
  lease.recipients = [];
  return s;
}

/** Closes an entry's leases and returns their final reports. */
function closeLeases(entry: SenderLeases): LeaseSettlement[] {
  const closed: LeaseSettlement[] = [];
  for (const lease of [entry.internal, entry.external]) if (lease) closed.push(settlementOf(lease, true));
  entry.internal = undefined;
  entry.external = undefined;
  return closed;
}

export interface LeaseBookOptions {
  /** A lease answering a recipient with this little time left (ms) calls `onNearEnd`. */
  nearEndMs?: number;
  /** Called when a lease near its end that a report could still extend is used, so it can be reported and extended soon. */
  onNearEnd?: () => void;
}

export function createLeaseBook(options: LeaseBookOptions = {}) {
  const { nearEndMs = 0, onNearEnd } = options;
  const senders = new Map<string, SenderLeases>();
  // Insertion order is age order: a message is re-inserted when seen again.
  const messages = new Map<string, Message>();
  let positions = 0;
  // The age order is walked by one long-lived iterator, so every entry is passed once. A new
  // iterator per recipient would start at the front and step over every slot deleted since the
  // map's table was last rebuilt: once 50,000 messages were remembered and each new one pushed the
  // oldest out, that walk took about half of the time of a recipient answered from a lease.
  let walker = messages.entries();
  let oldest: { key: string; message: Message; position: number } | undefined;

  /** The least recently seen message still remembered. */
  function leastRecent(): typeof oldest {
    // Positions are never reused: a different one means the message was forgotten or moved to the end.
    while (!oldest || messages.get(oldest.key)?.position !== oldest.position) {
      let next = walker.next();
      if (next.done) {
        // A finished iterator stays finished: messages added since need a new one.
        walker = messages.entries();
        next = walker.next();
        if (next.done) return (oldest = undefined);
      }
      const [key, message] = next.value;
      oldest = { key, message, position: message.position };
    }
    return oldest;
  }

  const keyOf = (tenantId: string, sender: string) => `${tenantId}${KEY_SEPARATOR}${sender}`;

  function rememberRecipient(tenantId: string, instance: string | null, recipient: string, now: number, atLeast = 0): void {
    if (instance === null) return;
    const key = keyOf(tenantId, instance);
    let m = messages.get(key);
    if (m) {
      messages.delete(key);
      addRecipient(m, recipient);
    } else m = { first: recipient, more: undefined, lastSeen: now, position: 0 };
    // The database may know recipients of this message that this process did not see.
    for (let k = recipientCount(m); k < atLeast; k++) addRecipient(m, `${KEY_SEPARATOR}${k}`);
    m.lastSeen = now;
    m.position = ++positions;
    messages.set(key, m);
    for (let o = leastRecent(); o && (messages.size > MAX_MESSAGES || now - o.message.lastSeen >= MESSAGE_MEMORY_MS); o = leastRecent()) {
      messages.delete(o.key);
    }
  }

  return {
    /**
     * Answers a recipient from memory when a lease covers it: 'accepted' (counted against the
     * lease), 'duplicate' (this message's recipient was already counted), or null when the
     * database has to decide.
     */
    take(r: LeaseRequest): LeaseAnswer {
      const entry = senders.get(keyOf(r.tenantId, r.sender));
      if (!entry || entry.atDatabase > 0) return null;
      const lease = r.internal ? entry.internal : entry.external;
      const now = r.now.getTime();
      if (!lease || lease.left <= 0 || now >= lease.expiresAt) return null;
      const message = r.instance === null ? undefined : messages.get(keyOf(r.tenantId, r.instance));
      if (message && hasRecipient(message, r.recipient)) return 'duplicate';
      if (message && recipientCount(message) >= r.recipientsPerMessage) return null;
      const newMessage = message === undefined;
      if (newMessage && lease.messagesLeft <= 0) return null;
      lease.left--;
      if (lease.used === lease.reported) lease.unreportedSince = now;
      lease.used++;
      if (newMessage) {
        lease.messagesLeft--;
        lease.usedMessages++;
      }
      if (r.instance !== null) lease.recipients.push({ instance: r.instance, recipient: r.recipient, at: now, newMessage });
      rememberRecipient(r.tenantId, r.instance, r.recipient, now);
      if (onNearEnd && lease.expiresAt - now <= nearEndMs && lease.expiresAt < lease.endsBy) onNearEnd();
      return 'accepted';
    },

    /**
     * A recipient goes to the database: closes the sender's leases and returns their settlements,
     * and whether this call may ask for a new lease (only one call per sender at a time does, so
     * this process never holds two leases of a kind).
     */
    toDatabase(tenantId: string, sender: string): { close: LeaseSettlement[]; mayLease: boolean } {
      const key = keyOf(tenantId, sender);
      let entry = senders.get(key);
      if (!entry) {
        entry = { atDatabase: 0 };
        senders.set(key, entry);
      }
      const mayLease = entry.atDatabase === 0;
      entry.atDatabase++;
      return { close: closeLeases(entry), mayLease };
    },

    /**
     * The database answered: remembers an accepted recipient and holds any lease granted with it.
     * Returns the settlement of a lease this one replaces, if any, to be reported.
     */
    fromDatabase(d: { tenantId: string; sender: string; internal: boolean; instance: string | null; recipient: string; now: Date; accepted: boolean; messageRecipients: number; lease: LeaseGrant | null }): LeaseSettlement[] {
      const key = keyOf(d.tenantId, d.sender);
      const entry = senders.get(key) ?? { atDatabase: 1 };
      senders.set(key, entry);
      entry.atDatabase = Math.max(0, entry.atDatabase - 1);
      if (d.accepted) rememberRecipient(d.tenantId, d.instance, d.recipient, d.now.getTime(), d.messageRecipients);
      const replaced: LeaseSettlement[] = [];
      if (d.lease) {
        const lease: Lease = {
          id: d.lease.id, tenantId: d.tenantId, sender: d.sender, internal: d.internal, expiresAt: d.lease.expiresAt.getTime(),
          endsBy: (Math.floor(d.now.getTime() / 60_000) + 1) * 60_000,
          left: d.lease.recipients, messagesLeft: d.lease.messages, used: 0, usedMessages: 0, reported: 0, unreportedSince: 0, recipients: [],
        };
        const old = d.internal ? entry.internal : entry.external;
        if (old) replaced.push(settlementOf(old, true));
        if (d.internal) entry.internal = lease;
        else entry.external = lease;
      }
      if (entry.atDatabase === 0 && !entry.internal && !entry.external) senders.delete(key);
      return replaced;
    },

    /**
     * Reports of leases to send now: usage of live ones (`final: false`, only when more was used
     * since the last report, asking to extend them by `extendMs` from now) and the final report
     * of expired or spent ones, which are dropped. With `maxLagMs`, a live lease's usage waits until its
     * oldest unreported recipient is that old or the lease has half an extension left, so a
     * busy lease is reported about once a second rather than at every look, and still extended
     * before it runs out.
     */
    due(now: Date, extendMs = 0, maxLagMs = 0): LeaseSettlement[] {
      const at = now.getTime();
      const out: LeaseSettlement[] = [];
      for (const [key, entry] of senders) {
        for (const kind of ['internal', 'external'] as const) {
          const lease = entry[kind];
          if (!lease) continue;
          if (at >= lease.expiresAt || lease.left <= 0) {
            out.push(settlementOf(lease, true));
            entry[kind] = undefined;
          } else if (lease.used > lease.reported && (at - lease.unreportedSince >= maxLagMs || lease.expiresAt - at <= extendMs / 2)) {
            const report = settlementOf(lease, false);
            if (extendMs > 0) report.extend = { from: now, to: new Date(at + extendMs) };
            out.push(report);
          }
        }
        if (entry.atDatabase === 0 && !entry.internal && !entry.external) senders.delete(key);
      }
      return out;
    },

    /** The database extended a reported lease: it may be used until then, if still held. */
    extended(report: LeaseSettlement, extension: LeaseExtension): void {
      const lease = senders.get(keyOf(report.tenantId, report.sender))?.[report.internal ? 'internal' : 'external'];
      if (lease?.id === extension.lease) lease.expiresAt = Math.max(lease.expiresAt, extension.until.getTime());
    },

    /** Closes the leases of one sender, of a tenant, or all (policy or restriction changes, recall, stop). */
    close(tenantId?: string, sender?: string): LeaseSettlement[] {
      const close = (key: string, entry: SenderLeases): LeaseSettlement[] => {
        if (entry.atDatabase === 0) senders.delete(key);
        return closeLeases(entry);
      };
      if (tenantId !== undefined && sender !== undefined) {
        const key = keyOf(tenantId, sender);
        const entry = senders.get(key);
        return entry ? close(key, entry) : [];
      }
      const prefix = tenantId === undefined ? '' : keyOf(tenantId, '');
      const out: LeaseSettlement[] = [];
      for (const [key, entry] of senders) if (key.startsWith(prefix)) out.push(...close(key, entry));
      return out;
    },

    /** Senders with a lease now (metrics and tests). */
    get size(): number {
      let n = 0;
      for (const entry of senders.values()) if (entry.internal || entry.external) n++;
      return n;
    },
  };
}

export type LeaseBook = ReturnType<typeof createLeaseBook>;

/** Splits a recall notification's payload (tenant and sender joined as in the lock key). */
export function parseRecall(payload: string): { tenantId: string; sender: string } | null {
  const at = payload.indexOf(KEY_SEPARATOR);
  if (at <= 0 || at === payload.length - 1) return null;
  return { tenantId: payload.slice(0, at), sender: payload.slice(at + 1) };
}
