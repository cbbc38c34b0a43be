import type { Db } from '../../db/client.ts';
import { findTenantByDomain } from '../../db/repos/tenants.ts';
import type { Actor } from '../actor.ts';
import type { Clock } from '../clock.ts';
import { validAddresses, validText } from '../policies/policy-validation.ts';
import { ValidationError } from './errors.ts';
import type { RestrictResult, RestrictionService } from './restriction-service.ts';

export const manualReasons = ['ManualBlock', 'SuspectedCompromise'] as const;
export type ManualReason = (typeof manualReasons)[number];

export interface ManualRestrictCommand {
  tenantId: string;
  senderAddress: string;
  reasonCode: ManualReason;
  details?: string | undefined;
  /** A temporary block ends by itself at this time; without it the block lasts until released. */
  expiresAt?: Date | undefined;
  actor: Actor;
}

/**
 * An admin restricts one of the tenant's own senders (e.g. an account found compromised elsewhere).
 * A sender already restricted until released, or at least as long as asked, keeps that
 * restriction and nothing is written; one restricted for less time (e.g. BlockUserForToday) has
 * that restriction extended to the block's end, so it cannot send again when it would have ended.
 */
export function createManualRestriction(deps: { db: Db; clock: Clock; restrictions: Pick<RestrictionService, 'restrict'> }) {
  return async function restrictUser(cmd: ManualRestrictCommand): Promise<RestrictResult> {
    const [address] = validAddresses('senderAddress', [cmd.senderAddress]);
    if (!address) throw new ValidationError('senderAddress', 'senderAddress is required');
    const owner = await findTenantByDomain(deps.db, address.slice(address.lastIndexOf('@') + 1));
    if (owner?.tenantId !== cmd.tenantId) throw new ValidationError('senderAddress', `${address} is not in one of your accepted domains`);
    if (cmd.expiresAt && cmd.expiresAt <= deps.clock.now()) throw new ValidationError('expiresAt', 'expiresAt must be in the future');
    return deps.restrictions.restrict({
      tenantId: cmd.tenantId,
      entityKind: 'user',
      entityKey: address,
      reasonCode: cmd.reasonCode,
      details: cmd.details === undefined ? null : validText('details', cmd.details, 1000),
      temporary: cmd.expiresAt !== undefined,
      expiresAt: cmd.expiresAt ?? null,
      actor: cmd.actor,
      extend: true,
    });
  };
}
