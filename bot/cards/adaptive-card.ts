import type { Verb, VerbData } from './verbs.ts';

/**
 * The subset of the Adaptive Card 1.5 schema the bot's cards use, typed so that every
 * `Action.Execute` carries a known verb with its own data shape.
 */

export const cardSchemaUrl = 'http://adaptivecards.io/schemas/adaptive-card.json';
export const cardVersion = '1.5';
/** Teams refuses a message larger than this; cards are bounded well below it. */
export const maxCardBytes = 28 * 1024;
/** Teams refreshes a card automatically for at most this many listed users. */
export const maxRefreshUserIds = 60;

export type Spacing = 'none' | 'small' | 'default' | 'medium' | 'large' | 'extraLarge' | 'padding';
export type TextColor = 'default' | 'dark' | 'light' | 'accent' | 'good' | 'warning' | 'attention';
export type TextSize = 'small' | 'default' | 'medium' | 'large' | 'extraLarge';
export type TextWeight = 'lighter' | 'default' | 'bolder';
export type ContainerStyle = 'default' | 'emphasis' | 'good' | 'attention' | 'warning' | 'accent';
export type HorizontalAlignment = 'left' | 'center' | 'right';
export type VerticalAlignment = 'top' | 'center' | 'bottom';

export type ExecuteActionOf<V extends Verb> = {
  type: 'Action.Execute';
  verb: V;
  data: VerbData[V];
  title?: string;
  id?: string;
  tooltip?: string;
  style?: 'default' | 'positive' | 'destructive';
  associatedInputs?: 'auto' | 'none';
};
export type ExecuteAction = { [V in Verb]: ExecuteActionOf<V> }[Verb];

export interface OpenUrlAction {
  type: 'Action.OpenUrl';
  title: string;
  url: string;
  tooltip?: string;
}

export type CardAction = ExecuteAction | OpenUrlAction;

interface ElementBase {
  id?: string;
  spacing?: Spacing;
  separator?: boolean;
}

export interface TextBlock extends ElementBase {
  type: 'TextBlock';
  text: string;
  wrap?: boolean;
  size?: TextSize;
  weight?: TextWeight;
  color?: TextColor;
  isSubtle?: boolean;
  style?: 'default' | 'heading';
  maxLines?: number;
  horizontalAlignment?: HorizontalAlignment;
  fontType?: 'default' | 'monospace';
}

/** Text from data goes into TextRuns: they are never read as Markdown. */
export interface TextRun {
  type: 'TextRun';
  text: string;
  weight?: TextWeight;
  size?: TextSize;
  color?: TextColor;
  isSubtle?: boolean;
  italic?: boolean;
  fontType?: 'default' | 'monospace';
}

export interface RichTextBlock extends ElementBase {
  type: 'RichTextBlock';
  inlines: TextRun[];
  horizontalAlignment?: HorizontalAlignment;
}

export interface Fact {
  title: string;
  value: string;
}

export interface FactSet extends ElementBase {
  type: 'FactSet';
  facts: Fact[];
}

export interface Column {
  type: 'Column';
  items: CardElement[];
  width?: 'auto' | 'stretch' | `${number}px` | number;
  verticalContentAlignment?: VerticalAlignment;
  spacing?: Spacing;
}

export interface ColumnSet extends ElementBase {
  type: 'ColumnSet';
  columns: Column[];
}

export interface Container extends ElementBase {
  type: 'Container';
  items: CardElement[];
  style?: ContainerStyle;
  bleed?: boolean;
  selectAction?: ExecuteAction;
}

export interface ActionSet extends ElementBase {
  type: 'ActionSet';
  actions: CardAction[];
}

interface InputBase extends ElementBase {
  id: string;
  label?: string;
  isRequired?: boolean;
  errorMessage?: string;
}

export interface TextInput extends InputBase {
  type: 'Input.Text';
  placeholder?: string;
  value?: string;
  maxLength?: number;
  isMultiline?: boolean;
}

export interface ToggleInput extends InputBase {
  type: 'Input.Toggle';
  title: string;
  value?: string;
  valueOn?: string;
  valueOff?: string;
  wrap?: boolean;
}

export type CardElement = TextBlock | RichTextBlock | FactSet | ColumnSet | Container | ActionSet | TextInput | ToggleInput;

export interface Refresh {
  action: ExecuteActionOf<'card.refresh'>;
  userIds?: string[];
}

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: typeof cardSchemaUrl;
  version: typeof cardVersion;
  fallbackText: string;
  body: CardElement[];
  actions?: CardAction[];
  refresh?: Refresh;
  /** Teams only; not part of the Adaptive Card schema. */
  msteams?: { width: 'Full' };
}

export function cardBytes(card: AdaptiveCard): number {
  return Buffer.byteLength(JSON.stringify(card), 'utf8');
}

/** Serialises a card for an activity attachment, refusing one Teams would reject. */
export function serializeCard(card: AdaptiveCard): string {
  const json = JSON.stringify(card);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxCardBytes) throw new RangeError(`card is ${bytes} bytes; Teams accepts at most ${maxCardBytes}`);
  return json;
}
