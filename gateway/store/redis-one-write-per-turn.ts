/**
 * The commands a client issues during one turn of the event loop leave in one socket write (issue #14), without
 * ioredis's auto-pipelining: the first command of a turn corks the client's socket, and the socket is uncorked
 * (one `writev` of every command of the turn) at the end of that turn (`setImmediate`, where ioredis's
 * auto-pipelining flushed too).
 *
 * Why not auto-pipelining: it builds a `Pipeline` per turn, with a promise and a callback per command, and sends
 * a turn's commands only once the previous turn's answers are in. Measured on this machine kind (BENCHMARKS.md,
 * "Sixteenth round"), a command cost the gateway ~13 µs of CPU through it at 8 concurrent callers and ~8 µs sent
 * plainly; a login's gateway CPU fell by 0.5–2 ms with it off, and corking keeps the one-write-per-turn that
 * spares Redis a read per command. Every command keeps its own answer and error, in order, as before.
 *
 * Commands written into a pipeline or a MULTI (ioredis passes their own stream) are not touched: the pipeline's
 * single write joins the turn's cork.
 */
import type { Redis } from 'ioredis';

interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Wraps the client's `sendCommand` so that a turn's commands leave in one write.
 *
 * @example
 * const redis = oneWritePerTurn(new Redis(url, { enableAutoPipelining: false }));
 */
export function oneWritePerTurn<C extends Redis>(client: C): C {
  const send = client.sendCommand.bind(client) as (...args: unknown[]) => unknown;
  let corked: Corkable | undefined;
  const wrapped = (...args: unknown[]): unknown => {
    const socket = (client as unknown as { stream?: Corkable }).stream;
    if (args[1] === undefined && socket !== undefined && socket !== corked && client.status === 'ready') {
      socket.cork();
      corked = socket;
      setImmediate(() => {
        corked = undefined;
        socket.uncork();
      });
    }
    return send(...args);
  };
  (client as unknown as { sendCommand: typeof wrapped }).sendCommand = wrapped;
  return client;
}
