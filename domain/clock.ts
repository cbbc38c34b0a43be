export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** 00:00 UTC of the day after `at`. */
export function nextUtcMidnight(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1));
}
