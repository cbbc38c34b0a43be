import {
  cardSchemaUrl,
  cardVersion,
  maxRefreshUserIds,
  type ActionSet,
  type AdaptiveCard,
  type CardAction,
  type CardElement,
  type Column,
  type ColumnSet,
  type Container,
  type ContainerStyle,
  type ExecuteActionOf,
  type OpenUrlAction,
  type Refresh,
  type RichTextBlock,
  type Spacing,
  type TextBlock,
  type TextRun,
} from './adaptive-card.ts';
import { verbs, type RefreshData, type Verb, type VerbData } from './verbs.ts';

/** Small constructors shared by the card builders. */

export interface CardOptions {
  fallbackText: string;
  body: CardElement[];
  actions?: CardAction[];
  /** What `card.refresh` should rebuild; only for cards showing state that can change. */
  refresh?: RefreshData;
  /** Teams user MRIs to refresh for automatically (at most 60); omitted: everyone in chats of up to 60 members. */
  refreshUserIds?: readonly string[];
  fullWidth?: boolean;
}

export function adaptiveCard(options: CardOptions): AdaptiveCard {
  const card: AdaptiveCard = { type: 'AdaptiveCard', $schema: cardSchemaUrl, version: cardVersion, fallbackText: options.fallbackText, body: options.body };
  if (options.actions?.length) card.actions = options.actions;
  if (options.refresh) card.refresh = refreshBlock(options.refresh, options.refreshUserIds);
  if (options.fullWidth) card.msteams = { width: 'Full' };
  return card;
}

export function refreshBlock(data: RefreshData, userIds?: readonly string[]): Refresh {
  const refresh: Refresh = { action: execute(verbs.cardRefresh, 'Refresh', data) };
  if (userIds) {
    if (userIds.length > maxRefreshUserIds) throw new RangeError(`Teams refreshes a card for at most ${maxRefreshUserIds} listed users, got ${userIds.length}`);
    refresh.userIds = [...userIds];
  }
  return refresh;
}

interface ExecuteOptions {
  style?: 'positive' | 'destructive';
  /** Which inputs Teams merges into the data; `none` for actions that must not pick up typed text. */
  associatedInputs?: 'auto' | 'none';
  tooltip?: string;
}

export function execute<V extends Verb>(verb: V, title: string, data: VerbData[V], options: ExecuteOptions = {}): ExecuteActionOf<V> {
  return { type: 'Action.Execute', verb, title, data, ...options };
}

export function openUrl(title: string, url: string, tooltip?: string): OpenUrlAction {
  return tooltip ? { type: 'Action.OpenUrl', title, url, tooltip } : { type: 'Action.OpenUrl', title, url };
}

type TextOptions = Omit<TextBlock, 'type' | 'text'>;

/** Our own wording; Teams reads it as Markdown. */
export function text(value: string, options: TextOptions = {}): TextBlock {
  return { type: 'TextBlock', text: value, wrap: true, ...options };
}

export function subtle(value: string, options: TextOptions = {}): TextBlock {
  return text(value, { isSubtle: true, size: 'small', spacing: 'small', ...options });
}

type RunOptions = Omit<TextRun, 'type' | 'text'>;

export function run(value: string, options: RunOptions = {}): TextRun {
  return { type: 'TextRun', text: value, ...options };
}

/** Text that includes data (addresses, names, reasons): TextRuns are never read as Markdown. */
export function runs(parts: readonly (string | TextRun)[], options: Omit<RichTextBlock, 'type' | 'inlines'> & { all?: RunOptions } = {}): RichTextBlock {
  const { all = {}, ...block } = options;
  return { type: 'RichTextBlock', inlines: parts.map((p) => (typeof p === 'string' ? run(p, all) : { ...all, ...p })), ...block };
}

/** The card's first lines: a small label naming the step, then the title. */
export function header(label: string, title: readonly (string | TextRun)[]): CardElement[] {
  return [
    text(label, { size: 'small', weight: 'bolder', color: 'accent', spacing: 'none' }),
    runs(title, { spacing: 'small', all: { size: 'large', weight: 'bolder' } }),
  ];
}

/**
 * "Name: value" lines, one per fact with a value. Not a FactSet: Teams reads fact values as
 * Markdown, and these values are data (addresses, policy names), so each line is TextRuns.
 */
export function facts(entries: readonly (readonly [string, string | null | undefined])[], spacing: Spacing = 'medium'): Container {
  const lines = entries
    .filter((e): e is readonly [string, string] => typeof e[1] === 'string' && e[1] !== '')
    .map(([title, value], i) => runs([run(`${title}: `, { weight: 'bolder' }), run(value)], i === 0 ? {} : { spacing: 'none' }));
  return container(lines, { spacing });
}

export function container(items: CardElement[], options: Omit<Container, 'type' | 'items'> = {}): Container {
  return { type: 'Container', items, ...options };
}

/** A tinted panel for a state or a warning. */
export function callout(style: ContainerStyle, items: CardElement[], spacing: Spacing = 'medium'): Container {
  return container(items, { style, spacing });
}

export function column(items: CardElement[], options: Omit<Column, 'type' | 'items'> = {}): Column {
  return { type: 'Column', items, ...options };
}

export function columns(list: Column[], options: Omit<ColumnSet, 'type' | 'columns'> = {}): ColumnSet {
  return { type: 'ColumnSet', columns: list, ...options };
}

export function actionSet(actions: CardAction[], spacing: Spacing = 'medium'): ActionSet {
  return { type: 'ActionSet', actions, spacing };
}

export function sectionTitle(value: string): TextBlock {
  return text(value, { weight: 'bolder', spacing: 'large' });
}
