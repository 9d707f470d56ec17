/**
 * The upstream side of a running gateway, in one call for `boot.ts`: every protocol of the table
 * (`adapters/protocols/table.ts`) started with its section of the configuration (the durable registry of
 * IdPs applied first, `registry-store.ts`), its adapters in one `AdapterRegistry`, its routes collected for
 * `interaction/upstream-routes.ts`, and the control channel the admin CLI drives (`control.ts`).
 *
 * - A protocol that fails to start with a configuration error (`kind: 'config'`) stops the boot with a
 *   `ConfigError` naming the path in its section.
 * - Two routes with one method and path refuse the boot (no protocol may shadow another's endpoint).
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { AdapterError } from '../../adapters/contract.ts';
import type { AdapterRoute } from '../../adapters/contract/routes.ts';
import { ADAPTER_ERRORS } from '../../adapters/errors/registry.ts';
import type { MetadataMonitor } from '../../adapters/metadata/monitor.ts';
import type { RunningUpstream, UpstreamDeps } from '../../adapters/protocols/protocol.ts';
import { PROTOCOLS } from '../../adapters/protocols/table.ts';
import { AdapterRegistry } from '../../adapters/registry.ts';
import type { GatewayConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { listenForCommands } from './control.ts';
import { applyRegistry, IdpRegistryStore } from './registry-store.ts';
import { leaveOutMisfits } from './registry-misfits.ts';

export interface Upstreams {
  adapters: AdapterRegistry;
  routes: AdapterRoute[];
  /** The IdPs' trust-material monitor (status, refresh, disable, enable); one per deployment for now. */
  monitor: MetadataMonitor | undefined;
  /** The earliest expiry of the documents we publish upstream (SP metadata), for the metrics. */
  publishedValidUntil(): Date | undefined;
  stop(): Promise<void>;
}

/**
 * @example
 * const upstreams = await startUpstreams({ config, deps, pool, redis, logger });
 * closers.push(upstreams.stop);
 */
export async function startUpstreams(input: {
  config: GatewayConfig;
  deps: UpstreamDeps;
  pool: Pool;
  redis: Redis;
  logger: Logger;
  /** How often the IdPs' enabled state is matched to the registry (default `RECONCILE_MS`). */
  reconcileMs?: number;
}): Promise<Upstreams> {
  const rows = await new IdpRegistryStore(input.pool).list();
  // the registry's enabled IdPs left out here: withdrawn by nobody (idp-still-vouches.ts)
  const leftOutEnabled = new Set<string>();
  // every IdP left out here, whatever its state: one enabled later is "not loaded here" from then on
  const leftOutAtBoot = new Set<string>();
  // a row this version cannot read leaves its IdP out (fail closed for it) and never stops the others' boot
  const merged = applyRegistry(input.config, rows, process.cwd(), (row) => {
    leftOutAtBoot.add(row.id);
    if (row.state === 'enabled') leftOutEnabled.add(row.id);
    input.logger.error(
      { code: 'IDP_REGISTRY_ENTRY_UNREADABLE', idp: row.id, state: row.state, reason: row.reason },
      'an IdP of the durable registry is not offered: its entry does not parse here (fix it with the IdP CLI)',
    );
  });
  // so does a row that parses but does not fit this deployment (a client it names, a key it needs, a trust anchor):
  // the same checks stop the boot for an entry of the configuration file
  const config = leaveOutMisfits(merged, rows, input.deps, input.logger, (entry) => {
    leftOutAtBoot.add(entry.id);
    if (entry.enabled) leftOutEnabled.add(entry.id);
  });
  const adapters = new AdapterRegistry();
  const running: RunningUpstream[] = [];
  const stopAll = async () => {
    for (const r of running) await r.stop();
  };
  try {
    for (const protocol of PROTOCOLS) {
      const section = (config as unknown as Record<string, unknown>)[protocol.configKey];
      if (section === undefined) continue;
      running.push(await startOne(protocol.configKey, () => protocol.start(section, input.deps)));
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  for (const r of running) for (const { adapter, issuer } of r.adapters) adapters.register(adapter, { issuer });
  const routes = running.flatMap((r) => r.routes);
  refuseRouteClash(routes);
  const monitor = running.find((r) => r.monitor)?.monitor;
  adapters.monitor = monitor;
  // the registry's enabled IdPs left out here, kept current at each reconcile (idp-still-vouches.ts)
  adapters.leftOutEnabled = leftOutEnabled;
  // the durable registry's say on which IdPs are enabled, read again on a timer (a missed command is made up)
  // (states only: no entry is parsed again, so one row this host cannot read never stops the others' reconcile;
  // an IdP the registry has no row for keeps the state it booted with, the configuration file's)
  const desired = async () => {
    const states = new Map(
      (await new IdpRegistryStore(input.pool).list()).map((row) => [row.id, row.state === 'enabled'] as const),
    );
    // the IdPs left out here stay "not loaded here" only while the registry has them enabled: one disabled or
    // removed since is withdrawn (idp-still-vouches.ts)
    for (const id of leftOutAtBoot)
      if (states.get(id) === true) leftOutEnabled.add(id);
      else leftOutEnabled.delete(id);
    return states;
  };
  const stopControl = monitor
    ? await listenForCommands({
        redis: input.redis,
        prefix: config.redis.keyPrefix,
        monitor,
        logger: input.logger,
        desired,
        ...(input.reconcileMs === undefined ? {} : { reconcileMs: input.reconcileMs }),
      })
    : async () => undefined;
  return {
    adapters,
    routes,
    monitor,
    publishedValidUntil: () =>
      running
        .map((r) => r.publishedValidUntil?.())
        .filter((d): d is Date => d !== undefined)
        .sort((a, b) => a.getTime() - b.getTime())[0],
    async stop() {
      await stopAll();
      await stopControl();
    },
  };
}

/** Throws `CONFIG_INVALID` when two routes share a method and path (no protocol may shadow another's endpoint). */
export function refuseRouteClash(routes: readonly AdapterRoute[]): void {
  const seen = new Set<string>();
  for (const route of routes) {
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) throw new ConfigError('(upstream routes)', `two protocols serve ${key}`);
    seen.add(key);
  }
}

async function startOne(configKey: string, start: () => Promise<RunningUpstream>): Promise<RunningUpstream> {
  try {
    return await start();
  } catch (error) {
    if (error instanceof AdapterError && ADAPTER_ERRORS[error.code].kind === 'config')
      throw new ConfigError(
        error.detail === undefined
          ? configKey
          : error.detail.startsWith('(')
            ? error.detail
            : `${configKey}.${error.detail}`,
        error.message,
      );
    throw error;
  }
}
