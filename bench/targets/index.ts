import { peerTargets } from '../peers.ts';
import type { PolicyTarget } from '../target.ts';
import { floorTarget } from './floor.ts';
import { sendguardTargets } from './sendguard.ts';

/**
 * Everything `npm run bench` measures, in table order: the peers, then Sendguard (one process on
 * PGlite, one on PostgreSQL, two processes sharing one PostgreSQL database, each durable and
 * fast), and the floor: a server that answers without deciding, the ceiling of the harness.
 */
export const targets: readonly PolicyTarget[] = [...peerTargets, ...sendguardTargets, floorTarget];

/** The target every ratio in the table is relative to. */
export const BASELINE_TARGET = 'postfwd1';
