/**
 * Keeps node's event loop alive until the returned function is called.
 *
 * When a process awaits nothing but V8's background work (the embedded database compiling its
 * WebAssembly, say), node's loop holds no handle, and node blocks until that work finishes. If
 * a background compile then needs a garbage collection from the main thread, neither moves
 * again (nodejs/node#54918): `sendguard serve` hung at start-up now and then on Node.js 24 (one
 * start in 16 in a loop of starts). With a timer pending, node waits inside its loop instead,
 * where it runs the collection when asked.
 */
export function holdEventLoop(): () => void {
  const timer = setInterval(() => {}, 2 ** 30);
  return () => clearInterval(timer);
}
