/**
 * The Postfix SMTP access policy delegation protocol (SMTPD_POLICY_README): a request is
 * `name=value` lines ending with an empty line; the reply is `action=…` and an empty line.
 * Attributes the server does not know are ignored; on a malformed request the server sends no
 * reply, logs, and closes the connection.
 */

export type PolicyRequest = ReadonlyMap<string, string>;

/**
 * An attribute's value as a string of its own, for values kept beyond the request. Values are
 * slices of the request's decoded text, and V8 keeps that whole text (about 1 KB for a Postfix
 * RCPT request) alive while any slice of it lives: a policy process remembering its last 50,000
 * messages held over 30 MB of old requests that way. Joining and slicing again makes V8 copy the
 * characters into a new string and drop the text; strings under 13 characters are copies already.
 */
export function ownString(value: string): string {
  return value.length < 13 ? value : ` ${value}`.slice(1);
}

export interface ProtocolLimits {
  /** Largest request, in bytes, including its line ends. */
  maxRequestBytes: number;
  maxAttributes: number;
}

export const defaultProtocolLimits: ProtocolLimits = { maxRequestBytes: 16 * 1024, maxAttributes: 1000 };

export class PolicyProtocolError extends Error {
  /** The complete requests the same chunk held before the bad one: they are still to be answered. */
  requestsBefore: PolicyRequest[] = [];

  constructor(
    readonly kind: 'oversized' | 'too-many-attributes' | 'malformed',
    detail: string,
  ) {
    super(detail);
  }
}

const NEWLINE = 0x0a;
const CR = 0x0d;
const NAME = '[A-Za-z0-9_.-]+';
/** A name and its "=", matched in place (sticky), so a line's name is never copied just to be checked. */
const ATTRIBUTE_NAME = new RegExp(`${NAME}=`, 'y');

/** Whether `pattern` (sticky) matches `lines` from `start` up to and including the "=" at `eq`. */
function matchesUpTo(pattern: RegExp, lines: string, start: number, eq: number): boolean {
  pattern.lastIndex = start;
  return pattern.test(lines) && pattern.lastIndex === eq + 1;
}
const NON_ASCII = /[\x80-\xff]/;

/**
 * Turns a byte stream into requests; throws PolicyProtocolError on anything Postfix would not send,
 * carrying the requests completed before it in the same chunk.
 *
 * Every request passes through here, so the whole lines of a chunk are decoded at once as
 * latin1 (one character per byte, so offsets are byte counts) and split as a string; only a
 * value holding bytes above 0x7f is decoded again, as UTF-8. Bytes after the last line end wait
 * for the next chunk undecoded, so a UTF-8 sequence split between chunks is never cut.
 */
export class PolicyRequestReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private requestBytes = 0;
  /** Attribute lines of the request so far, kept or not (a repeated attribute counts again). */
  private lines = 0;
  private attributes = new Map<string, string>();

  /** The kept names and their "=", matched in place like ATTRIBUTE_NAME; undefined keeps every attribute. */
  private readonly kept: RegExp | undefined;

  /**
   * `keep`: the attributes the caller reads; the others are checked like every line but not
   * stored. A Postfix RCPT request carries about 25 attributes and a policy decision reads 7:
   * storing all of them was the largest share of what a policy process allocated per request.
   */
  constructor(
    private readonly limits: ProtocolLimits = defaultProtocolLimits,
    keep?: ReadonlySet<string>,
  ) {
    for (const name of keep ?? []) if (!new RegExp(`^${NAME}$`).test(name)) throw new Error(`not an attribute name: ${name}`);
    this.kept = keep && new RegExp(`(?:${[...keep].map((n) => n.replace(/[.]/g, '\\.')).join('|')})=`, 'y');
  }

  /** Bytes of a request received so far without its terminating empty line. */
  get bufferedBytes(): number {
    return this.requestBytes + this.pendingBytes;
  }

  push(chunk: Buffer): PolicyRequest[] {
    const complete: PolicyRequest[] = [];
    try {
      this.read(chunk, complete);
    } catch (err) {
      if (err instanceof PolicyProtocolError) err.requestsBefore = complete;
      throw err;
    }
    return complete;
  }

  private read(chunk: Buffer, complete: PolicyRequest[]): void {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last !== -1) {
      const head = chunk.subarray(0, last + 1);
      const lines = (this.pending.length === 0 ? head : Buffer.concat([...this.pending, head])).toString('latin1');
      this.pending = [];
      this.pendingBytes = 0;
      const ascii = !NON_ASCII.test(lines);
      const clean = !lines.includes('\0');
      for (let start = 0; start < lines.length;) {
        const nl = lines.indexOf('\n', start);
        this.requestBytes += nl - start + 1;
        this.checkSize();
        const end = nl > start && lines.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
        const request = this.acceptLine(lines, start, end, ascii, clean);
        if (request) complete.push(request);
        start = nl + 1;
      }
    }
    if (last + 1 < chunk.length) {
      const rest = chunk.subarray(last + 1);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
      this.checkSize();
    }
  }

  private checkSize(): void {
    if (this.requestBytes + this.pendingBytes > this.limits.maxRequestBytes) throw new PolicyProtocolError('oversized', `request larger than ${this.limits.maxRequestBytes} bytes`);
  }

  /**
   * The line is `lines[start, end)`, latin1-decoded; `ascii` when no byte of `lines` is above 0x7f,
   * `clean` when none is NUL (both looked for once per chunk, not once per line).
   */
  private acceptLine(lines: string, start: number, end: number, ascii: boolean, clean: boolean): PolicyRequest | undefined {
    if (start === end) {
      if (this.lines === 0) throw new PolicyProtocolError('malformed', 'empty request');
      const request = this.attributes;
      this.attributes = new Map();
      this.requestBytes = 0;
      this.lines = 0;
      return request;
    }
    const eq = lines.indexOf('=', start);
    if (eq > end || !matchesUpTo(ATTRIBUTE_NAME, lines, start, eq)) throw new PolicyProtocolError('malformed', 'a line is not name=value');
    if (!clean && lines.slice(eq + 1, end).includes('\0')) throw new PolicyProtocolError('malformed', 'NUL in an attribute value');
    this.lines++;
    if (this.lines > this.limits.maxAttributes) throw new PolicyProtocolError('too-many-attributes', `more than ${this.limits.maxAttributes} attributes`);
    if (this.kept && !matchesUpTo(this.kept, lines, start, eq)) return undefined;
    const name = lines.slice(start, eq);
    let value = lines.slice(eq + 1, end);
    if (!ascii && NON_ASCII.test(value)) value = Buffer.from(value, 'latin1').toString('utf8');
    this.attributes.set(name, value);
    return undefined;
  }
}

/** `action=…` followed by the empty line; the action text cannot break the framing. */
export function formatReply(action: string): string {
  return `action=${action.replace(/[\r\n]+/g, ' ')}\n\n`;
}
