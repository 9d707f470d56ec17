/**
 * Records each batch ioredis sends (the commands one socket write carried, `redis-socket-batches.ts`), grouped
 * by the HTTP request the process was serving when it was sent (requests are sequential in the tests that use it).
 * A batch reads as `COMMAND key` strings (an EVALSHA by its first key).
 *
 * @example
 * recording.start(); await logIn(bed); const seen = recording.take();
 */
import { Server } from 'node:http';
import { commandKey, onRedisBatch } from './redis-socket-batches.ts';

export interface RequestBatches {
  route: string;
  batches: string[][];
}

let requests: RequestBatches[] | undefined;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  onRedisBatch((batch) => {
    if (requests && requests.length > 0) requests.at(-1)!.batches.push(batch.map(commandKey));
  });
  const emit = Server.prototype.emit;
  Server.prototype.emit = function markedEmit(this: Server, event: string | symbol, ...args: unknown[]) {
    if (event === 'request' && requests) {
      const req = args[0] as { method?: string; url?: string };
      requests.push({ route: `${req.method} ${(req.url ?? '').split('?')[0]}`, batches: [] });
    }
    return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
  } as typeof emit;
}

export const recording = {
  /** Starts (or restarts) recording: the batches of the requests from now on. */
  start(): void {
    install();
    requests = [];
  },
  /** What was recorded since `start`; recording goes on (call `stop` to end it). */
  take(): RequestBatches[] {
    const seen = requests ?? [];
    requests = [];
    return seen;
  },
  stop(): void {
    requests = undefined;
  },
};
