import type { Clock } from '../../domain/clock.ts';

/** A clock the test moves by hand. */
export function manualClock(start: Date | string) {
  let current = new Date(start);
  return {
    now: () => new Date(current),
    set(at: Date | string) {
      current = new Date(at);
    },
    advance(ms: number) {
      current = new Date(current.getTime() + ms);
    },
  } satisfies Clock & Record<string, unknown>;
}
