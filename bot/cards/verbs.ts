import type { RecommendationKind } from './types.ts';

/** `Action.Execute` verbs: one handler per verb in `bot/actions/<verb>.ts`. */
export const verbs = {
  helpShow: 'help.show',
  restrictedList: 'restricted.list',
  restrictedShow: 'restricted.show',
  unblockRecommendations: 'unblock.recommendations',
  /** The recommendations card's Submit: carries the toggles and the reason as inputs. */
  unblockSubmit: 'unblock.submit',
  /** The confirmation card's Yes: the only verb that releases a sender. */
  unblockConfirm: 'unblock.confirm',
  unblockCancel: 'unblock.cancel',
  policiesList: 'policies.list',
  noticesSubscribe: 'notices.subscribe',
  noticesUnsubscribe: 'notices.unsubscribe',
  cardRefresh: 'card.refresh',
} as const;

export type Verb = (typeof verbs)[keyof typeof verbs];

/** Ids of the inputs whose values Teams merges into an action's data. */
export const inputIds = {
  search: 'search',
  reason: 'reason',
} as const;

/** Input.Toggle id for acknowledging one recommendation; its value is `"true"` or `"false"`. */
export function acknowledgementInputId(kind: RecommendationKind): `ack_${RecommendationKind}` {
  return `ack_${kind}`;
}

export type EmptyData = Record<string, never>;

/** `search` also arrives as the search box's value when the Search button is used. */
export interface RestrictedListData {
  search?: string;
  after?: string;
  before?: string;
}

export interface SenderData {
  senderAddress: string;
}

/** Names the restriction the card was built for, so a stale or double click cannot act on a newer one. */
export interface RestrictionData extends SenderData {
  restrictionId: string;
}

export interface UnblockConfirmData extends RestrictionData {
  acknowledgedRecommendations: RecommendationKind[];
  reason: string;
}

/** What a card shows, so `card.refresh` can rebuild it with current data. */
export type RefreshData =
  | ({ view: 'restricted.list' } & RestrictedListData)
  | ({ view: 'restriction.details' } & SenderData)
  | ({ view: 'unblock.recommendations' } & RestrictionData)
  | ({ view: 'unblock.confirm' } & UnblockConfirmData)
  | ({ view: 'restriction.notice' } & RestrictionData)
  | { view: 'policies' };

export type RefreshView = RefreshData['view'];

/** The data each verb's card action carries (before Teams merges the inputs in). */
export interface VerbData {
  'help.show': EmptyData;
  'restricted.list': RestrictedListData;
  'restricted.show': SenderData;
  'unblock.recommendations': RestrictionData;
  'unblock.submit': RestrictionData;
  'unblock.confirm': UnblockConfirmData;
  'unblock.cancel': SenderData;
  'policies.list': EmptyData;
  'notices.subscribe': EmptyData;
  'notices.unsubscribe': EmptyData;
  'card.refresh': RefreshData;
}

type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Fails to compile when a verb lacks a data shape or a data shape lacks a verb. */
const _verbDataCoversEveryVerb: Exactly<keyof VerbData, Verb> = true;
