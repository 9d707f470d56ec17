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
 * - `tls`: `{ certFile, keyFile }` (PEM, resolved against the config file's folder, read and checked as a pair
 *   at boot): the listener speaks HTTPS (TLS 1.2 at least). Off loopback it is required: operator bearer tokens,
 *   the review queue and revocations would otherwise cross the network in clear. `acknowledgePlainHttp: true`
 *   waives it where the path is protected otherwise (a TLS-terminating sidecar, a firewalled segment): the port
 *   then carries those tokens in clear to whoever reaches it;
 * - `review.level3Approvals` (default 2, 1–5): distinct operators who must approve a level-3 review; with
 *   reviewers configured, there must be at least that many (fewer could never approve one);
 * - a token is 32 to 512 printable ASCII characters without spaces: what a Bearer header carries.
 *
 * `GW_ADMIN_TOKEN` and `GW_METRICS_ALLOW` (loopback-gated, shared token) are refused (retired-env.ts).
 * An operator is who presented the credential (admin/operator-auth.ts); the peer address grants nothing.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { bool, int, list, oneOf, secret, section, text } from './fields.ts';
import { parseWith } from './schema-error.ts';

export type OperatorRole = 'admin' | 'metrics' | 'reviewer' | 'revoker';
export const OPERATOR_ROLES = ['admin', 'metrics', 'reviewer', 'revoker'] as const satisfies readonly OperatorRole[];

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
  /** The listener's certificate chain and key (PEM): HTTPS; absent, plain HTTP (loopback, or acknowledged). */
  tls?: { cert: string; key: string };
  acknowledgePlainHttp: boolean;
  operators: OperatorEntry[];
  review: { level3Approvals: number };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/** The digest under which an operator credential is stored and compared. */
export function credentialHash(credential: string): Buffer {
  return createHash('sha256').update(credential, 'utf8').digest();
}

function operatorSchema(env: NodeJS.ProcessEnv) {
  return z
    .strictObject({
      name: text(/^[\w.@:-]{1,64}$/),
      // what a Bearer header can carry and operator-auth.ts matches: a token outside it could never authenticate
      token: secret(env, { min: 32 }).refine((token) => /^[\x21-\x7e]{32,512}$/.test(token), {
        message: 'must be 32 to 512 printable ASCII characters without spaces (an HTTP bearer credential)',
      }),
      roles: list(oneOf(OPERATOR_ROLES), 1),
    })
    .transform(({ name, token, roles }): OperatorEntry => ({
      name,
      tokenHash: credentialHash(token),
      roles: [...new Set(roles)],
    }));
}

/** The certificate and key files, read and checked as a pair (a boot failure naming `ops.tls`, not a request's). */
function readTls(
  files: { certFile: string; keyFile: string },
  baseDir: string,
  issue: (path: PropertyKey[], message: string) => void,
): { cert: string; key: string } | undefined {
  const read = (field: 'certFile' | 'keyFile') => {
    const file = resolve(baseDir, files[field]);
    try {
      return readFileSync(file, 'utf8');
    } catch {
      issue(['tls', field], `cannot read ${file}`);
      return undefined;
    }
  };
  const [cert, key] = [read('certFile'), read('keyFile')];
  if (cert === undefined || key === undefined) return undefined;
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    issue(['tls'], `the certificate and key do not make a TLS identity: ${(error as Error).message}`);
    return undefined;
  }
  return { cert, key };
}

/**
 * The `ops` section; `publicPort` is the public listener's port, which the operations listener must not share;
 * `baseDir` the config file's folder (the TLS files are resolved against it).
 */
export function opsSchema(publicPort: number, env: NodeJS.ProcessEnv, baseDir = '.') {
  return section({
    enabled: bool().default(false),
    listen: section({ host: text().default('127.0.0.1'), port: int(0, 65535).optional() }),
    acknowledgeNonLoopback: bool().default(false),
    tls: z.strictObject({ certFile: text(), keyFile: text() }, 'must be an object').optional(),
    acknowledgePlainHttp: bool().default(false),
    operators: list(operatorSchema(env)).optional(),
    review: section({ level3Approvals: int(1, 5).default(2) }),
  }).transform((ops, ctx): OpsConfig => {
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const operators = ops.operators ?? [];
    if (ops.enabled) {
      if (ops.listen.port === undefined) issue(['listen', 'port'], 'is required');
      if (operators.length === 0)
        issue(['operators'], ops.operators === undefined ? 'is required' : 'must have at least 1 entry');
      if (!LOOPBACK_HOSTS.has(ops.listen.host) && !ops.acknowledgeNonLoopback)
        issue(
          ['listen', 'host'],
          'the operations listener binds to loopback only unless ops.acknowledgeNonLoopback is true',
        );
      if (ops.listen.port !== undefined && ops.listen.port !== 0 && ops.listen.port === publicPort)
        issue(['listen', 'port'], 'must differ from listen.port');
      if (!LOOPBACK_HOSTS.has(ops.listen.host) && ops.tls === undefined && !ops.acknowledgePlainHttp)
        issue(
          ['tls'],
          'is required off loopback: operator tokens, the review queue and revocations would cross the network in ' +
            'clear (ops.acknowledgePlainHttp: true only where the path is protected otherwise: a sidecar, a firewall)',
        );
    }
    // read only for a listener that will serve (a CLI reading the config of a gateway without one needs no key)
    const tls = ops.enabled && ops.tls !== undefined ? readTls(ops.tls, baseDir, issue) : undefined;
    const reviewers = operators.filter((o) => o.roles.includes('reviewer')).length;
    if (reviewers > 0 && reviewers < ops.review.level3Approvals)
      issue(
        ['review', 'level3Approvals'],
        `asks ${ops.review.level3Approvals} distinct operators to approve a level-3 review, but only ${reviewers} ` +
          `operator(s) have the reviewer role: no level-3 review could ever be approved`,
      );
    const [names, hashes] = [new Set<string>(), new Set<string>()];
    operators.forEach((o, i) => {
      if (names.has(o.name)) issue(['operators', i, 'name'], 'operator names must be distinct');
      if (hashes.has(o.tokenHash.toString('hex'))) issue(['operators', i, 'token'], 'operator tokens must be distinct');
      names.add(o.name);
      hashes.add(o.tokenHash.toString('hex'));
    });
    const { tls: _files, ...rest } = ops;
    return {
      ...rest,
      listen: { host: ops.listen.host, port: ops.listen.port ?? 0 },
      operators,
      ...(tls === undefined ? {} : { tls }),
    };
  });
}

/**
 * @example
 * parseOps({ enabled: true, listen: { port: 9464 }, operators: [{ name: 'alice', token: { env: 'GW_OP_ALICE' }, roles: ['reviewer'] }] }, 3000, process.env)
 */
export function parseOps(raw: unknown, publicPort: number, env: NodeJS.ProcessEnv, baseDir = '.'): OpsConfig {
  return parseWith(opsSchema(publicPort, env, baseDir), raw, 'ops');
}
