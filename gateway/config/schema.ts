/**
 * The configuration file as one zod schema, built for a deployment (`SchemaContext`: the environment secrets
 * are read from, the folder relative paths resolve against, the already-checked issuer). Strict objects
 * everywhere: an unknown key is refused, never ignored. Sections with a file of their own: `clients.ts`,
 * `ops.ts`, `webauthn.ts`, and each upstream protocol's (`upstreams.ts`); `rateLimit` is read after the clients
 * it names (`load.ts`).
 */
import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { existingFile } from '../../adapters/contract/config-schema.ts';
import { ACR_VALUES } from '../translate/acr.ts';
import { clientsSchema } from './clients.ts';
import { bool, int, list, oneOf, secret, section, text } from './fields.ts';
import { opsSchema } from './ops.ts';
import { webauthnSchema } from './webauthn.ts';
import { problem } from './schema-error.ts';

export interface SchemaContext {
  env: NodeJS.ProcessEnv;
  baseDir: string;
  /** The issuer, without a trailing slash (checked first: defaults depend on it). */
  issuer: string;
  /** The top-level keys of the upstream protocols' sections (read by `upstreams.ts`). */
  upstreamKeys: readonly string[];
}

/**
 * The widest block of proxies that may be trusted: an IPv4 /8 (10.0.0.0/8), an IPv6 /7 (fc00::/7, the unique local
 * addresses). A wider one (0.0.0.0/0, ::/0) trusts the clients themselves: each would write the address its buckets
 * and risk checks are keyed by (`X-Forwarded-For`, read from the right, ends on the client's own entry).
 */
const WIDEST_PROXY_PREFIX = { 4: 8, 6: 7 } as const;

const DAY = 86_400;

/** An IPv6 address (already checked by `isIP`) as its 128 bits. */
function ipv6Bits(address: string): bigint {
  let text = address.replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const before = head === '' ? [] : head.split(':');
  const after = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined ? before : [...before, ...Array<string>(8 - before.length - after.length).fill('0'), ...after];
  return groups.reduce((bits, group) => (bits << 16n) | BigInt(parseInt(group || '0', 16)), 0n);
}

/** The IPv4-mapped addresses (`::ffff:0:0/96`): an IPv4 peer is matched against an IPv6 block through them. */
const MAPPED = 0xffffn << 32n;

/**
 * Whether an IPv6 block takes in more than an IPv4 /8 through the mapped addresses (`::ffff:0:0/96`, `::/8`, `::/7`):
 * Node's BlockList matches every IPv4 peer against them, so each IPv4 client would be a trusted proxy.
 */
function mapsWideIpv4(address: string, prefix: number): boolean {
  const shift = BigInt(128 - Math.min(prefix, 96));
  const overlaps = ipv6Bits(address) >> shift === MAPPED >> shift;
  return overlaps && prefix < 104;
}

/** An address or CIDR block of a reverse proxy of ours. */
const proxyAddress = z.string().superRefine((entry, ctx) => {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  const bits = family === 4 ? 32 : 128;
  const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
  if (family === 0 || !prefixOk || extra !== undefined)
    ctx.addIssue({
      code: 'custom',
      message: 'must be an IP address or CIDR block (e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8)',
    });
  else if (prefix !== undefined && Number(prefix) < WIDEST_PROXY_PREFIX[family as 4 | 6])
    ctx.addIssue({
      code: 'custom',
      message: `is wider than a /${WIDEST_PROXY_PREFIX[family as 4 | 6]}: clients inside it would choose their own address; name your proxies`,
    });
  else if (family === 6 && prefix !== undefined && mapsWideIpv4(address, Number(prefix)))
    ctx.addIssue({
      code: 'custom',
      message:
        'is wider than an IPv4 /8 through the IPv4-mapped addresses (::ffff:0:0/96): every IPv4 client in it would choose its own address; name your proxies',
    });
});

/** The un-prefixed cookies stay plantable until then: at most a year ahead (a device cookie's life). */
const EARLIER_NAMES_MAX_MS = 366 * 24 * 3600 * 1000;

/** `YYYY-MM-DDThh:mm[:ss[.fff]]` and `Z` or an offset, naming a day of the calendar (not 2027-02-30). */
function isInstant(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  const onTheCalendar = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return onTheCalendar && !Number.isNaN(Date.parse(value)); // an offset such as +99:99 names no instant
}

/** An ISO 8601 instant with its offset (`2027-01-31T00:00:00Z`), as epoch milliseconds. */
function earlierNamesUntil() {
  return z
    .string('must be an ISO 8601 date and time with its offset, e.g. 2027-01-31T00:00:00Z')
    .refine(isInstant, 'must be an ISO 8601 date and time with its offset, e.g. 2027-01-31T00:00:00Z')
    .transform((value) => Date.parse(value))
    .refine(
      (until) => until <= Date.now() + EARLIER_NAMES_MAX_MS,
      'must be within a year: until then a sibling site can plant the earlier cookies',
    );
}

/** A path resolved against the config file's folder that can be read now (a boot failure, not a request's). */
function readableFile(baseDir: string) {
  return text().transform((value, ctx) => {
    const file = resolve(baseDir, value);
    try {
      accessSync(file, constants.R_OK);
    } catch {
      ctx.addIssue({ code: 'custom', message: `cannot read ${file}` });
      return z.NEVER;
    }
    return file;
  });
}

/** The parts every deployment has (the upstream sections, `clients` and `rateLimit` are read beside it). */
export function rootSchema(context: SchemaContext) {
  const { env, baseDir, issuer } = context;
  const loopbackHttp = issuer.startsWith('http://');
  const listenPort = int(0, 65535).default(3000);
  return z
    .strictObject({
      issuer: z.string(),
      listen: section({ host: text().default('127.0.0.1'), port: listenPort }),
      // the former `proxy: true` believed the client-written leftmost X-Forwarded-For
      proxy: z
        .unknown()
        .optional()
        .refine(
          (value) => value === undefined,
          'was replaced by trustedProxies: list the addresses or CIDR blocks of your reverse proxies (e.g. ["10.0.0.5"])',
        ),
      trustedProxies: list(proxyAddress).default([]),
      // PostgreSQL primary (+ a read replica) and the Redis topology: read by config/stores.ts (load.ts)
      database: z.unknown(),
      redis: z.unknown(),
      hsm: z.strictObject(
        {
          library: text(),
          tokenLabel: text(),
          pin: secret(env),
          poolSize: int(1, 64).default(4),
          // saturation (issue #15): signatures allowed to wait for a session, and for how long, before HSM_BUSY;
          // above shedQueueDepth waiting, new logins are shed at the door (503 + Retry-After), /ready not ready
          maxWaiting: int(0, 100_000).default(1024),
          acquireTimeoutMs: int(1, 60_000).default(10_000),
          shedQueueDepth: int(0, 100_000).default(256),
        },
        'must be an object',
      ),
      secrets: z.strictObject(
        {
          cookieKeys: list(secret(env, { min: 32 }), 1),
          pairwiseSalt: secret(env, { min: 32 }),
          browserBindingKey: secret(env, { min: 32 }),
          previousBrowserBindingKeys: list(secret(env, { min: 32 }))
            .max(4, 'must have at most 4 entries')
            .default([]),
          // the DPoP nonces' own secret (oidc/dpop-nonces.ts); unset: derived from browserBindingKey
          dpopNonceKey: secret(env, { min: 32 }).optional(),
        },
        'must be an object',
      ),
      cookies: section({
        secure: bool()
          .default(!loopbackHttp)
          .refine((secure) => secure || loopbackHttp, 'may be false only for an http loopback issuer'),
        // an upgrade's window: an earlier version's un-prefixed binding and device cookies are read until then
        earlierNamesUntil: earlierNamesUntil().optional(),
      }),
      // extra CAs trusted for sector_identifier_uri servers (beside the system roots)
      sectorIdentifiers: section({
        caFiles: list(existingFile({ baseDir, issuer }, 'no such file')).default([]),
        refreshSeconds: int(60, 86400).default(3600),
      }),
      // the checkpoint anchor outside the database; where audit records wait while PostgreSQL is unreachable
      audit: section({
        anchorFile: text()
          .transform((f) => resolve(baseDir, f))
          .optional(),
        spoolDir: text()
          .transform((f) => resolve(baseDir, f))
          .optional(),
      }),
      // the risk policy set (gateway/policy/policy-set.ts); parsed at boot, an invalid file stops it
      // overload: rule-only while the pipeline is slow, read by config/risk-overload.ts (load.ts)
      risk: section({
        policyFile: readableFile(baseDir).optional(),
        // address → country and coordinates (risk/geoip-file.ts): without it no impossible travel, no new location
        geoipFile: readableFile(baseDir).optional(),
        overload: z.unknown().optional(),
      }),
      // FranceConnect+ serves substantial and high only: eidas1 must be chosen explicitly
      federation: section({
        minimumAcr: oneOf(ACR_VALUES).default('eidas2'),
        skipChooserWithOneIdp: bool().default(true),
        // false while a cluster is upgraded from a version that completed logins at /interaction/:uid/complete
        completeAtResume: bool().default(true),
      }),
      // DPoP (RFC 9449 §8): the token and PAR endpoints hand out server nonces; `required` refuses a proof
      // without one (use_dpop_nonce, the client sends it again with the nonce): a proof made in advance by whoever
      // held the client's key for a moment is worth nothing later. `offered`: nonces checked when sent.
      dpop: section({
        nonce: oneOf(['required', 'offered'] as const).default('required'),
      }),
      // each lifetime has a ceiling: a token verified offline (a JWT access token, an ID token) cannot be recalled, and
      // the keys' retention after retirement is computed from these (boot.ts)
      ttl: section({
        session: int(60, 7 * DAY).default(8 * 3600),
        idToken: int(60, DAY).default(3600),
        accessToken: int(60, DAY).default(300),
        // refresh tokens (clients registered for the refresh_token grant): 24 h, rotated on every use
        refreshToken: int(60, 90 * DAY).default(24 * 3600),
        authorizationCode: int(10, 600).default(60),
        interaction: int(60, DAY).default(600),
        grant: int(60, 90 * DAY).default(8 * 3600),
      }),
      logging: section({
        level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const).default('info'),
      }),
      // worker processes on the one port (node:cluster, gateway/cluster/); 1 = a single process, no cluster
      workers: int(1, 256).default(availableParallelism()),
      webauthn: webauthnSchema(baseDir),
      clients: clientsSchema(env),
      // read beside this schema: after `listen` (ops), after the clients (rateLimit), by their protocol
      ops: z.unknown().optional(),
      rateLimit: z.unknown().optional(),
      resourceServers: z.unknown().optional(),
      ...Object.fromEntries(context.upstreamKeys.map((key) => [key, z.unknown().optional()])),
    })
    .transform((root, ctx) => {
      // the operations listener needs the public port (theirs must differ), known only once `listen` is read
      const ops = opsSchema(root.listen.port, env, baseDir).safeParse(root.ops, { reportInput: true });
      if (ops.success) return { ...root, ops: ops.data };
      for (const issue of ops.error.issues) {
        const { path, message } = problem(issue);
        ctx.addIssue({ code: 'custom', path: ['ops', ...path], message });
      }
      return z.NEVER;
    });
}
