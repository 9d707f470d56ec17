/**
 * Per-client ID-token algorithm chosen at run time (RS256 for one RP, EdDSA for another, from the same
 * key set). The configuration gives each client its initial algorithm; a row here overrides it.
 *
 * - A change bumps the key-set version in the same transaction, so every instance rebuilds its Provider
 *   (same path as a key change).
 * - Only registry algorithms are accepted (`HSM_ALG_UNKNOWN` otherwise); the caller checks that an
 *   active key of that algorithm exists before switching a client (`KeyLifecycle.setClientAlgorithm`).
 */
import type { Pool } from 'pg';
import { algorithm, tokenAlgorithm, type AlgorithmName } from '../../hsm/algorithms.ts';

/** The overrides, client_id → alg. */
export async function loadClientAlgorithms(pool: Pool): Promise<Map<string, AlgorithmName>> {
  const { rows } = await pool.query<{ client_id: string; id_token_alg: string }>(
    'select client_id, id_token_alg from client_signing_algs',
  );
  return new Map(rows.map((row) => [row.client_id, algorithm(row.id_token_alg).name]));
}

/** Stores `clientId`'s ID-token algorithm and bumps the key-set version; returns the new version. */
export async function storeClientAlgorithm(pool: Pool, clientId: string, alg: string, actor: string): Promise<number> {
  const name = tokenAlgorithm(alg).name; // in-process (experimental) rows cannot sign ID tokens yet: fail closed
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('select version from key_set_version for update');
    await client.query(
      `insert into client_signing_algs (client_id, id_token_alg) values ($1, $2)
       on conflict (client_id) do update set id_token_alg = excluded.id_token_alg, updated_at = now()`,
      [clientId, name],
    );
    const { rows } = await client.query<{ version: string }>(
      'update key_set_version set version = version + 1 returning version',
    );
    const version = Number(rows[0]!.version);
    await client.query(
      "insert into key_events (action, kid, actor, version, detail) values ('client-alg', null, $1, $2, $3)",
      [actor, version, JSON.stringify({ clientId, alg: name })],
    );
    await client.query('commit');
    return version;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
