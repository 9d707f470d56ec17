/**
 * How running gateways and the admin CLI talk about IdPs, through Redis (every instance sees the same):
 *
 * - Commands on the pub/sub channel `<prefix>idps:control`: `{ action: 'refresh' | 'disable' | 'enable', idp }`.
 *   Each instance applies them to its own metadata monitor (refresh now, hide, show). `disable` is applied at once
 *   (the safe side, whatever the registry answers); `enable` is a hint: the instance reads the IdP's state from the
 *   durable registry and applies that, so a message alone (anyone who can publish on Redis) never turns on an IdP
 *   the registry says is disabled, and a read that fails turns on nothing.
 * - Status: after every monitor event and every command, the instance writes the IdP's status (last
 *   refresh, validUntil, key fingerprints, errors) to `idps:status:<id>` for a day, which the CLI reads.
 * - A pub/sub message is sent once: an instance whose subscriber was reconnecting (a Redis failover) misses it.
 *   So every {@link RECONCILE_MS} each instance also reads the durable registry (PostgreSQL, where the CLI wrote
 *   the state first) and disables or enables its IdPs to match: a disabled IdP (a compromised key) is refused
 *   everywhere within that time, whatever pub/sub delivered.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { IdpStatus, MetadataMonitor } from '../../adapters/metadata/monitor.ts';
import { closeRedis } from '../store/redis.ts';

export type IdpCommand = { action: 'refresh' | 'disable' | 'enable'; idp: string };
const STATUS_TTL_SECONDS = 86_400;
/** How often an instance matches its IdPs' enabled state to the durable registry. */
export const RECONCILE_MS = 30_000;

export function controlChannel(prefix: string): string {
  return `${prefix}idps:control`;
}

/** Writes the status of every IdP of `monitor` (keys are prefixed by the client's keyPrefix). */
export async function publishStatus(redis: Redis, monitor: MetadataMonitor): Promise<void> {
  for (const status of monitor.status()) {
    await redis.set(`idps:status:${status.id}`, JSON.stringify(status), 'EX', STATUS_TTL_SECONDS);
  }
}

/** The statuses running gateways published. */
export async function readStatus(redis: Redis, ids: readonly string[]): Promise<(IdpStatus | null)[]> {
  return Promise.all(
    ids.map(async (id) => {
      const raw = await redis.get(`idps:status:${id}`);
      return raw ? (JSON.parse(raw) as IdpStatus) : null;
    }),
  );
}

/** Sends a command to every running gateway of the deployment. */
export async function sendCommand(redis: Redis, prefix: string, command: IdpCommand): Promise<number> {
  return redis.publish(controlChannel(prefix), JSON.stringify(command));
}

/**
 * Subscribes a gateway's monitor to the control channel. Returns a function that unsubscribes.
 *
 * @example
 * const stop = await listenForCommands({ redis, prefix: config.redis.keyPrefix, monitor, logger });
 */
export async function listenForCommands(options: {
  redis: Redis;
  prefix: string;
  monitor: MetadataMonitor;
  logger: Logger;
  /** Whether each IdP the durable registry has a row for should be enabled now (`removed`: false). */
  desired?: () => Promise<ReadonlyMap<string, boolean>>;
  reconcileMs?: number;
}): Promise<() => Promise<void>> {
  const { redis, monitor, logger } = options;
  // when each IdP last got a command here: a read of the registry begun before it is older than the command
  const commanded = new Map<string, number>();
  // an IdP without a registry row keeps the state it booted with (the configuration file's)
  const atBoot = new Map(monitor.status().map((s) => [s.id, s.availability !== 'disabled'] as const));
  const reconcile = async () => {
    if (!options.desired) return;
    const started = performance.now();
    const desired = await options.desired();
    let changed = false;
    for (const status of monitor.status()) {
      if ((commanded.get(status.id) ?? -Infinity) >= started) continue;
      const wanted = desired.get(status.id) ?? atBoot.get(status.id) ?? false;
      const disabled = status.availability === 'disabled';
      if (wanted === !disabled) continue;
      if (wanted) monitor.enable(status.id);
      else monitor.disable(status.id);
      changed = true;
      // a command this instance missed (its subscriber reconnecting): said, as it changes what logins can use
      logger.warn({ idp: status.id, enabled: wanted }, 'idp state matched to the registry (a command was missed)');
    }
    if (changed) await publishStatus(redis, monitor);
  };
  const subscriber = redis.duplicate();
  subscriber.on('error', (error) => logger.warn({ err: error }, 'idp control: pub/sub connection error'));
  subscriber.on('message', (_channel: string, message: string) => {
    void (async () => {
      const command = JSON.parse(message) as IdpCommand;
      // an IdP this instance does not run: nothing to do (and no id a publisher chose enters the maps)
      if (typeof command.idp !== 'string' || !monitor.status().some((s) => s.id === command.idp))
        throw new Error('idp command for an IdP this gateway does not run');
      if (command.action === 'refresh') {
        await monitor.refresh(command.idp);
      } else if (command.action === 'disable') {
        // at once, whatever the registry answers (or fails to): hiding an IdP is the safe side; a forged one is undone
        // by the next reconcile
        commanded.set(command.idp, performance.now());
        monitor.disable(command.idp);
      } else if (command.action === 'enable') {
        // a hint to read the durable registry now, where the CLI wrote the state first: a message alone (anyone who
        // can publish on Redis) never enables an IdP the registry says is disabled. A read that fails enables nothing
        const started = performance.now();
        const wanted = options.desired
          ? ((await options.desired()).get(command.idp) ?? atBoot.get(command.idp) ?? false)
          : true;
        // a command or a read begun after this one was applied meanwhile: it is the newer word
        if ((commanded.get(command.idp) ?? -Infinity) > started) return;
        commanded.set(command.idp, started);
        if (wanted) monitor.enable(command.idp);
        else {
          monitor.disable(command.idp);
          logger.warn(
            { idp: command.idp, action: command.action },
            'idp enable not backed by the registry: the IdP stays disabled',
          );
        }
      } else {
        throw new Error(`unknown idp command ${String((command as { action: unknown }).action)}`);
      }
      logger.info({ idp: command.idp, action: command.action }, 'idp command applied');
      await publishStatus(redis, monitor);
    })().catch((error: unknown) => logger.warn({ err: error, message }, 'idp command failed'));
  });
  await subscriber.subscribe(controlChannel(options.prefix));
  await publishStatus(redis, monitor);
  const timer = setInterval(() => void publishStatus(redis, monitor).catch(() => undefined), 30_000);
  timer.unref();
  const reconciling = setInterval(
    () => void reconcile().catch((err: unknown) => logger.warn({ err }, 'idp state not matched to the registry')),
    options.reconcileMs ?? RECONCILE_MS,
  );
  reconciling.unref();
  return async () => {
    clearInterval(timer);
    clearInterval(reconciling);
    await closeRedis(subscriber);
  };
}
