const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids from clients (global ids, arguments) are checked before they reach a uuid column. */
export function uuidsOnly(ids: readonly string[]): string[] {
  return ids.filter((id) => UUID.test(id));
}

export function isUuid(id: string): boolean {
  return UUID.test(id);
}
