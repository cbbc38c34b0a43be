/** The thing a command names does not exist in the caller's tenant. */
export class NotFoundError extends Error {
  readonly code = 'NOT_FOUND';
  constructor(
    readonly kind: string,
    readonly key: string,
  ) {
    super(`${kind} ${key} was not found`);
  }
}
