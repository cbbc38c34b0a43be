/**
 * The item an `-Identity` names, matched as the API matches names: in any case (`default` finds
 * `Default`), an exact match first should two names differ only in case.
 */
export function findByName<T extends { name: string }>(items: readonly T[], identity: string): T | undefined {
  const wanted = identity.trim();
  return items.find((i) => i.name === wanted) ?? items.find((i) => i.name.toLowerCase() === wanted.toLowerCase());
}
