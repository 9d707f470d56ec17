/**
 * The key-hierarchy commands of the key-ceremony CLI:
 *
 * - `kek init`: generates the token's AES-256 KEK (non-extractable, wrap/unwrap only) unless it has one;
 *   prints `kek <id> <label> generated|exists` and the KEK's flags. A KEK generated is audited (`kek-init` in
 *   `key_events`) when `GW_DATABASE_URL` names the database; without it, stderr says it was not audited.
 * - `kek show`: the KEK and its flags.
 * - `dek rotate [domain]`: the token generates a new DEK, wrapped under the KEK and stored in PostgreSQL
 *   as the active version of `domain` (default `gateway`); the previous one is retired and kept for
 *   decryption. Audited (`dek-rotate` in `key_events`). Prints `dek <domain> <version> active`.
 * - `dek list [domain]`: versions, states, KEK ids (never key bytes).
 */
import { openCliPool } from './cli-database.ts';
import { cliUser } from './cli-user.ts';
import { HsmError } from './errors.ts';
import { KeyHierarchy } from './hierarchy/key-hierarchy.ts';
import { TokenKek } from './hierarchy/kek.ts';
import { PgDekRepository } from './hierarchy/pg-deks.ts';
import type { TokenKeyStore } from './token-keystore.ts';

export interface HierarchyIo {
  out: (line: string) => void;
  /** A line for the operator that is not the command's answer (stderr). */
  warn: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const flagsText = (flags: Record<string, boolean>): string =>
  Object.entries(flags)
    .map(([n, v]) => `${n}=${String(v)}`)
    .join(' ');

/**
 * Records a generated KEK in `key_events` (action `kek-init`, actor `cli:<user>`). Without `GW_DATABASE_URL`
 * (a token prepared before its database) the KEK is made and the CLI says on stderr that it is not audited.
 */
async function auditKekInit(io: HierarchyIo, detail: { kekId: string; label: string; tokenLabel: string }) {
  const url = io.env.GW_DATABASE_URL;
  if (!url) {
    io.warn('kek init: not audited (GW_DATABASE_URL is not set; key_events is in the gateway database)');
    return;
  }
  const pool = openCliPool(url, 1);
  try {
    await pool.query(
      'insert into key_events (action, kid, actor, version, detail) select $1, null, $2, version, $3 from key_set_version',
      ['kek-init', `cli:${cliUser()}`, JSON.stringify(detail)],
    );
  } catch (error) {
    throw new HsmError('HSM_RECORDS_FAILED', 'the KEK was generated but its key_events record failed', {
      detail: (error as Error).message,
      cause: error,
    });
  } finally {
    await pool.end();
  }
}

/** Runs `kek <init|show>` or `dek <rotate|list> [domain]`. */
export async function runHierarchyCommand(
  command: 'kek' | 'dek',
  positional: string[],
  tokens: TokenKeyStore,
  io: HierarchyIo,
): Promise<void> {
  const [sub, domainArg] = positional;
  // an argument more than the command takes is a usage error, never ignored
  if (positional.length > (command === 'kek' ? 1 : 2))
    throw new HsmError(
      'HSM_CONFIG_INVALID',
      command === 'kek' ? 'kek init | kek show' : 'dek rotate [domain] | dek list [domain]',
    );
  if (command === 'kek') {
    if (sub === 'init') {
      const { kek, generated } = await TokenKek.ensure(tokens.token);
      // a key ceremony is audited as every other (`key_events`, `kek-init`) where the gateway's database is named
      if (generated) await auditKekInit(io, { kekId: kek.id, label: kek.label, tokenLabel: tokens.token.label });
      io.out(`kek ${kek.id} ${kek.label} ${generated ? 'generated' : 'exists'} ${flagsText(await kek.flags())}`);
    } else if (sub === 'show') {
      const kek = await TokenKek.open(tokens.token);
      io.out(`kek ${kek.id} ${kek.label} ${flagsText(await kek.flags())}`);
    } else throw new HsmError('HSM_CONFIG_INVALID', 'kek init | kek show');
    return;
  }
  if (sub !== 'rotate' && sub !== 'list')
    throw new HsmError('HSM_CONFIG_INVALID', 'dek rotate [domain] | dek list [domain]');
  const url = io.env.GW_DATABASE_URL;
  if (!url)
    throw new HsmError('HSM_CONFIG_INVALID', 'GW_DATABASE_URL is not set (DEKs are stored wrapped in PostgreSQL)');
  const pool = openCliPool(url, 2);
  try {
    const repository = new PgDekRepository(pool);
    const domain = domainArg ?? 'gateway';
    if (sub === 'list') {
      for (const r of await repository.list(domain))
        io.out(
          `dek ${r.domain} ${r.version} ${r.state} kek=${r.kekId}@${r.tokenLabel} ${r.wrapMechanism} created=${r.createdAt.toISOString()}`,
        );
      return;
    }
    const first = (await repository.list(domain)).length === 0;
    const hierarchy = await KeyHierarchy.open({
      kek: await TokenKek.open(tokens.token),
      repository,
      domain,
      actor: `cli:${cliUser()}`,
      bootstrap: first,
    });
    const record = first ? hierarchy.records[0]! : await hierarchy.rotate();
    io.out(`dek ${record.domain} ${record.version} active`);
  } finally {
    await pool.end();
  }
}
