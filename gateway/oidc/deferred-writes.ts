/**
 * Redis writes of an oidc-provider request that nothing later in the request reads back from another
 * connection, sent at once but waited for only when the request's records are written
 * (`request-writes-together.ts`): the resumption's deletion of its Interaction then travels with the next
 * command the request sends (the code's) instead of in a round trip of its own (issue #14).
 *
 * A deferred write that fails still fails the request before its answer leaves: nothing it would hand out (the
 * code's redirect) is sent while the Interaction it consumed is still there. On the one connection, Redis runs
 * the request's later commands after it, so the request itself reads what it wrote.
 *
 * @example
 * await runDeferringWrites(next);              // around the request (waits for what was deferred)
 * if (!deferWrite(redis.del(key))) await ...;  // in the adapter: deferred inside such a request only
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const deferred = new AsyncLocalStorage<Array<Promise<unknown>>>();

/** Runs `work`, then waits for the writes deferred in it; a failed one is thrown (`work`'s own error first). */
export async function runDeferringWrites<T>(work: () => Promise<T>): Promise<T> {
  const writes: Array<Promise<unknown>> = [];
  let result: T;
  try {
    result = await deferred.run(writes, work);
  } catch (error) {
    await Promise.allSettled(writes); // never a write still in flight when the request answers
    throw error;
  }
  const failed = (await Promise.allSettled(writes)).find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return result;
}

/** Defers `write` to the end of the current request; `false` outside one (the caller then waits for it). */
export function deferWrite(write: Promise<unknown>): boolean {
  const writes = deferred.getStore();
  if (!writes) return false;
  write.catch(() => undefined); // looked at by runDeferringWrites: never an unhandled rejection meanwhile
  writes.push(write);
  return true;
}
