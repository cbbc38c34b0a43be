import { ValidationError } from '../../domain/restrictions/errors.ts';
import { NotFoundError } from '../../domain/tenants/errors.ts';
import { builder } from '../builder.ts';

/** Every typed mutation error implements this, so `... on Error { message }` always works. */
export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  description: 'An expected failure of a mutation; nothing was changed.',
  fields: (t) => ({ message: t.exposeString('message') }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'An input was not acceptable.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ field: t.exposeString('field', { description: 'The input field at fault.' }) }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'The thing the input names does not exist in your tenant.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ kind: t.exposeString('kind'), key: t.exposeString('key') }),
});
