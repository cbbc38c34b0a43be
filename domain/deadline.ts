/**
 * `work`'s outcome, or `late()`'s if `ms` pass first. The work is not stopped, only no longer
 * waited for: it runs on and its outcome is dropped (a query to a database that stopped answering
 * cannot be taken back).
 */
export function settleWithin<T>(work: Promise<T>, ms: number, late: () => T | Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  }).then(late);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
