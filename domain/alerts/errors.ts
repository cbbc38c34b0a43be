/** Expected outcomes of alert commands; transports map them to typed API errors. */

export class AlertNotFoundError extends Error {
  readonly code = 'ALERT_NOT_FOUND';
  constructor(readonly alertId: string) {
    super(`alert ${alertId} does not exist`);
  }
}

export class AlertPolicyNotFoundError extends Error {
  readonly code = 'ALERT_POLICY_NOT_FOUND';
  constructor(readonly policy: string) {
    super(`alert policy ${policy} does not exist`);
  }
}

export class AlertStatusTransitionError extends Error {
  readonly code = 'ALERT_STATUS_TRANSITION';
  constructor(
    readonly alertId: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`alert ${alertId} cannot go from ${from} to ${to}: alerts move New → InProgress → Resolved`);
  }
}

/** Thrown by a notification deliverer when retrying cannot help (e.g. SMTP 5xx: no such mailbox). */
export class PermanentDeliveryError extends Error {
  readonly code = 'PERMANENT_DELIVERY_FAILURE';
}
