/**
 * The IdP subsystem of a running gateway, in one call for `boot.ts`: the configuration's IdPs with the
 * durable registry applied (`registry-store.ts`), the adapters and their metadata monitor
 * (`build-adapters.ts`), and the control channel the admin CLI drives (`control.ts`).
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { buildIdps, type BuiltIdps } from './build-adapters.ts';
import { listenForCommands } from './control.ts';
import { IdpRegistryStore, mergeRegistry } from './registry-store.ts';

export type StartIdpsInput = Parameters<typeof buildIdps>[0] & { pool: Pool; redis: Redis };

/**
 * @example
 * const idps = await startIdps({ config, keys, sp, context, logger, certificateOf, decrypter, pool, redis });
 * closers.push(idps.stop);
 */
export async function startIdps(input: StartIdpsInput): Promise<BuiltIdps & { stop(): Promise<void> }> {
  const rows = await new IdpRegistryStore(input.pool).list();
  const idps = mergeRegistry(input.config.saml.idps, rows, process.cwd());
  const built = await buildIdps({ ...input, config: { ...input.config, saml: { ...input.config.saml, idps } } });
  built.spMetadata.start();
  const stopControl = await listenForCommands({
    redis: input.redis,
    prefix: input.config.redis.keyPrefix,
    monitor: built.monitor,
    logger: input.logger,
  });
  return {
    ...built,
    async stop() {
      built.monitor.stop();
      built.spMetadata.stop();
      await stopControl();
    },
  };
}
