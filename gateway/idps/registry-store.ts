/**
 * The durable IdP registry (PostgreSQL `idp_registry`): IdPs added with the admin CLI and state changes
 * (disabled, removed) of any IdP. The configuration file stays the base; `mergeRegistry` applies the
 * registry on top of it at boot: added entries are validated exactly like the configuration's, removed
 * IdPs are left out, disabled ones are registered but hidden.
 */
import type { Pool } from 'pg';
import type { SamlIdpEntry } from '../../adapters/protocols/saml-config.ts';
import { parseIdps } from './parse-entries.ts';
import type { GatewayConfig } from '../config/types.ts';

export type IdpState = 'enabled' | 'disabled' | 'removed';

export interface RegistryRow {
  id: string;
  entry: Record<string, unknown> | null;
  state: IdpState;
  updatedAt: Date;
  updatedBy: string;
}

export class IdpRegistryStore {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Adds or replaces an IdP entry, or (entry null) only sets the state of an IdP. */
  async put(id: string, entry: Record<string, unknown> | null, state: IdpState, actor: string): Promise<void> {
    await this.#pool.query(
      `insert into idp_registry (id, entry, state, updated_by) values ($1, $2, $3, $4)
       on conflict (id) do update set entry = coalesce($2, idp_registry.entry), state = $3, updated_at = now(), updated_by = $4`,
      [id, entry === null ? null : JSON.stringify(entry), state, actor],
    );
  }

  async list(): Promise<RegistryRow[]> {
    const { rows } = await this.#pool.query(
      'select id, entry, state, updated_at, updated_by from idp_registry order by id',
    );
    return rows.map(
      (r: {
        id: string;
        entry: Record<string, unknown> | null;
        state: IdpState;
        updated_at: Date;
        updated_by: string;
      }) => ({
        id: r.id,
        entry: r.entry,
        state: r.state,
        updatedAt: r.updated_at,
        updatedBy: r.updated_by,
      }),
    );
  }
}

/** A registry row whose entry this host cannot read (written by a newer version, or edited by hand). */
export interface UnreadableRow {
  id: string;
  state: IdpState;
  reason: string;
}

/**
 * The configuration's IdPs with the registry applied. A row whose entry does not parse is left out and
 * handed to `unreadable` (the IdP is not offered: fail closed for it), so that one bad row never stops the
 * boot or the CLI for every other IdP.
 *
 * @example
 * const idps = mergeRegistry(config.saml.idps, await store.list(), baseDir, (row) => logger.warn(row));
 */
export function mergeRegistry(
  configured: readonly SamlIdpEntry[],
  rows: readonly RegistryRow[],
  baseDir: string,
  unreadable: (row: UnreadableRow) => void,
): SamlIdpEntry[] {
  const byId = new Map(configured.map((entry) => [entry.id, entry]));
  for (const row of rows) {
    // a removed IdP's entry is never read (nothing of it is offered, whatever it holds)
    if (row.state === 'removed') {
      byId.delete(row.id);
      continue;
    }
    if (row.entry) {
      let parsed: SamlIdpEntry;
      try {
        [parsed] = parseIdps([{ ...row.entry, id: row.id }], baseDir) as [SamlIdpEntry];
      } catch (error) {
        byId.delete(row.id);
        unreadable({ id: row.id, state: row.state, reason: error instanceof Error ? error.message : String(error) });
        continue;
      }
      byId.set(row.id, parsed);
    }
    const entry = byId.get(row.id);
    if (entry) byId.set(row.id, { ...entry, enabled: row.state === 'enabled' });
  }
  return [...byId.values()];
}

/**
 * The configuration with the durable registry applied to the IdPs of the one protocol that has a registry
 * (its entries are checked by `parse-entries.ts`).
 */
export function applyRegistry(
  config: GatewayConfig,
  rows: readonly RegistryRow[],
  baseDir: string,
  unreadable: (row: UnreadableRow) => void,
): GatewayConfig {
  if (rows.length === 0) return config;
  return { ...config, saml: { ...config.saml, idps: mergeRegistry(config.saml.idps, rows, baseDir, unreadable) } };
}
