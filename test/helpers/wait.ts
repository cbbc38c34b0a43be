/** Polls `read` until `done` holds for what it returned, and returns that; fails naming `what` after `ms`. */
export async function waitFor<T>(read: () => T | Promise<T>, done: (value: T) => boolean, what: string, ms = 30_000): Promise<T> {
  for (const end = Date.now() + ms; ; await new Promise((resolve) => setTimeout(resolve, 20))) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

/** Polls `check` until it holds; fails naming `what` after `ms`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, ms?: number): Promise<void> {
  await waitFor(check, (ok) => ok, what, ms);
}
