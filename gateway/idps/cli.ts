/**
 * The IdP admin CLI: onboarding and the metadata lifecycle of a deployment.
 *
 *   node gateway/idps/cli.ts --config <gateway.json> <command>
 *     list                  every IdP: id, kind, state, metadata source
 *     status [id]           availability, last refresh, validUntil, next refresh, failures, key fingerprints,
 *                           last error — as the running gateways report it (or checked here if none runs)
 *     refresh <id>          every running gateway fetches and verifies that IdP's metadata now
 *     add <entry.json>      registers an IdP (a `saml.idps[]` entry, validated like the configuration);
 *                           running gateways load it at their next start
 *     disable <id> | enable <id> | remove <id>
 *                           durable, and applied at once by running gateways (remove = hidden now,
 *                           gone at the next start)
 *
 * The same status is served over HTTP by each gateway's operations listener: `GET /admin/idps[/:id]` to an
 * operator with the `admin` role (gateway/admin/idp-routes.ts).
 *
 * Each change (`add`, `disable`, `enable`, `remove`, `refresh`) is audited before it is made, component `idps`:
 * `IDP_ADDED` (with the SHA-256 of the stored entry and its metadata source), `IDP_DISABLED`, `IDP_ENABLED`,
 * `IDP_REMOVED`, `IDP_REFRESH_REQUESTED`, each naming the actor `cli:<OS user>`.
 *
 * Failures print `error <CODE>: <message>` on stderr and exit 1; usage errors exit 2. Secrets come from
 * the environment named by the configuration, as for the gateway.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { cliUser, parseCommandLine } from '../cli-arguments.ts';
import { AdapterError } from '../../adapters/contract.ts';
import { MetadataMonitor, type IdpStatus } from '../../adapters/metadata/monitor.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { canonicalJson } from '../audit/canonical.ts';
import { loadConfigFile } from '../config/load.ts';
import { parseIdps } from './parse-entries.ts';
import {
  anchorMisfit,
  keyRuleOf,
  unanchoredMetadata,
  unpinnedEntity,
} from '../../adapters/protocols/saml-entry-fit.ts';
import { unknownClientIn } from './idp-clients.ts';
import type { SamlIdpEntry } from '../../adapters/protocols/saml-config.ts';
import { ConfigError, GatewayError } from '../errors.ts';
import { migrate } from '../store/migrate.ts';
import { createPool } from '../store/postgres.ts';
import { createRedis } from '../store/redis.ts';
import { readStatus, sendCommand } from './control.ts';
import { IdpRegistryStore, mergeRegistry, type IdpState, type UnreadableRow } from './registry-store.ts';

const USAGE =
  'usage: node gateway/idps/cli.ts --config <file> list | status [id] | refresh <id> | add <entry.json> | disable <id> | enable <id> | remove <id>';

function line(status: IdpStatus, origin: string): string {
  return [
    status.id,
    status.availability,
    `lastSuccess=${status.lastSuccess ?? '-'}`,
    `validUntil=${status.validUntil ?? '-'}`,
    `nextRefresh=${status.nextRefresh ?? '-'}`,
    `failures=${status.consecutiveFailures}`,
    `keys=${status.keyFingerprints.map((f) => f.slice(0, 16)).join(',') || '-'}`,
    `error=${status.lastError ? `${status.lastError.code}` : '-'}`,
    `(${origin})`,
  ].join(' ');
}

async function localCheck(entry: SamlIdpEntry): Promise<IdpStatus> {
  const monitor = new MetadataMonitor();
  monitor.register({
    id: entry.id,
    source: entry.metadataFile !== undefined ? { file: entry.metadataFile } : { url: entry.metadataUrl! },
    ...(entry.entityId === undefined ? {} : { entityId: entry.entityId }),
    trustAnchors: entry.metadata.trustAnchorFiles.map((f) => readFileSync(f, 'utf8')),
    keyRule: keyRuleOf(entry),
    requireValidUntil: entry.metadata.requireValidUntil,
    policy: {
      refreshSeconds: entry.metadata.refreshSeconds,
      minSeconds: entry.metadata.minRefreshSeconds,
      maxBackoffSeconds: entry.metadata.maxBackoffSeconds,
    },
  });
  if (!entry.enabled) monitor.disable(entry.id);
  return monitor.refresh(entry.id);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { config: { type: 'string' } });
  const [command, arg] = positionals;
  // `disable a b` disabled a only: an argument more is a usage error, never ignored
  if (!values.config || !command || positionals.length > 2) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = loadConfigFile(values.config);
  const pool = createPool(config.database.url);
  const redis = createRedis(config.redis);
  const actor = `cli:${cliUser()}`;
  const audit = new AuditLog(pool);
  // each change of the registry is audited before it is made (the record of a change that then failed says more
  // than happened, never less): who, what, and for an added entry the digest of what was stored
  const audited = (id: string, to: string, details: Record<string, unknown> = {}) =>
    audit.append({ sessionId: `idp:${id}`, from: null, to, component: 'idps', details: { actor, ...details } });
  try {
    await migrate(pool, () => undefined);
    const store = new IdpRegistryStore(pool);
    const rows = await store.list();
    // an unreadable row is listed as such and can still be disabled, removed or replaced (`add`): the CLI is how
    // an operator mends it, so it must not stop at it
    const unreadable: UnreadableRow[] = [];
    const idps = mergeRegistry(config.saml.idps, rows, process.cwd(), (row) => unreadable.push(row));
    const known = (id: string | undefined): string => {
      if (!id) throw new ConfigError('(arguments)', `${command} needs an IdP id`);
      if (
        !idps.some((e) => e.id === id) &&
        !config.saml.idps.some((e) => e.id === id) &&
        !unreadable.some((row) => row.id === id)
      )
        throw new AdapterError('ADAPTER_UNKNOWN', 'Unknown identity provider.', { detail: id });
      return id;
    };
    const setState = async (id: string, state: IdpState, action: 'disable' | 'enable') => {
      await audited(id, `IDP_${state.toUpperCase()}`);
      await store.put(id, null, state, actor);
      const gateways = await sendCommand(redis, config.redis.keyPrefix, { action, idp: id });
      process.stdout.write(`${state} ${id} (${gateways} running gateway${gateways === 1 ? '' : 's'} told)\n`);
    };
    switch (command) {
      case 'list':
        for (const e of idps)
          process.stdout.write(
            `${e.id} ${e.kind} ${e.enabled ? 'enabled' : 'disabled'} ${e.metadataUrl ?? e.metadataFile} ${e.displayName}\n`,
          );
        for (const row of unreadable)
          process.stdout.write(`${row.id} unreadable (${row.state} in the registry, not offered): ${row.reason}\n`);
        return 0;
      case 'status': {
        const selected = arg ? idps.filter((e) => e.id === known(arg)) : idps;
        const published = await readStatus(
          redis,
          selected.map((e) => e.id),
        );
        for (const [i, entry] of selected.entries()) {
          const status = published[i];
          process.stdout.write(
            `${status ? line(status, 'reported by the gateway') : line(await localCheck(entry), 'checked by the CLI')}\n`,
          );
        }
        return 0;
      }
      case 'refresh': {
        await audited(known(arg), 'IDP_REFRESH_REQUESTED');
        const gateways = await sendCommand(redis, config.redis.keyPrefix, { action: 'refresh', idp: known(arg) });
        process.stdout.write(
          `refresh requested for ${arg!} (${gateways} running gateway${gateways === 1 ? '' : 's'} told)\n`,
        );
        return 0;
      }
      case 'add': {
        if (!arg) throw new ConfigError('(arguments)', 'add needs an entry file');
        const file = resolve(arg);
        const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        const [entry] = parseIdps([raw], dirname(file));
        if (config.saml.idps.some((e) => e.id === entry!.id))
          throw new ConfigError('id', `${entry!.id} is defined in the configuration file`);
        // a gateway leaves out an entry naming a client it does not have: said here, not found later in its log
        const unknownClient = unknownClientIn(
          entry!.onlyClients,
          config.clients.map((c) => c.client_id),
        );
        if (unknownClient !== undefined)
          throw new ConfigError('onlyClients', `names ${unknownClient}, which is not a configured client`);
        const anchor = anchorMisfit(entry!);
        if (anchor !== undefined) throw new ConfigError(anchor.path, anchor.why);
        if (unpinnedEntity(entry!) !== undefined)
          throw new ConfigError('entityId', 'required with metadataUrl: the entityID that URL must serve');
        const stored = {
          ...raw,
          ...(entry!.metadataFile ? { metadataFile: entry!.metadataFile } : {}),
          ...(entry!.metadata.trustAnchorFiles.length
            ? { metadata: { ...(raw.metadata as object), trustAnchorFiles: entry!.metadata.trustAnchorFiles } }
            : {}),
        };
        // an entry replaced while disabled (a compromised key) stays disabled: running gateways hold the entry they
        // booted with, and re-enabling it here put its old keys back in service at once, everywhere
        const replacing = rows.find((row) => row.id === entry!.id);
        // (removed: the running gateways still hold it, and their reconcile would enable it)
        const keptDisabled = replacing?.state === 'disabled' || replacing?.state === 'removed';
        const state = keptDisabled || !entry!.enabled ? 'disabled' : 'enabled';
        await audited(entry!.id, 'IDP_ADDED', {
          state,
          source: entry!.metadataUrl ?? entry!.metadataFile ?? null,
          // of its canonical JSON (keys sorted): recomputable from the registry's row, whose jsonb reorders keys
          sha256: createHash('sha256').update(canonicalJson(stored)).digest('hex'),
        });
        await store.put(entry!.id, stored, state, actor);
        process.stdout.write(
          keptDisabled
            ? `replaced ${entry!.id}, kept disabled: restart the gateways (they hold the entry they booted with), then enable it\n`
            : `${replacing ? 'replaced' : 'added'} ${entry!.id} (running gateways load it at their next start)\n`,
        );
        const unanchored = unanchoredMetadata(entry!);
        if (unanchored !== undefined) process.stderr.write(`warning: ${entry!.id}: ${unanchored}\n`);
        return 0;
      }
      case 'disable':
        await setState(known(arg), 'disabled', 'disable');
        return 0;
      case 'enable':
        await setState(known(arg), 'enabled', 'enable');
        return 0;
      case 'remove':
        await setState(known(arg), 'removed', 'disable');
        return 0;
      default:
        process.stderr.write(`${USAGE}\n`);
        return 2;
    }
  } finally {
    await audit.close();
    await redis.quit();
    await pool.end();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const code = error instanceof AdapterError || error instanceof GatewayError ? error.code : 'IDP_CLI_FAILED';
    process.stderr.write(
      `error ${code}: ${error instanceof Error ? error.message : String(error)}${error instanceof AdapterError && error.detail ? ` (${error.detail})` : ''}\n`,
    );
    process.exit(1);
  },
);
