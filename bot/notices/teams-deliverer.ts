import type { Alert, Notification } from '../../db/repos/alerts.ts';
import { parseAlertDetails } from '../../domain/alerts/alert-signals.ts';
import { PermanentDeliveryError } from '../../domain/alerts/errors.ts';
import type { TeamsNotificationHook } from '../../domain/alerts/notification-worker.ts';
import type { Clock } from '../../domain/clock.ts';
import { alertNoticeCard } from '../cards/alert-notice-card.ts';
import { describeLimit, formatCount, reasonCodeLabels } from '../cards/format.ts';
import type { ReasonCode } from '../cards/types.ts';
import type { ConversationStore } from '../conversation-store.ts';
import { ConnectorError, withConnectorRetry, type Connector, type RetryOptions } from './connector.ts';
import { referenceOf, type RestrictionNotices } from './restriction-notices.ts';

const policyNames: Record<Alert['kind'], string> = {
  UserRestricted: 'User restricted from sending email',
  SendingLimitExceeded: 'Email sending limit exceeded',
  SendingLimitNearlyReached: 'Sending limit nearly reached',
};

function summary(alert: Alert, thresholdPercent: number | null): string {
  if (alert.kind === 'SendingLimitNearlyReached') {
    return `${alert.entityKey} has used ${thresholdPercent ?? 'most'}${thresholdPercent === null ? '' : ' %'} of a sending limit. When the limit is reached the outbound spam policy's action applies.`;
  }
  if (alert.kind === 'SendingLimitExceeded') return `${alert.entityKey} exceeded a sending limit. The policy only alerts, so the sender was not restricted.`;
  return `${alert.entityKind === 'connector' ? `Connector ${alert.entityKey}` : alert.entityKey} is restricted from sending email.`;
}

function isReasonCode(value: string | null): value is ReasonCode {
  return value !== null && value in reasonCodeLabels;
}

/** An alert that is not a user's restriction notice, as a card. */
export function alertCard(alert: Alert, now: Date) {
  const d = parseAlertDetails(alert.details);
  return alertNoticeCard({
    policyName: policyNames[alert.kind],
    title: alert.title,
    severity: alert.severity,
    summary: summary(alert, d.thresholdPercent),
    facts: [
      [alert.entityKind === 'connector' ? 'Connector' : 'Sender', alert.entityKey],
      ['Limit', describeLimit(d.exceededLimit, d.limitValue)],
      ['Counted', d.count === null ? null : `${formatCount(d.count)} recipients`],
      ['Recipients', `${formatCount(d.internalRecipientCount)} internal, ${formatCount(d.externalRecipientCount)} external`],
      ['Policy', d.policyName],
      ['Reason', isReasonCode(d.reasonCode) ? reasonCodeLabels[d.reasonCode] : d.reasonCode],
      ['Seen', alert.hitCount > 1 ? `${alert.hitCount} times` : null],
    ],
    senderAddress: alert.entityKind === 'user' ? alert.entityKey : null,
    firstSeenAt: alert.firstSeenAt.toISOString(),
    now,
  });
}

/** Refusals that another try cannot fix: the bot was removed or blocked, or the conversation is gone. */
function permanent(err: unknown): unknown {
  if (err instanceof ConnectorError && (err.status === 403 || err.status === 404)) return new PermanentDeliveryError(`Teams refused the post (${err.status}${err.code ? ` ${err.code}` : ''}): ${err.message}`);
  return err;
}

/**
 * The notification worker's Teams channel: a user restriction alert is delivered as the
 * restriction notice (posted once per conversation, updated when the restriction ends); other
 * alerts as an alert card.
 */
export function createTeamsDeliverer(deps: { conversations: ConversationStore; notices: RestrictionNotices; connector: Connector; clock: Clock; retry: RetryOptions }): TeamsNotificationHook {
  return {
    async deliverTeams(notification: Notification, alert: Alert, signal?: AbortSignal): Promise<void> {
      const conversation = await deps.conversations.find(alert.tenantId, notification.recipient);
      if (!conversation) throw new PermanentDeliveryError('the bot is no longer in this conversation');
      if (!conversation.subscribed) throw new PermanentDeliveryError('the conversation unsubscribed from notices');
      try {
        if (alert.kind === 'UserRestricted' && alert.entityKind === 'user' && alert.restrictionId) {
          const outcome = await deps.notices.deliver(conversation, alert.restrictionId, signal);
          if (outcome === 'busy') throw new Error('the restriction notice is being posted by another process');
          return;
        }
        const card = alertCard(alert, deps.clock.now());
        await withConnectorRetry(() => deps.connector.post(referenceOf(conversation), card, signal), deps.retry, signal);
      } catch (err) {
        // A removal the bot missed (it was down): forget the conversation, as the removal would have.
        if (err instanceof ConnectorError && err.conversationGone) await deps.conversations.forget(conversation.tenantId, conversation.conversationId);
        throw permanent(err);
      }
    },
  };
}
