/**
 * Redis commands fail fast, with a registered code, while Redis is unreachable (issue #15 item 4).
 *
 * - once the client has been ready, a command issued while it is reconnecting (a dead primary, a Sentinel
 *   failover, a restart) is refused at once instead of waiting in ioredis's offline queue;
 * - a command already sent to a Redis that stopped answering (frozen, partitioned) ends after the
 *   client's `commandTimeout`;
 * - either way the caller gets a `GatewayError` `FLOW_STORE_UNAVAILABLE` (503; the original error as its
 *   `cause`), so every caller, not only the flow and the rate limiter, ends with the same stable code;
 * - answers of Redis itself (`ReplyError`: WRONGTYPE, NOSCRIPT, MOVED…) are left as they are: they are
 *   not unavailability.
 *
 * Before the first `ready`, commands wait in the offline queue (a process booting while Redis starts).
 */
import type { Cluster, Redis } from 'ioredis';
import { ReplyError } from 'ioredis';
import { GatewayError } from '../errors.ts';

/** ioredis statuses in which a command cannot be written and would wait for a reconnection. */
const RECONNECTING: ReadonlySet<string> = new Set(['reconnecting', 'connecting', 'close']);

interface SentCommand {
  name: string;
  reject: (error: Error) => void;
}

/** The error every caller sees when Redis cannot answer. */
export function redisUnavailable(detail: string, cause?: unknown): GatewayError {
  const error = new GatewayError('FLOW_STORE_UNAVAILABLE', 503, 'Redis did not answer', { detail, cause });
  // oidc-provider answers `statusCode` (else 500) when such an error reaches it from its adapter
  return Object.assign(error, { statusCode: 503 });
}

/** Whether `error` means "Redis could not answer" (as opposed to an answer of Redis). */
export function isRedisUnavailable(error: unknown): boolean {
  if (error instanceof GatewayError) return error.code === 'FLOW_STORE_UNAVAILABLE';
  return error instanceof Error && !(error instanceof (ReplyError as new () => Error));
}

/**
 * Wraps the client's `sendCommand` so that its commands fail fast while it is reconnecting and every
 * unavailability reaches the caller as `FLOW_STORE_UNAVAILABLE`.
 *
 * @example
 * const redis = failFast(new Redis(url, { commandTimeout: 2000 }));
 */
export function failFast<C extends Redis | Cluster>(client: C, onRefused?: (command: string) => void): C {
  let wasReady = false;
  client.on('ready', () => {
    wasReady = true;
  });
  const send = client.sendCommand.bind(client) as (command: SentCommand, ...rest: unknown[]) => unknown;
  const wrapped = (command: SentCommand, ...rest: unknown[]): unknown => {
    const reject = command.reject;
    command.reject = (error: Error) => {
      if (!isRedisUnavailable(error)) return reject(error);
      onRefused?.(command.name);
      return reject(error instanceof GatewayError ? error : redisUnavailable(error.message, error));
    };
    if (wasReady && RECONNECTING.has(client.status)) {
      command.reject(redisUnavailable(`${command.name} refused while the connection is ${client.status}`));
      return (command as unknown as { promise: Promise<unknown> }).promise;
    }
    return send(command, ...rest);
  };
  (client as unknown as { sendCommand: typeof wrapped }).sendCommand = wrapped;
  return client;
}
