/**
 * The lifecycle commands of the key-ceremony CLI (they need the lifecycle records in PostgreSQL,
 * `GW_DATABASE_URL`): generate, publish, activate, retire, destroy, export, jwks, schedule, and `list`
 * with states.
 *
 * - Every action is audited in `key_events` (actor `cli:<user>`), by the lifecycle store; exports too.
 * - activate, retire and destroy are confirmed (type the first 8 characters of the kid) unless `--yes`.
 * - `generate <purpose> ML-DSA-65 --ack-experimental` makes an in-process key wrapped under the token's
 *   KEK (`hsm/pq/`; run `kek init` first); `activate` of such a key needs `--ack-experimental` too;
 *   `destroy` also deletes its wrapped private key.
 * - Gateways pick changes up by polling the key-set version (within a second); no restart.
 */
import { openCliPool } from './cli-database.ts';
import { algorithm, isAlgorithmName } from './algorithms.ts';
import { cliUser } from './cli-user.ts';
import { HsmError } from './errors.ts';
import { isKeyPurpose } from './key-label.ts';
import { LifecycleKeyStore } from './lifecycle/lifecycle-keystore.ts';
import { TokenKek } from './hierarchy/kek.ts';
import { PgKeyRecords } from './lifecycle/pg-key-records.ts';
import { certifiesKey, inProcessJwk } from './lifecycle/publication.ts';
import { PqKeys } from './pq/pq-keys.ts';
import { PgWrappedKeys } from './pq/wrapped-keys.ts';
import { DEFAULT_ROTATION_POLICY, planRotation } from './lifecycle/rotation-plan.ts';
import type { TokenKeyStore } from './token-keystore.ts';

export interface CliIo {
  out: (line: string) => void;
  /** A line for the operator that is not the command's answer (stderr). */
  warn: (line: string) => void;
  /** Asks the operator; resolves to the answer (empty when there is no terminal). */
  ask: (question: string) => Promise<string>;
  env: NodeJS.ProcessEnv;
}

export interface LifecycleArgs {
  positional: string[];
  flags: Set<string>;
}

/** Commands that change which keys sign or exist: confirmed unless --yes. */
const DESTRUCTIVE = new Set(['activate', 'retire', 'destroy']);

function usage(message: string): HsmError {
  return new HsmError('HSM_CONFIG_INVALID', message);
}

/**
 * The shortest lead or retention a command may be given: the JWKS answer's max-age (RPs may keep it that long) and a
 * retired key's signing grace. Shorter, an RP would meet a key it cannot have fetched, or a token whose key is already
 * gone (`--force` is how to activate early, and it is audited as such).
 */
const SHORTEST_SECONDS = 60;

function seconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < SHORTEST_SECONDS)
    throw usage(`${name} must be a whole number of seconds, at least ${SHORTEST_SECONDS} (activate early: --force)`);
  return n * 1000;
}

async function confirm(io: CliIo, command: string, kid: string, flags: Set<string>): Promise<void> {
  if (!DESTRUCTIVE.has(command) || flags.has('--yes')) return;
  const answer = await io.ask(`${command} ${kid}: type the first 8 characters of the kid to confirm: `);
  if (answer.trim() !== kid.slice(0, 8))
    throw new HsmError('HSM_NOT_CONFIRMED', 'not confirmed: nothing changed (use --yes in scripts)');
}

/** Runs one lifecycle command against the token store `tokens`. */
export async function runLifecycleCommand(
  command: string,
  args: LifecycleArgs,
  tokens: TokenKeyStore,
  io: CliIo,
): Promise<void> {
  // `destroy k1 k2` destroyed k1 only: an argument more than the command takes is a usage error, never ignored
  const most = command === 'generate' ? 2 : command === 'list' || command === 'schedule' ? 0 : 1;
  if (args.positional.length > most)
    throw usage(`${command} takes ${most === 0 ? 'no argument' : `at most ${most} argument${most === 1 ? '' : 's'}`}`);
  const url = io.env.GW_DATABASE_URL;
  if (!url) throw usage('GW_DATABASE_URL is not set (lifecycle commands keep their records in PostgreSQL)');
  const pool = openCliPool(url, 2);
  try {
    const times = {
      leadTimeMs: seconds(io.env, 'GW_KEY_LEAD_SECONDS'),
      retentionMs: seconds(io.env, 'GW_KEY_RETENTION_SECONDS'),
    };
    const records = new PgKeyRecords(pool);
    const actor = `cli:${cliUser()}`;
    const acknowledgeExperimental = args.flags.has('--ack-experimental');
    const pq = async (): Promise<PqKeys> =>
      new PqKeys({ kek: await TokenKek.open(tokens.token), records, wrapped: new PgWrappedKeys(pool), actor });
    const keys = await LifecycleKeyStore.open({
      tokens,
      records,
      actor,
      publishInProcessKeys: true,
      times: Object.fromEntries(Object.entries(times).filter(([, v]) => v !== undefined)),
    });
    const [first, second] = args.positional;
    const kidArg = (): string => {
      if (!first) throw usage(`${command} needs a kid`);
      return keys.record(first).kid;
    };
    if (command === 'list') {
      for (const r of keys.records()) {
        const signer = tokens.signers().find((s) => s.kid === r.kid);
        const where = algorithm(r.alg).custody === 'process' ? 'in-process wrapped-under-kek' : 'not-on-token';
        const flags = signer
          ? Object.entries(await signer.keyFlags())
              .map(([n, v]) => `${n}=${String(v)}`)
              .join(' ')
          : where;
        const times = [
          ['published', r.publishedAt],
          ['activated', r.activatedAt],
          ['retired', r.retiredAt],
          ['notAfter', r.notAfter],
          ['destroyed', r.destroyedAt],
        ]
          .filter(([, t]) => t)
          .map(([n, t]) => `${String(n)}=${(t as Date).toISOString()}`)
          .join(' ');
        io.out(`${r.kid} ${r.purpose} ${r.alg} ${r.state} ${r.keyLabel} ${flags}${times ? ` ${times}` : ''}`);
      }
    } else if (command === 'generate') {
      if (!first || !isKeyPurpose(first)) throw usage('generate <purpose> <alg> [--pending]');
      if (!second || !isAlgorithmName(second))
        throw new HsmError('HSM_ALG_UNKNOWN', 'unknown signature algorithm', {
          detail: `alg=${JSON.stringify(second)}`,
        });
      const state = args.flags.has('--pending') ? 'pending' : 'next';
      const inProcess = algorithm(second).custody === 'process';
      const r =
        inProcess && acknowledgeExperimental
          ? await (await pq()).generate(first, second, { state, acknowledgeExperimental })
          : await keys.generate(first, second, { state, acknowledgeExperimental });
      io.out(`generated ${r.kid} ${r.purpose} ${r.alg} ${r.state} ${r.keyLabel}`);
    } else if (command === 'publish') {
      const r = await keys.publish(kidArg());
      io.out(`published ${r.kid} ${r.state}`);
    } else if (command === 'activate') {
      const kid = kidArg();
      await confirm(io, command, kid, args.flags);
      const r = await keys.activate(kid, { force: args.flags.has('--force'), acknowledgeExperimental });
      io.out(`activated ${r.kid}`);
    } else if (command === 'retire') {
      const kid = kidArg();
      await confirm(io, command, kid, args.flags);
      const r = await keys.retire(kid);
      io.out(`retired ${r.kid} notAfter=${r.notAfter?.toISOString()}`);
    } else if (command === 'destroy') {
      const kid = kidArg();
      await confirm(io, command, kid, args.flags);
      const r = await keys.destroy(kid, { force: args.flags.has('--force') });
      if (algorithm(r.alg).custody === 'process') await (await pq()).forget(r.kid);
      io.out(`destroyed ${r.kid}`);
    } else if (command === 'export') {
      const r = keys.record(kidArg());
      // the key as the token holds it (or, in process, as its own members make it), never the row's word alone: a
      // record someone with the database edited would hand an outsider's key to whoever is sent this export
      const held = tokens.signers().find((s) => s.kid === r.kid && s.purpose === r.purpose && s.alg === r.alg);
      const jwk = algorithm(r.alg).custody === 'process' ? inProcessJwk(r) : held?.publicJwk;
      if (jwk === undefined)
        throw new HsmError('HSM_KEY_NOT_FOUND', 'the record names no key the token holds', { detail: `kid=${r.kid}` });
      await keys.audit('export', r.kid, { certificate: args.flags.has('--certificate') });
      if (args.flags.has('--certificate')) {
        if (!r.certificatePem || !certifiesKey(r.certificatePem, jwk))
          throw new HsmError('HSM_KEY_NOT_FOUND', 'no certificate of this key was made yet');
        io.out(r.certificatePem.trimEnd());
      } else io.out(JSON.stringify(jwk));
    } else if (command === 'jwks') {
      if (!first || !isKeyPurpose(first)) throw usage('jwks <purpose>');
      await keys.audit('export-jwks', null, { purpose: first });
      io.out(JSON.stringify({ keys: keys.publishable(first) }));
    } else if (command === 'schedule') {
      for (const a of planRotation(keys.records(), DEFAULT_ROTATION_POLICY, keys.times.leadTimeMs, new Date())) {
        io.out(`${a.at.toISOString()} ${a.action} ${a.action === 'generate' ? `${a.purpose} ${a.alg}` : a.kid}`);
      }
    } else {
      throw usage(`unknown command ${command}`);
    }
  } finally {
    await pool.end();
  }
}
