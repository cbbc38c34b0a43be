import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { AdaptiveCard, CardAction, CardElement } from '../../../bot/cards/adaptive-card.ts';

/** Reads cards the way a test wants to see them: schema errors, plain-text outlines, actions. */

const require = createRequire(import.meta.url);
export const schemaDir = new URL('../../fixtures/schemas/', import.meta.url);

function readJson(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, schemaDir), 'utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>;
}

let validateCardSchema: ValidateFunction | undefined;

function cardValidator(): ValidateFunction {
  if (validateCardSchema) return validateCardSchema;
  const ajv = new Ajv.default({ strict: false, allErrors: true });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as Record<string, unknown>);
  addFormats.default(ajv);
  // The published file names itself with draft-04's `id`, which Ajv 8 refuses; the copy in memory uses `$id`.
  const { id, ...schema } = readJson('adaptive-card-1.5.json');
  validateCardSchema = ajv.compile({ ...schema, $id: String(id) });
  return validateCardSchema;
}

/** Schema errors of the card as Teams receives it; the Teams-only root `msteams` property is allowed. */
export function cardSchemaErrors(card: AdaptiveCard): string[] {
  const { msteams: _msteams, ...portable } = JSON.parse(JSON.stringify(card)) as AdaptiveCard;
  const validate = cardValidator();
  if (validate(portable)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}

function inlineText(element: CardElement): string | null {
  switch (element.type) {
    case 'TextBlock':
      return element.text;
    case 'RichTextBlock':
      return element.inlines.map((r) => r.text).join('');
    case 'FactSet':
      return element.facts.map((f) => `${f.title}: ${f.value}`).join('\n');
    case 'Input.Toggle':
      return `[${element.isRequired ? 'required' : 'optional'} toggle ${element.id}] ${element.label ?? ''} / ${element.title}`;
    case 'Input.Text':
      return `[text input ${element.id}] ${element.label ?? element.placeholder ?? ''}`;
    default:
      return null;
  }
}

function children(element: CardElement): CardElement[] {
  if (element.type === 'Container') return element.items;
  if (element.type === 'ColumnSet') return element.columns.flatMap((c) => c.items);
  return [];
}

/** Every element in document order, depth first. */
export function elements(card: AdaptiveCard): CardElement[] {
  const out: CardElement[] = [];
  const visit = (e: CardElement) => {
    out.push(e);
    children(e).forEach(visit);
  };
  card.body.forEach(visit);
  return out;
}

/** The card's text, one line per text element, for inline snapshots. */
export function cardText(card: AdaptiveCard): string {
  return elements(card)
    .map(inlineText)
    .filter((t): t is string => t !== null)
    .join('\n');
}

/** Every action: card actions, action sets and select actions. */
export function cardActions(card: AdaptiveCard): CardAction[] {
  const inBody = elements(card).flatMap((e) => {
    if (e.type === 'ActionSet') return e.actions;
    if (e.type === 'Container' && e.selectAction) return [e.selectAction];
    return [];
  });
  return [...inBody, ...(card.actions ?? [])];
}

/** `Title → verb {data}` per action, for inline snapshots. */
export function actionLines(card: AdaptiveCard): string[] {
  return cardActions(card).map((a) => (a.type === 'Action.OpenUrl' ? `${a.title} → ${a.url}` : `${a.title ?? ''} → ${a.verb} ${JSON.stringify(a.data)}`));
}

export function buttonTitles(card: AdaptiveCard): string[] {
  return (card.actions ?? []).map((a) => a.title ?? '');
}

/** Every string of the card Teams reads as Markdown (TextBlocks, FactSet titles and values); data must not be in one. */
export function markdownTexts(card: AdaptiveCard): string[] {
  return elements(card).flatMap((e) => {
    if (e.type === 'TextBlock') return [e.text];
    if (e.type === 'FactSet') return e.facts.flatMap((f) => [f.title, f.value]);
    return [];
  });
}
