/**
 * The operations listener's settings (`ops`, issue #10 item 13), validated at boot like the rest:
 *
 * - `enabled` (default false): the admin API, `/metrics` and `/ready` are served on their own listener
 *   only; the public listener answers 404 for them whatever the peer;
 * - `listen.host` (default `127.0.0.1`), `listen.port` (required when enabled, ≠ `listen.port`); a host
 *   that is not loopback needs `acknowledgeNonLoopback: true`;
 * - `operators[]`: `{ name, token, roles }` — `token` is a secret reference (`{ "env" }` / `{ "file" }`,
 *   ≥ 32 characters) kept only as its SHA-256; `roles` ⊆ `admin` (IdP status), `metrics` (`/metrics`),
 *   `reviewer` (the manual-review queue), `revoker` (session revocation, `/admin/revocations`). At least
 *   one operator when enabled; names and tokens distinct;
 * - `review.level3Approvals` (default 2, 1–5): distinct operators who must approve a level-3 review.
 *
 * `GW_ADMIN_TOKEN` and `GW_METRICS_ALLOW` (loopback-gated, shared token) are refused (retired-env.ts).
 * An operator is who presented the credential (admin/operator-auth.ts); the peer address grants nothing.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import { array, boolean, integer, join, object, onlyKeys, secret, string, type Obj } from './check.ts';

export type OperatorRole = 'admin' | 'metrics' | 'reviewer' | 'revoker';
export const OPERATOR_ROLES: readonly OperatorRole[] = ['admin', 'metrics', 'reviewer', 'revoker'];

export interface OperatorEntry {
  name: string;
  /** SHA-256 of the bearer credential (the credential itself is not kept). */
  tokenHash: Buffer;
  roles: readonly OperatorRole[];
}

export interface OpsConfig {
  enabled: boolean;
  listen: { host: string; port: number };
  acknowledgeNonLoopback: boolean;
  operators: OperatorEntry[];
  review: { level3Approvals: number };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/** The digest under which an operator credential is stored and compared. */
export function credentialHash(credential: string): Buffer {
  return createHash('sha256').update(credential, 'utf8').digest();
}

function parseOperator(raw: unknown, at: string, env: NodeJS.ProcessEnv): OperatorEntry {
  const op = object(raw, at);
  onlyKeys(op, at, ['name', 'token', 'roles']);
  const roles = array(op, 'roles', at, { min: 1 }).map((role, i) => {
    if (typeof role !== 'string' || !(OPERATOR_ROLES as readonly string[]).includes(role)) {
      throw new ConfigError(join(join(at, 'roles'), i), `must be one of ${OPERATOR_ROLES.join(', ')}`);
    }
    return role as OperatorRole;
  });
  return {
    name: string(op, 'name', at, { pattern: /^[\w.@:-]{1,64}$/ }),
    tokenHash: credentialHash(secret(op, 'token', at, env, { min: 32 })),
    roles: [...new Set(roles)],
  };
}

/**
 * @example
 * parseOps({ enabled: true, listen: { port: 9464 }, operators: [{ name: 'alice', token: { env: 'GW_OP_ALICE' }, roles: ['reviewer'] }] }, 3000, process.env)
 */
export function parseOps(raw: unknown, publicPort: number, env: NodeJS.ProcessEnv): OpsConfig {
  const ops = object(raw ?? {}, 'ops');
  onlyKeys(ops, 'ops', ['enabled', 'listen', 'acknowledgeNonLoopback', 'operators', 'review']);
  const enabled = boolean(ops, 'enabled', 'ops', false);
  const listen: Obj = object(ops.listen ?? {}, 'ops.listen');
  onlyKeys(listen, 'ops.listen', ['host', 'port']);
  const review = object(ops.review ?? {}, 'ops.review');
  onlyKeys(review, 'ops.review', ['level3Approvals']);
  const host = string(listen, 'host', 'ops.listen', { default: '127.0.0.1' });
  const acknowledgeNonLoopback = boolean(ops, 'acknowledgeNonLoopback', 'ops', false);
  const port = enabled
    ? integer(listen, 'port', 'ops.listen', { min: 0, max: 65535 })
    : integer(listen, 'port', 'ops.listen', { default: 0, min: 0, max: 65535 });
  const operators = array(ops, 'operators', 'ops', { optional: !enabled, min: enabled ? 1 : 0 }).map((o, i) =>
    parseOperator(o, join(join('ops', 'operators'), i), env),
  );
  if (enabled && !LOOPBACK_HOSTS.has(host) && !acknowledgeNonLoopback) {
    throw new ConfigError(
      'ops.listen.host',
      'the operations listener binds to loopback only unless ops.acknowledgeNonLoopback is true',
    );
  }
  if (enabled && port !== 0 && port === publicPort)
    throw new ConfigError('ops.listen.port', 'must differ from listen.port');
  const names = new Set<string>();
  const hashes = new Set<string>();
  operators.forEach((o, i) => {
    const at = join(join('ops', 'operators'), i);
    if (names.has(o.name)) throw new ConfigError(join(at, 'name'), 'operator names must be distinct');
    if (hashes.has(o.tokenHash.toString('hex')))
      throw new ConfigError(join(at, 'token'), 'operator tokens must be distinct');
    names.add(o.name);
    hashes.add(o.tokenHash.toString('hex'));
  });
  return {
    enabled,
    listen: { host, port },
    acknowledgeNonLoopback,
    operators,
    review: { level3Approvals: integer(review, 'level3Approvals', 'ops.review', { default: 2, min: 1, max: 5 }) },
  };
}
