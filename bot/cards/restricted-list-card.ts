import type { AdaptiveCard, CardAction, CardElement, Container } from './adaptive-card.ts';
import { actionSet, adaptiveCard, column, columns, container, execute, header, run, runs, subtle, text } from './card-elements.ts';
import { formatRelative, formatUtc, plural, truncate } from './format.ts';
import type { ListedRestrictedUser, RestrictedListQuery, RestrictedUserPage, Viewer } from './types.ts';
import { inputIds, verbs } from './verbs.ts';

export interface RestrictedListCardInput {
  page: RestrictedUserPage;
  /** The arguments this page was fetched with. */
  query: RestrictedListQuery;
  viewer: Viewer;
  now: Date;
  refreshUserIds?: readonly string[];
}

/** Rows per page: more would crowd the card and, with the longest addresses, outgrow Teams' 28 KB. Fetch pages of this size. */
export const maxListRows = 10;

function blockLine(user: ListedRestrictedUser, now: Date): string {
  if (!user.temporary) return 'Until an admin releases it';
  return user.expiresAt ? `Temporary: lifts ${formatRelative(user.expiresAt, now)}` : 'Temporary';
}

function row(user: ListedRestrictedUser, now: Date, first: boolean): Container {
  return container(
    [
      columns([
        column(
          [
            runs([run(user.senderAddress, { weight: 'bolder', color: 'accent' })]),
            runs([run(truncate(user.reason, 160))], { spacing: 'none' }),
            subtle(`Since ${formatUtc(user.restrictedAt)} (${formatRelative(user.restrictedAt, now)}) · ${blockLine(user, now)}`, { spacing: 'none' }),
          ],
          { width: 'stretch' },
        ),
        column([text('›', { size: 'large', isSubtle: true })], { width: 'auto', verticalContentAlignment: 'center' }),
      ]),
    ],
    { separator: !first, spacing: first ? 'medium' : 'small', selectAction: execute(verbs.restrictedShow, 'Details', { senderAddress: user.senderAddress }) },
  );
}

function searchBox(search: string | undefined): CardElement[] {
  return [
    columns(
      [
        column([{ type: 'Input.Text', id: inputIds.search, placeholder: 'Search by address or domain', value: search ?? '', maxLength: 320 }], { width: 'stretch' }),
        column([actionSet([execute(verbs.restrictedList, 'Search', {}, { associatedInputs: 'auto' })], 'none')], { width: 'auto' }),
      ],
      { spacing: 'medium' },
    ),
  ];
}

/** Leaves out what is not set, so the card carries no empty keys. */
function listQuery(search: string | undefined, cursor: { after?: string; before?: string } = {}): RestrictedListQuery {
  return { ...(search ? { search } : {}), ...(cursor.after ? { after: cursor.after } : {}), ...(cursor.before ? { before: cursor.before } : {}) };
}

function pagingActions(input: RestrictedListCardInput): CardAction[] {
  const { pageInfo } = input.page;
  const search = input.query.search;
  const actions: CardAction[] = [];
  if (pageInfo.hasPreviousPage && pageInfo.startCursor) {
    actions.push(execute(verbs.restrictedList, 'Previous', listQuery(search, { before: pageInfo.startCursor }), { associatedInputs: 'none' }));
  }
  if (pageInfo.hasNextPage && pageInfo.endCursor) {
    actions.push(execute(verbs.restrictedList, 'Next', listQuery(search, { after: pageInfo.endCursor }), { associatedInputs: 'none' }));
  }
  return actions;
}

function summary(input: RestrictedListCardInput, shown: number): string {
  const { totalCount } = input.page;
  const matching = input.query.search ? ` matching "${input.query.search}"` : '';
  if (totalCount === 0) return input.query.search ? `No restricted users${matching}.` : 'No users are restricted from sending email.';
  const of = shown < totalCount ? `${shown} of ${plural(totalCount, 'restricted user')}` : plural(totalCount, 'restricted user');
  return `${of}${matching}, as of ${formatUtc(input.now)}`;
}

/** The Restricted users list: reason, since when, temporary or not; search and paging; each row opens details. */
export function restrictedListCard(input: RestrictedListCardInput): AdaptiveCard {
  const users = input.page.nodes.slice(0, maxListRows);
  const body: CardElement[] = [
    ...header('Sendguard', ['Restricted users']),
    runs([run(summary(input, users.length), { isSubtle: true, size: 'small' })], { spacing: 'small' }),
    ...searchBox(input.query.search),
    ...users.map((u, i) => row(u, input.now, i === 0)),
  ];
  if (!input.viewer.canManage && users.length > 0) body.push(subtle('You have read-only access: you can review restricted users but not unblock them.', { spacing: 'medium' }));
  return adaptiveCard({
    fallbackText: `Restricted users: ${summary(input, users.length)}`,
    body,
    actions: pagingActions(input),
    refresh: { view: 'restricted.list', ...listQuery(input.query.search, input.query) },
    refreshUserIds: input.refreshUserIds,
    fullWidth: true,
  });
}
