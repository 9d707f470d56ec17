/**
 * What ioredis sends to Redis, batch by batch: the commands each socket write carried (a round trip). Every
 * command given to a client (`Redis.prototype.sendCommand`, alone or as part of a pipeline or MULTI) is kept
 * with its client's socket until that socket's next write to the kernel (`_write`/`_writev`), which makes it a
 * batch. So a batch is what really left together, however it was grouped: a command alone, a pipeline, or the
 * commands of one turn of the event loop (`gateway/store/redis-one-write-per-turn.ts`). Installed when this module
 * is imported, before any client is made (a client keeps the `sendCommand` it was made with: `redis.ts` wraps it);
 * commands queued while a client is not connected are counted when ioredis sends them again.
 *
 * @example
 * const stop = onRedisBatch((batch) => seen.push(batch.map((c) => c.name)));
 */
import { Redis } from 'ioredis';

export interface SentCommand {
  name: string;
  args: unknown[];
}
type Listener = (batch: SentCommand[]) => void;

const listeners = new Set<Listener>();
const PENDING = Symbol('test.redisSocketBatches.pending');
type Watched = Record<string, unknown> & { [PENDING]?: SentCommand[] };

function watch(socket: Watched): SentCommand[] {
  const pending = socket[PENDING];
  if (pending) return pending;
  const fresh: SentCommand[] = [];
  socket[PENDING] = fresh;
  for (const name of ['_write', '_writev']) {
    const original = socket[name] as ((...a: unknown[]) => void) | undefined;
    if (typeof original !== 'function') continue;
    socket[name] = (...a: unknown[]) => {
      const batch = fresh.splice(0);
      if (batch.length > 0) for (const listener of listeners) listener(batch);
      original.apply(socket, a);
    };
  }
  return fresh;
}

const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function keptCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  const socket = (this as unknown as { stream?: Watched }).stream;
  if (socket && this.status === 'ready') watch(socket).push(args[0] as SentCommand);
  return sendCommand.apply(this, args);
};

/** Calls `listener` with each batch sent from now on; returns the function that stops it. */
export function onRedisBatch(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** A command as `NAME key` (an EVALSHA/EVAL by its first key). */
export const commandKey = (c: SentCommand) =>
  `${c.name.toUpperCase()} ${String(/^eval/i.test(c.name) ? c.args[2] : c.args[0])}`;
