import { describe, expect, it } from 'vitest';
import { createLeaseBook, type LeaseRequest } from '../../domain/enforcement/quota-leases.ts';

const tenantId = 'contoso';
const sender = 'adele@contoso.test';
const start = new Date('2026-11-27T10:00:00Z');

/** `take` on a book holding one external lease for `sender`, far larger than anything these tests send. */
function bookWithLease() {
  const book = createLeaseBook();
  book.toDatabase(tenantId, sender);
  book.fromDatabase({
    tenantId, sender, internal: false, instance: null, recipient: 'first@fabrikam.test', now: start, accepted: true, messageRecipients: 0,
    lease: { id: 'lease-1', recipients: 1_000_000, messages: 1_000_000, expiresAt: new Date(start.getTime() + 3_600_000) },
  });
  const take = (instance: string, recipient: string, now = start) => {
    const request: LeaseRequest = { tenantId, sender, internal: false, instance, recipient, now, recipientsPerMessage: 1000 };
    return book.take(request);
  };
  return take;
}

// A message's recipients are remembered so a repeated RCPT (Postfix retrying, or asking twice) is
// not counted again; the memory keeps the 50,000 most recently seen messages of the last 10 minutes.
describe('lease book: remembered messages', () => {
  it('forgets the least recently seen messages past 50,000, and a message seen again counts as recent', () => {
    const take = bookWithLease();
    expect(take('m-old', 'r@fabrikam.test')).toBe('accepted');
    expect(take('m-kept', 'r@fabrikam.test')).toBe('accepted');
    for (let i = 0; i < 40_000; i++) expect(take(`m-${i}`, 'r@fabrikam.test')).toBe('accepted');
    // Seen again: m-kept moves behind the 40,000.
    expect(take('m-kept', 'second@fabrikam.test')).toBe('accepted');
    for (let i = 40_000; i < 50_000; i++) take(`m-${i}`, 'r@fabrikam.test');

    // 50,002 messages were seen: m-old (the oldest) and m-0 (the next, once m-kept moved) are forgotten.
    expect(take('m-kept', 'r@fabrikam.test')).toBe('duplicate');
    expect(take('m-kept', 'second@fabrikam.test')).toBe('duplicate');
    expect(take('m-1', 'r@fabrikam.test')).toBe('duplicate');
    expect(take('m-49999', 'r@fabrikam.test')).toBe('duplicate');
    expect(take('m-old', 'r@fabrikam.test')).toBe('accepted');
    expect(take('m-0', 'r@fabrikam.test')).toBe('accepted');
  });

  it('keeps forgetting the oldest, one for one, as new messages keep coming', () => {
    const take = bookWithLease();
    for (let i = 0; i < 150_000; i++) take(`m-${i}`, 'r@fabrikam.test');
    expect(take('m-100000', 'r@fabrikam.test')).toBe('duplicate');
    expect(take('m-149999', 'r@fabrikam.test')).toBe('duplicate');
    // Forgotten, so remembered again: in the place of m-100000, the oldest left.
    expect(take('m-99999', 'r@fabrikam.test')).toBe('accepted');
    expect(take('m-100000', 'r@fabrikam.test')).toBe('accepted');
    expect(take('m-100002', 'r@fabrikam.test')).toBe('duplicate');
  });

  it('forgets messages last seen 10 minutes ago', () => {
    const take = bookWithLease();
    const at = (ms: number) => new Date(start.getTime() + ms);
    expect(take('m-early', 'r@fabrikam.test', at(0))).toBe('accepted');
    expect(take('m-later', 'r@fabrikam.test', at(60_000))).toBe('accepted');
    expect(take('m-early', 'second@fabrikam.test', at(599_999))).toBe('accepted');
    // m-early was seen again at 599,999 ms; m-later was not, and at 660,000 ms it is 10 minutes old.
    expect(take('m-new', 'r@fabrikam.test', at(660_000))).toBe('accepted');
    expect(take('m-later', 'r@fabrikam.test', at(660_001))).toBe('accepted');
    expect(take('m-early', 'r@fabrikam.test', at(660_002))).toBe('duplicate');
  });

  it('remembers every recipient of a message: each asked again is a duplicate, and the per-message limit counts those the database saw', () => {
    const book = createLeaseBook();
    book.toDatabase(tenantId, sender);
    // The database decided the message's third recipient, and knew two more of it.
    book.fromDatabase({
      tenantId, sender, internal: false, instance: 'm1', recipient: 'c@fabrikam.test', now: start, accepted: true, messageRecipients: 3,
      lease: { id: 'lease-1', recipients: 100, messages: 100, expiresAt: new Date(start.getTime() + 60_000) },
    });
    const take = (instance: string, recipient: string, recipientsPerMessage = 5) =>
      book.take({ tenantId, sender, internal: false, instance, recipient, now: start, recipientsPerMessage });
    expect(take('m1', 'c@fabrikam.test')).toBe('duplicate');
    expect(take('m1', 'd@fabrikam.test')).toBe('accepted');
    expect(take('m1', 'e@fabrikam.test')).toBe('accepted');
    // Five recipients now: a sixth goes to the database, the ones seen stay duplicates.
    expect(take('m1', 'f@fabrikam.test')).toBeNull();
    expect(take('m1', 'd@fabrikam.test')).toBe('duplicate');
    expect(take('m1', 'e@fabrikam.test')).toBe('duplicate');
    // A message of one recipient, then of two.
    expect(take('m2', 'a@fabrikam.test', 2)).toBe('accepted');
    expect(take('m2', 'a@fabrikam.test', 2)).toBe('duplicate');
    expect(take('m2', 'b@fabrikam.test', 2)).toBe('accepted');
    expect(take('m2', 'b@fabrikam.test', 2)).toBe('duplicate');
    expect(take('m2', 'a@fabrikam.test', 2)).toBe('duplicate');
    expect(take('m2', 'z@fabrikam.test', 2)).toBeNull();
    // What the lease reports: the accepted ones, each with the time it was accepted and whether
    // the lease counted a message with it (m1 was counted by the database), and the minute it was counted in.
    const [report] = book.due(new Date(start.getTime() + 1000));
    expect(report?.recipients).toEqual([
      { instance: 'm1', recipient: 'd@fabrikam.test', at: start.getTime(), newMessage: false },
      { instance: 'm1', recipient: 'e@fabrikam.test', at: start.getTime(), newMessage: false },
      { instance: 'm2', recipient: 'a@fabrikam.test', at: start.getTime(), newMessage: true },
      { instance: 'm2', recipient: 'b@fabrikam.test', at: start.getTime(), newMessage: false },
    ]);
    expect(report?.bucket).toBe(Math.floor(start.getTime() / 60_000) * 60_000);
  });
});
