import { z } from 'zod';
import { recommendationKinds, type RecommendationKind } from './types.ts';
import { acknowledgementInputId, inputIds, verbs, type Verb, type VerbData } from './verbs.ts';

/**
 * Parses what Teams sends back for an `Action.Execute` (its verb, and its data with the card's
 * input values merged in) into typed data. Anything malformed is refused with a message.
 */

// No control characters in an address; no NUL in any text (the API refuses one: PostgreSQL cannot store it).
// eslint-disable-next-line no-control-regex
const address = z.string().trim().toLowerCase().min(3).max(320).regex(/^[^\s@\x00-\x1f\x7f-\x9f]+@[^\s@\x00-\x1f\x7f-\x9f]+$/, 'an email address');
const withoutNul = (s: string) => !s.includes('\u0000');
const NUL_REFUSED = 'text without a NUL character (U+0000)';
const text = (max: number) => z.string().trim().max(max).refine(withoutNul, NUL_REFUSED);
const restrictionId = text(128).pipe(z.string().min(1));
const cursor = z.string().max(1024).refine(withoutNul, NUL_REFUSED).optional();
const search = text(320)
  .optional()
  .transform((s) => (s ? s : undefined));
const reason = text(1000).default('');
const acknowledged = z.array(z.enum(recommendationKinds)).max(recommendationKinds.length);
const toggle = z.enum(['true', 'false']).optional();

const empty = z.object({}).transform(() => ({}));
const sender = z.object({ senderAddress: address });
const restriction = z.object({ senderAddress: address, restrictionId });
const list = z.object({ search, after: cursor, before: cursor });
const confirm = restriction.extend({ acknowledgedRecommendations: acknowledged, reason });

const toggles = z.object(Object.fromEntries(recommendationKinds.map((k) => [acknowledgementInputId(k), toggle])));
const submit = restriction.extend({ [inputIds.reason]: reason }).and(toggles).transform((d) => ({
  senderAddress: d.senderAddress,
  restrictionId: d.restrictionId,
  reason: d.reason,
  acknowledgedRecommendations: recommendationKinds.filter((k) => d[acknowledgementInputId(k)] === 'true'),
}));

const refresh = z.discriminatedUnion('view', [
  list.extend({ view: z.literal('restricted.list') }),
  sender.extend({ view: z.literal('restriction.details') }),
  restriction.extend({ view: z.literal('unblock.recommendations') }),
  confirm.extend({ view: z.literal('unblock.confirm') }),
  restriction.extend({ view: z.literal('restriction.notice') }),
  z.object({ view: z.literal('policies') }),
]);

/** What a handler receives: the card's data, with `unblock.submit`'s toggles turned into kinds. */
export interface IncomingData extends Omit<VerbData, 'unblock.submit' | 'help.show' | 'policies.list' | 'notices.subscribe' | 'notices.unsubscribe'> {
  'help.show': Record<string, never>;
  'policies.list': Record<string, never>;
  'notices.subscribe': Record<string, never>;
  'notices.unsubscribe': Record<string, never>;
  'unblock.submit': VerbData['unblock.submit'] & { reason: string; acknowledgedRecommendations: RecommendationKind[] };
}

const schemas: { [V in Verb]: z.ZodType<IncomingData[V]> } = {
  'help.show': empty,
  'restricted.list': list,
  'restricted.show': sender,
  'unblock.recommendations': restriction,
  'unblock.submit': submit,
  'unblock.confirm': confirm,
  'unblock.cancel': sender,
  'policies.list': empty,
  'notices.subscribe': empty,
  'notices.unsubscribe': empty,
  'card.refresh': refresh,
};

export type IncomingAction = { [V in Verb]: { verb: V; data: IncomingData[V] } }[Verb];
export type ParsedIncomingAction = { ok: true; action: IncomingAction } | { ok: false; message: string };

const knownVerbs: readonly string[] = Object.values(verbs);

function isVerb(value: unknown): value is Verb {
  return typeof value === 'string' && knownVerbs.includes(value);
}

export function parseCardAction(verb: unknown, data: unknown): ParsedIncomingAction {
  if (!isVerb(verb)) return { ok: false, message: `unknown action ${JSON.stringify(verb)}` };
  const parsed = schemas[verb].safeParse(data ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, message: `${issue?.path.join('.') || 'data'}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, action: { verb, data: parsed.data } as IncomingAction };
}
