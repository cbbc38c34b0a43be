/**
 * The Postfix SMTP access policy delegation protocol (SMTPD_POLICY_README): a request is
 * `name=value` lines ending with an empty line; the reply is `action=…` and an empty line.
 * Attributes the server does not know are ignored; on a malformed request the server sends no
 * reply, logs, and closes the connection.
 */

export type PolicyRequest = ReadonlyMap<string, string>;

export interface ProtocolLimits {
  /** Largest request, in bytes, including its line ends. */
  maxRequestBytes: number;
  maxAttributes: number;
}

export const defaultProtocolLimits: ProtocolLimits = { maxRequestBytes: 16 * 1024, maxAttributes: 1000 };

export class PolicyProtocolError extends Error {
  constructor(
    readonly kind: 'oversized' | 'too-many-attributes' | 'malformed',
    detail: string,
  ) {
    super(detail);
  }
}

const NEWLINE = 0x0a;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]+$/;

/** Turns a byte stream into requests; throws PolicyProtocolError on anything Postfix would not send. */
export class PolicyRequestReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private requestBytes = 0;
  private attributes = new Map<string, string>();

  constructor(private readonly limits: ProtocolLimits = defaultProtocolLimits) {}

  /** Bytes of a request received so far without its terminating empty line. */
  get bufferedBytes(): number {
    return this.requestBytes + this.pendingBytes;
  }

  push(chunk: Buffer): PolicyRequest[] {
    const complete: PolicyRequest[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      const line = this.takeLine(chunk.subarray(start, nl));
      start = nl + 1;
      const request = this.acceptLine(line);
      if (request) complete.push(request);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
      this.checkSize(0);
    }
    return complete;
  }

  private takeLine(tail: Buffer): string {
    const bytes = this.pending.length === 0 ? tail : Buffer.concat([...this.pending, tail]);
    this.pending = [];
    this.pendingBytes = 0;
    this.checkSize(bytes.length + 1);
    this.requestBytes += bytes.length + 1;
    const line = bytes.toString('utf8');
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  }

  private checkSize(extra: number): void {
    const size = this.requestBytes + this.pendingBytes + extra;
    if (size > this.limits.maxRequestBytes) throw new PolicyProtocolError('oversized', `request larger than ${this.limits.maxRequestBytes} bytes`);
  }

  private acceptLine(line: string): PolicyRequest | undefined {
    if (line === '') {
      if (this.attributes.size === 0) throw new PolicyProtocolError('malformed', 'empty request');
      const request = this.attributes;
      this.attributes = new Map();
      this.requestBytes = 0;
      return request;
    }
    const eq = line.indexOf('=');
    const name = eq > 0 ? line.slice(0, eq) : '';
    if (!ATTRIBUTE_NAME.test(name)) throw new PolicyProtocolError('malformed', 'a line is not name=value');
    const value = line.slice(eq + 1);
    if (value.includes('\0')) throw new PolicyProtocolError('malformed', 'NUL in an attribute value');
    this.attributes.set(name, value);
    if (this.attributes.size > this.limits.maxAttributes) throw new PolicyProtocolError('too-many-attributes', `more than ${this.limits.maxAttributes} attributes`);
    return undefined;
  }
}

/** `action=…` followed by the empty line; the action text cannot break the framing. */
export function formatReply(action: string): string {
  return `action=${action.replace(/[\r\n]+/g, ' ')}\n\n`;
}
