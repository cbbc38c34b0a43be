import { describe, expect, it } from 'vitest';
import { createThrottledLog } from '../../domain/throttled-log.ts';

describe('an error that every request meets while the database is away', () => {
  it('is logged at most once every 5 s, each line with how many were left out before it', () => {
    const lines: [object, string][] = [];
    let now = 0;
    const log = createThrottledLog({ error: (obj, msg) => void lines.push([obj, msg ?? '']) }, 5000, () => now);
    const err = new Error('connection refused');
    for (const at of [0, 1000, 2000, 4999, 5000, 5001, 12_000]) {
      now = at;
      log({ err, sender: `s${at}` }, 'check failed');
    }
    expect(lines).toEqual([
      [{ err, sender: 's0', suppressed: 0 }, 'check failed'],
      [{ err, sender: 's5000', suppressed: 3 }, 'check failed'],
      [{ err, sender: 's12000', suppressed: 1 }, 'check failed'],
    ]);
  });
});
