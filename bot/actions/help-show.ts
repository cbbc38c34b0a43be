import { helpCard } from '../cards/help-card.ts';
import type { ActionHandler } from './action-context.ts';

export const helpShow: ActionHandler<unknown> = async (ctx) => helpCard({ scope: ctx.scope, botName: ctx.botName });
