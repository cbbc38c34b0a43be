import { peerTargets } from '../peers.ts';
import type { PolicyTarget } from '../target.ts';
import { sendguardTargets } from './sendguard.ts';

/**
 * Everything `npm run bench` measures, in table order: the peers, then Sendguard (one process on
 * PGlite, one on PostgreSQL, two processes sharing one PostgreSQL database).
 */
export const targets: readonly PolicyTarget[] = [...peerTargets, ...sendguardTargets];

/** The target every ratio in the table is relative to. */
export const BASELINE_TARGET = 'postfwd1';
