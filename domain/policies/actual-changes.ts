/**
 * The entries of `changes` whose value differs from `current`'s: an update that gives a policy or
 * rule the values it already has changes nothing, so it writes no row, audit record or event.
 */
export function actualChanges<C extends Record<string, unknown>>(current: Readonly<Record<keyof C, unknown>>, changes: C): Partial<C> {
  return Object.fromEntries(Object.entries(changes).filter(([k, v]) => JSON.stringify(current[k]) !== JSON.stringify(v))) as Partial<C>;
}
