import { peerTargets } from '../peers.ts';
import type { PolicyTarget } from '../target.ts';

/**
 * Everything `npm run bench` measures, in table order. The Sendguard targets (one process on
 * PGlite/PostgreSQL, two processes on PostgreSQL) join this list from `./sendguard.ts`.
 */
export const targets: readonly PolicyTarget[] = [...peerTargets];

/** The target every ratio in the table is relative to. */
export const BASELINE_TARGET = 'postfwd1';
