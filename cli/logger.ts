import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stderr, so stdout stays for command output. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'sendguard' } }, pino.destination(2));
}
