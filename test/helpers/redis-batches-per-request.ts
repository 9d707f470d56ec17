/**
 * Records each batch ioredis sends (`Pipeline.exec`; a command sent alone is a batch of one), grouped by the
 * HTTP request the process was serving when it was sent (requests are sequential in the tests that use it).
 * A batch reads as `COMMAND key` strings (an EVALSHA by its first key).
 *
 * @example
 * recording.start(); await logIn(bed); const seen = recording.take();
 */
import { Server } from 'node:http';
import { Redis } from 'ioredis';
import PipelineModule from 'ioredis/built/Pipeline.js';

export interface RequestBatches {
  route: string;
  batches: string[][];
}

type Queued = { name: string; args: unknown[] };
let requests: RequestBatches[] | undefined;
let installed = false;

const keyOf = (c: Queued) => String(c.name.toLowerCase() === 'evalsha' ? c.args[2] : c.args[0]);
const record = (batch: Queued[]) => {
  if (requests && requests.length > 0)
    requests.at(-1)!.batches.push(batch.map((c) => `${c.name.toUpperCase()} ${keyOf(c)}`));
};

function install(): void {
  if (installed) return;
  installed = true;
  const Pipeline = PipelineModule.default;
  const exec = Pipeline.prototype.exec;
  Pipeline.prototype.exec = function recordedExec(
    this: InstanceType<typeof Pipeline>,
    ...args: Parameters<typeof exec>
  ) {
    record((this as unknown as { _queue: Queued[] })._queue);
    return exec.apply(this, args);
  };
  const sendCommand = Redis.prototype.sendCommand;
  Redis.prototype.sendCommand = function recordedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
    if (args[1] === undefined) record([args[0] as Queued]);
    return sendCommand.apply(this, args);
  };
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
