import type { OutboundSpamPolicy, PolicyChanges } from '../../db/repos/outbound-spam-policies.ts';
import { ValidationError } from '../restrictions/errors.ts';
import { validAddresses, validLimit, validName } from './policy-validation.ts';

export type ThresholdAction = OutboundSpamPolicy['actionWhenThresholdReached'];

export interface PolicySettings {
  recipientLimitExternalPerHour?: number | undefined;
  recipientLimitInternalPerHour?: number | undefined;
  recipientLimitPerDay?: number | undefined;
  actionWhenThresholdReached?: ThresholdAction | undefined;
  notifyOutboundSpamRecipients?: readonly string[] | undefined;
}

/** A policy's settings as a request gives them, checked before anything is looked up; the CLI's `--what-if` checks them too. */
export function validPolicySettings(s: PolicySettings): PolicyChanges {
  const out: PolicyChanges = {};
  if (s.recipientLimitExternalPerHour != null) out.recipientLimitExternalPerHour = validLimit('recipientLimitExternalPerHour', s.recipientLimitExternalPerHour);
  if (s.recipientLimitInternalPerHour != null) out.recipientLimitInternalPerHour = validLimit('recipientLimitInternalPerHour', s.recipientLimitInternalPerHour);
  if (s.recipientLimitPerDay != null) out.recipientLimitPerDay = validLimit('recipientLimitPerDay', s.recipientLimitPerDay);
  if (s.actionWhenThresholdReached != null) out.actionWhenThresholdReached = s.actionWhenThresholdReached;
  if (s.notifyOutboundSpamRecipients != null) out.notifyOutboundSpamRecipients = validAddresses('notifyOutboundSpamRecipients', s.notifyOutboundSpamRecipients);
  return out;
}

/** A new policy's name and settings, checked (name first) before anything is looked up; the CLI's `--what-if` checks them too. */
export function validNewPolicy(input: { name: string; settings: PolicySettings }): { name: string; settings: PolicyChanges } {
  return { name: validName('name', input.name), settings: validPolicySettings(input.settings) };
}

/** The refusal of a new policy named as one that exists (`existing`: its name as kept; names match in any case). */
export const policyNameTakenError = (existing: string) => new ValidationError('name', `a policy named ${existing} already exists`);

/** Why a policy cannot be deleted, if it cannot: the default one (`Default`) applies to everyone else. */
export function policyRemovalError(policy: Pick<OutboundSpamPolicy, 'name' | 'isDefault'>): ValidationError | undefined {
  return policy.isDefault ? new ValidationError('name', `the ${policy.name} policy cannot be deleted`) : undefined;
}
