/** Expected outcomes of restriction commands; transports map them to typed API errors. */

export class NotRestrictedError extends Error {
  readonly code = 'NOT_RESTRICTED';
  constructor(
    readonly entityKind: 'user' | 'connector',
    readonly entityKey: string,
    /** The latest restriction, if the entity was ever restricted (released or expired). */
    readonly lastRestrictionId: string | null,
  ) {
    super(`${entityKey} is not restricted`);
  }
}

/** The caller asked to release a restriction that is no longer the active one: the entity was restricted again since. */
export class RestrictionChangedError extends Error {
  readonly code = 'RESTRICTION_CHANGED';
  constructor(
    readonly entityKind: 'user' | 'connector',
    readonly entityKey: string,
    readonly expectedRestrictionId: string,
    readonly activeRestrictionId: string,
  ) {
    super(`${entityKey} was restricted again since; the restriction you meant is no longer the active one, and nothing was released`);
  }
}

export class UnblockQuotaExceededError extends Error {
  readonly code = 'UNBLOCK_QUOTA_EXCEEDED';
  constructor(
    readonly entityKey: string,
    readonly releaseCount: number,
    readonly maxReleases: number,
    readonly windowDays: number,
    readonly resetsAt: Date,
  ) {
    super(
      `${entityKey} was released ${releaseCount} times in the last ${windowDays} days (at most ${maxReleases}); ` +
        `the next release is possible at ${resetsAt.toISOString()}`,
    );
  }
}

export class SecondApprovalRequiredError extends Error {
  readonly code = 'SECOND_APPROVAL_REQUIRED';
  constructor(
    readonly entityKey: string,
    readonly requestedBy: string,
    readonly requestedAt: Date,
  ) {
    super(`releasing ${entityKey} again needs a second admin's approval (requested by ${requestedBy})`);
  }
}

export class ValidationError extends Error {
  readonly code = 'VALIDATION';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export type ReleaseError = NotRestrictedError | RestrictionChangedError | UnblockQuotaExceededError | SecondApprovalRequiredError | ValidationError;
