import { describe, expect, it } from 'vitest';
import { defaultProtocolLimits, PolicyProtocolError, PolicyRequestReader, formatReply, ownString, type PolicyRequest } from '../../mail/policy-server/policy-protocol.ts';

// The request reader on its own: how bytes, however the network splits them, become requests.

const request = [
  'request=smtpd_access_policy',
  'protocol_state=RCPT',
  'sender=zoë@contoso.test',
  'recipient=bob@fabrikam.test',
  'instance=1a2b.67f0c1d2.0',
  'ccert_subject=',
  'future_attribute=x=y=z',
].join('\n');

const expected = {
  request: 'smtpd_access_policy',
  protocol_state: 'RCPT',
  sender: 'zoë@contoso.test',
  recipient: 'bob@fabrikam.test',
  instance: '1a2b.67f0c1d2.0',
  ccert_subject: '',
  future_attribute: 'x=y=z',
};

const plain = (requests: PolicyRequest[]) => requests.map((r) => Object.fromEntries(r));

/** Feeds `bytes` in chunks of `size` and returns every request read. */
function read(bytes: Buffer, size: number, reader = new PolicyRequestReader()): Record<string, string>[] {
  const out: PolicyRequest[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...reader.push(bytes.subarray(i, i + size)));
  return plain(out);
}

function failure(bytes: Buffer, limits?: { maxRequestBytes: number; maxAttributes: number }): string {
  try {
    new PolicyRequestReader(limits).push(bytes);
    return 'no error';
  } catch (err) {
    return err instanceof PolicyProtocolError ? `${err.kind}: ${err.message}` : `other: ${(err as Error).message}`;
  }
}

describe('the policy request reader', () => {
  it.each([1, 2, 3, 7, 64, 4096])('reads the same requests whatever the chunk size (%i bytes), UTF-8 split across chunks included', (size) => {
    const bytes = Buffer.from(`${request}\n\n${request}\n\n${request.replace(/\n/g, '\r\n')}\r\n\r\n`);
    expect(read(bytes, size)).toEqual([expected, expected, expected]);
  });

  it('keeps a request that is not finished for the next chunk, and reads nothing before its empty line', () => {
    const reader = new PolicyRequestReader();
    expect(reader.push(Buffer.from(`${request}\n`))).toEqual([]);
    expect(reader.bufferedBytes).toBe(Buffer.byteLength(request) + 1);
    expect(plain(reader.push(Buffer.from('\n')))).toEqual([expected]);
    expect(reader.bufferedBytes).toBe(0);
  });

  it('decodes values as UTF-8, and bytes that are not UTF-8 as replacement characters, as before', () => {
    const bytes = Buffer.concat([Buffer.from('sender=caf'), Buffer.from([0xc3, 0xa9]), Buffer.from('@x.test\nname=\xff\n\n', 'latin1')]);
    expect(read(bytes, 5)).toEqual([{ sender: 'café@x.test', name: '\ufffd' }]);
  });

  it.each([
    ['a line without "="', 'request=smtpd_access_policy\nprotocol_state RCPT\n\n', 'malformed: a line is not name=value'],
    ['an empty name', '=RCPT\n\n', 'malformed: a line is not name=value'],
    ['a name with a space', 'protocol state=RCPT\n\n', 'malformed: a line is not name=value'],
    ['a non-ASCII name', 'séndér=a@b.test\n\n', 'malformed: a line is not name=value'],
    ['a NUL in a value', 'sender=a\0@b.test\n\n', 'malformed: NUL in an attribute value'],
    ['an empty request', '\n', 'malformed: empty request'],
    ['more attributes than allowed', 'a=1\nb=2\nc=3\n\n', 'too-many-attributes: more than 2 attributes'],
    ['a request over the size limit', `sender=${'a'.repeat(100)}\n\n`, 'oversized: request larger than 64 bytes'],
    ['an unfinished line over the size limit', `sender=${'a'.repeat(100)}`, 'oversized: request larger than 64 bytes'],
  ])('refuses %s', (_name, text, error) => {
    expect(failure(Buffer.from(text), { maxRequestBytes: 64, maxAttributes: 2 })).toBe(error);
  });

  it.each([
    ['a malformed line', 'protocol_state RCPT\n\n', 'malformed'],
    ['an unfinished line over the size limit', `sender=${'a'.repeat(100)}`, 'oversized'],
  ])('hands the requests completed before %s in the same chunk to the caller with the error', (_name, bad, kind) => {
    const reader = new PolicyRequestReader({ maxRequestBytes: 64, maxAttributes: 10 });
    expect(plain(reader.push(Buffer.from('sender=a@b.test\n')))).toEqual([]);
    try {
      reader.push(Buffer.from(`recipient=c@d.test\n\nsender=e@f.test\n\n${bad}`));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyProtocolError);
      expect((err as PolicyProtocolError).kind).toBe(kind);
      expect(plain((err as PolicyProtocolError).requestsBefore)).toEqual([{ sender: 'a@b.test', recipient: 'c@d.test' }, { sender: 'e@f.test' }]);
    }
  });

  it('counts a request\'s size over every chunk, and starts again after each request', () => {
    const limits = { maxRequestBytes: 40, maxAttributes: 10 };
    const reader = new PolicyRequestReader(limits);
    const line = 'sender=abcdefghijklmnop@x.test\n'; // 31 bytes
    expect(plain(reader.push(Buffer.from(`${line}\n${line}\n`)))).toHaveLength(2);
    reader.push(Buffer.from(line));
    expect(() => reader.push(Buffer.from('recipient='))).toThrow(PolicyProtocolError);
  });

  it('hands out values to keep that are exactly the values read, short, long or UTF-8', () => {
    const bytes = Buffer.from('sender=a@b.test\nrecipient=someone.with.a.long.name@example.net\ninstance=8A3F1.674F2C11.E2B0.0\nsasl_username=zoë@x.test\n\n');
    const [values] = read(bytes, 4096);
    for (const value of Object.values(values ?? {})) expect(ownString(value)).toBe(value);
    expect(Object.keys(values ?? {})).toHaveLength(4);
    expect(ownString('')).toBe('');
  });

  it('stores only the attributes asked for, and checks every other line all the same', () => {
    const keep = new Set(['sender', 'recipient', 'protocol_state']);
    const bytes = Buffer.from(`${request}\n\n`);
    for (const size of [3, 4096]) {
      expect(read(bytes, size, new PolicyRequestReader(undefined, keep))).toEqual([
        { protocol_state: 'RCPT', sender: 'zoë@contoso.test', recipient: 'bob@fabrikam.test' },
      ]);
    }
    // A request of attributes nobody reads is still a request (answered as outside RCPT).
    expect(read(Buffer.from('ccert_subject=\nfuture_attribute=1\n\n'), 4096, new PolicyRequestReader(undefined, keep))).toEqual([{}]);
    const refused = (text: string, limits = defaultProtocolLimits): string => {
      try {
        new PolicyRequestReader(limits, keep).push(Buffer.from(text));
        return 'no error';
      } catch (err) {
        return err instanceof PolicyProtocolError ? err.kind : 'other';
      }
    };
    expect(refused('sender=a@b.test\nclient name=x\n\n')).toBe('malformed');
    expect(refused('sender=a@b.test\nhelo_name=a\0b\n\n')).toBe('malformed');
    expect(refused('\n')).toBe('malformed');
    expect(refused('a=1\nb=2\nsender=x\n\n', { maxRequestBytes: 64, maxAttributes: 2 })).toBe('too-many-attributes');
    // A kept name that another name begins with, or that begins with another, is told apart.
    const prefixes = new PolicyRequestReader(undefined, new Set(['request', 'sender']));
    expect(plain(prefixes.push(Buffer.from('request_x=1\nrequest=smtpd_access_policy\nsender_domain=x\nsende=y\nsender=a@b.test\n\n'))))
      .toEqual([{ request: 'smtpd_access_policy', sender: 'a@b.test' }]);
    expect(() => new PolicyRequestReader(undefined, new Set(['send(er)']))).toThrow(/not an attribute name/);
  });

  it('formats a reply that cannot break the framing', () => {
    expect(formatReply('DUNNO')).toBe('action=DUNNO\n\n');
    expect(formatReply('550 5.1.8 bad\r\n\r\naction=OK')).toBe('action=550 5.1.8 bad action=OK\n\n');
  });
});
