import { Writable } from 'node:stream';
import { createLogger } from '../../cli/logger.ts';

/** The process's logger writing its JSON lines into memory, as it writes them to stderr. */
export function captureLogs(level = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger(level, stream), lines, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
