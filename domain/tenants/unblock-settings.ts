import type { TenantSettings } from '../../db/repos/tenants.ts';
import { ValidationError } from '../restrictions/errors.ts';

export interface UnblockSettingsChange {
  unblockQuota?: number | null | undefined;
  unblockQuotaWindowDays?: number | null | undefined;
  requireSecondApproval?: boolean | undefined;
}

/** The same bounds as SENDGUARD_UNBLOCK_QUOTA and SENDGUARD_UNBLOCK_QUOTA_WINDOW_DAYS; the CLI's `--what-if` checks them too. */
export function validUnblockSettings(change: UnblockSettingsChange): Partial<Pick<TenantSettings, 'unblockQuota' | 'unblockQuotaWindowDays' | 'requireSecondApproval'>> {
  const { unblockQuota, unblockQuotaWindowDays, requireSecondApproval } = change;
  if (unblockQuota !== undefined && unblockQuota !== null && !(Number.isInteger(unblockQuota) && unblockQuota >= 0 && unblockQuota <= 1000)) {
    throw new ValidationError('unblockQuota', 'unblockQuota must be a whole number from 0 (no quota) to 1000, or null for the deployment default');
  }
  if (unblockQuotaWindowDays !== undefined && unblockQuotaWindowDays !== null && !(Number.isInteger(unblockQuotaWindowDays) && unblockQuotaWindowDays >= 1 && unblockQuotaWindowDays <= 365)) {
    throw new ValidationError('unblockQuotaWindowDays', 'unblockQuotaWindowDays must be a whole number of days from 1 to 365, or null for the deployment default');
  }
  return {
    ...(unblockQuota !== undefined && { unblockQuota }),
    ...(unblockQuotaWindowDays !== undefined && { unblockQuotaWindowDays }),
    ...(requireSecondApproval !== undefined && { requireSecondApproval }),
  };
}
