import type { Db } from '../../db/client.ts';
import {
  countAlerts,
  findAlert,
  findTenantAlertsByIds,
  listAlertNotifications,
  listAlerts,
  type Alert,
  type AlertListFilter,
  type Notification,
} from '../../db/repos/alerts.ts';
import { findActiveRestriction, findRestrictionById } from '../../db/repos/restrictions.ts';
import { parseIsoDateTime } from '../date-time.ts';
import { isUuid } from '../ids.ts';
import { ValidationError } from '../restrictions/errors.ts';
import { pageRequest, type PageArgs } from '../paging.ts';
import type { RestrictionEnd } from './alert-message.ts';

export const MAX_ALERT_PAGE = 100;
export const DEFAULT_ALERT_PAGE = 50;
/** The most notifications listed for one alert (one per recipient and channel). */
export const MAX_NOTIFICATIONS = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What an admin can filter alerts by; `from` and `to` bound the first-seen time, inclusive. */
export type AlertFilter = Omit<AlertListFilter, 'tenantId'>;

export interface AlertPage {
  nodes: Alert[];
  cursorOf(alert: Alert): string;
  totalCount: number;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

export function encodeAlertCursor(a: Alert): string {
  return Buffer.from(JSON.stringify([a.firstSeenAt.toISOString(), a.id])).toString('base64url');
}

function decodeAlertCursor(cursor: string): { firstSeenAt: Date; id: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && typeof parsed[1] === 'string' && isUuid(parsed[1])) {
      // Only a time the database stores: another would fail the statement, not find no alerts.
      const firstSeenAt = parseIsoDateTime(parsed[0]);
      if (firstSeenAt) return { firstSeenAt, id: parsed[1] };
    }
  } catch {
    // fall through to the typed error
  }
  throw new ValidationError('cursor', 'the cursor is not one this API issued');
}

export function createAlertQueries(deps: { db: Db }) {
  const { db } = deps;

  /**
   * Whether an alert is left on the cursor's other side (its own included): a page after a cursor
   * has one before it only if so, even when the alerts there left the filter since. One row.
   */
  async function anyBehind(base: AlertListFilter, backwards: boolean, after: { firstSeenAt: Date; id: string }): Promise<boolean> {
    const rows = await listAlerts(db, { ...base, ascending: !backwards, after: { ...after, inclusive: true }, limit: 1 });
    return rows.length > 0;
  }

  /** Newest first, keyset-paginated (`first/after` forwards, `last/before` backwards). */
  async function list(tenantId: string, filter: AlertFilter, args: PageArgs): Promise<AlertPage> {
    if (filter.from && filter.to && filter.from > filter.to) throw new ValidationError('from', 'from must not be after to');
    const { size, backwards, cursor } = pageRequest(args, MAX_ALERT_PAGE, DEFAULT_ALERT_PAGE);
    const base = { tenantId, ...filter };
    const after = cursor ? decodeAlertCursor(cursor) : undefined;
    const [rows, totalCount, behind] = await Promise.all([
      listAlerts(db, { ...base, ascending: backwards, after, limit: size + 1 }),
      countAlerts(db, base),
      after ? anyBehind(base, backwards, after) : false,
    ]);
    const more = rows.length > size;
    const page = rows.slice(0, size);
    if (backwards) page.reverse();
    return {
      nodes: page,
      cursorOf: encodeAlertCursor,
      totalCount,
      hasNextPage: backwards ? behind : more,
      hasPreviousPage: backwards ? more : behind,
    };
  }

  return {
    list,
    byId: (tenantId: string, id: string): Promise<Alert | undefined> => (UUID.test(id) ? findAlert(db, tenantId, id) : Promise.resolve(undefined)),
    /** In the order asked; null where missing or of another tenant. */
    async byIds(tenantId: string, ids: readonly string[]): Promise<(Alert | null)[]> {
      const found = new Map((await findTenantAlertsByIds(db, tenantId, ids.filter((id) => UUID.test(id)))).map((a) => [a.id, a]));
      return ids.map((id) => found.get(id) ?? null);
    },
    notifications: (tenantId: string, alertId: string, limit: number = MAX_NOTIFICATIONS): Promise<Notification[]> => listAlertNotifications(db, tenantId, alertId, limit),
    /** How the alert's restriction ended, if it has: an e-mail sent later must not say the sender is still restricted. */
    async restrictionEnd(alert: Alert): Promise<RestrictionEnd | undefined> {
      const restriction = alert.restrictionId ? await findRestrictionById(db, alert.tenantId, alert.restrictionId) : undefined;
      if (!restriction || restriction.status === 'Restricted') return undefined;
      const restrictedAgain = (await findActiveRestriction(db, restriction)) !== undefined;
      return { status: restriction.status, at: restriction.releasedAt ?? restriction.changedAt, by: restriction.releasedBy, restrictedAgain };
    },
  };
}

export type AlertQueries = ReturnType<typeof createAlertQueries>;
