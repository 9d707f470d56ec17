/**
 * Reads and validates the gateway configuration at boot. Anything wrong fails here, with the path of
 * the offending field; nothing is left to fail on a request. Defaults are secure: cookies are Secure
 * unless the issuer is an http loopback URL, secrets must come from the environment or files.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { array, boolean, integer, join, object, oneOf, onlyKeys, secret, string, url, type Obj } from './check.ts';
import { parseClients } from './clients.ts';
import { parseUpstreamSections } from './upstreams.ts';
import { UPSTREAM_CONFIG_KEYS } from '../../adapters/protocols/table.ts';
import { parseWebAuthn } from './webauthn.ts';
import { parseOps } from './ops.ts';
import { parseRateLimit } from './ratelimit.ts';
import { refuseRetiredEnvironment } from './retired-env.ts';
import type { GatewayConfig } from './types.ts';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { ACR_VALUES } from '../translate/acr.ts';

/**
 * `trustedProxies`: addresses or CIDR blocks of your own reverse proxies (default none). Only a request
 * whose TCP peer is one of them has its X-Forwarded-For / X-Forwarded-Host read, from the right. The old
 * `proxy: true` (which believed the client-written leftmost X-Forwarded-For) is refused with a pointer here.
 */
function parseTrustedProxies(root: Obj): string[] {
  if (root.proxy !== undefined) {
    throw new ConfigError(
      'proxy',
      'was replaced by trustedProxies: list the addresses or CIDR blocks of your reverse proxies (e.g. ["10.0.0.5"])',
    );
  }
  const entries = root.trustedProxies === undefined ? [] : array(root, 'trustedProxies', '');
  return entries.map((entry, i) => {
    const at = join('trustedProxies', i);
    const [address = '', prefix, extra] = typeof entry === 'string' ? entry.split('/') : [];
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !prefixOk || extra !== undefined) {
      throw new ConfigError(at, 'must be an IP address or CIDR block (e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8)');
    }
    return entry as string;
  });
}

function existingFile(value: unknown, at: string, baseDir: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(at, 'must be a file path');
  const file = resolve(baseDir, value);
  if (!existsSync(file)) throw new ConfigError(at, `no such file: ${file}`);
  return file;
}

const TOP = [
  'issuer',
  'listen',
  'trustedProxies',
  'proxy',
  'database',
  'redis',
  'hsm',
  'secrets',
  'cookies',
  'clientsFile',
  'clients',
  'federation',
  'audit',
  'risk',
  'ops',
  'ttl',
  'logging',
  'webauthn',
  'sectorIdentifiers',
  'rateLimit',
  'workers',
] as const;

/** Loads a JSON config file; relative paths inside it resolve against the file's folder. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError('(file)', `cannot read ${file} as JSON: ${(error as Error).message}`);
  }
  return loadConfig(raw, { env, baseDir: dirname(resolve(file)) });
}

/** A file that exists and can be read now (a boot failure, not a first-request one). */
function readableFile(file: string, at: string): string {
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new ConfigError(at, `cannot read ${file}`);
  }
  return file;
}

export function loadConfig(raw: unknown, options: { env?: NodeJS.ProcessEnv; baseDir?: string } = {}): GatewayConfig {
  const env = options.env ?? process.env;
  const baseDir = options.baseDir ?? process.cwd();
  const root = object(raw, '(root)');
  onlyKeys(root, '', [...TOP, ...UPSTREAM_CONFIG_KEYS]);
  refuseRetiredEnvironment(env);
  const trustedProxyList = parseTrustedProxies(root);

  const issuer = url(string(root, 'issuer', ''), 'issuer').replace(/\/$/, '');
  const loopbackHttp = issuer.startsWith('http://');

  const listen = object(root.listen ?? {}, 'listen');
  onlyKeys(listen, 'listen', ['host', 'port']);
  const database = object(root.database, 'database');
  onlyKeys(database, 'database', ['url']);
  const redis = object(root.redis, 'redis');
  onlyKeys(redis, 'redis', ['url', 'keyPrefix']);
  const hsm = object(root.hsm, 'hsm');
  onlyKeys(hsm, 'hsm', ['library', 'tokenLabel', 'pin', 'poolSize']);
  const secrets = object(root.secrets, 'secrets');
  onlyKeys(secrets, 'secrets', ['cookieKeys', 'pairwiseSalt', 'browserBindingKey']);
  const cookies = object(root.cookies ?? {}, 'cookies');
  onlyKeys(cookies, 'cookies', ['secure']);
  const ttl = object(root.ttl ?? {}, 'ttl');
  onlyKeys(ttl, 'ttl', [
    'session',
    'idToken',
    'accessToken',
    'refreshToken',
    'authorizationCode',
    'interaction',
    'grant',
  ]);
  const audit = object(root.audit ?? {}, 'audit');
  onlyKeys(audit, 'audit', ['anchorFile', 'spoolDir']);
  const risk = object(root.risk ?? {}, 'risk');
  onlyKeys(risk, 'risk', ['policyFile']);
  const federation = object(root.federation ?? {}, 'federation');
  onlyKeys(federation, 'federation', ['minimumAcr', 'skipChooserWithOneIdp']);
  const sectorIdentifiers = object(root.sectorIdentifiers ?? {}, 'sectorIdentifiers');
  onlyKeys(sectorIdentifiers, 'sectorIdentifiers', ['caFiles', 'refreshSeconds']);
  const logging = object(root.logging ?? {}, 'logging');
  onlyKeys(logging, 'logging', ['level']);

  const cookieKeys = array(secrets, 'cookieKeys', 'secrets', { min: 1 }).map((_, i) =>
    secret(secrets.cookieKeys as Obj, String(i), join('secrets', 'cookieKeys'), env, { min: 32 }),
  );

  const secure = boolean(cookies, 'secure', 'cookies', !loopbackHttp);
  if (!secure && !loopbackHttp)
    throw new ConfigError('cookies.secure', 'may be false only for an http loopback issuer');

  const publicListen = {
    host: string(listen, 'host', 'listen', { default: '127.0.0.1' }),
    port: integer(listen, 'port', 'listen', { default: 3000, min: 0, max: 65535 }),
  };
  const config: GatewayConfig = {
    issuer,
    listen: publicListen,
    // worker processes on the one port (node:cluster, gateway/cluster/); 1 = a single process, no cluster
    workers: integer(root, 'workers', '', { default: availableParallelism(), min: 1, max: 256 }),
    // the operations listener (admin API, /metrics, /ready) and its operators: config/ops.ts
    ops: parseOps(root.ops, publicListen.port, env),
    trustedProxies: trustedProxyList,
    database: { url: secret(database, 'url', 'database', env) },
    redis: {
      url: secret(redis, 'url', 'redis', env),
      keyPrefix: string(redis, 'keyPrefix', 'redis', { default: 'gw:' }),
    },
    hsm: {
      library: string(hsm, 'library', 'hsm'),
      tokenLabel: string(hsm, 'tokenLabel', 'hsm'),
      pin: secret(hsm, 'pin', 'hsm', env),
      poolSize: integer(hsm, 'poolSize', 'hsm', { default: 4, min: 1, max: 64 }),
    },
    secrets: {
      cookieKeys,
      pairwiseSalt: secret(secrets, 'pairwiseSalt', 'secrets', env, { min: 32 }),
      browserBindingKey: secret(secrets, 'browserBindingKey', 'secrets', env, { min: 32 }),
    },
    cookies: { secure },
    // each upstream protocol's section, checked by the schema its protocol declares (config/upstreams.ts)
    ...parseUpstreamSections(root, { baseDir, issuer }),
    clients: [],
    sectorIdentifiers: {
      // extra CAs trusted for sector_identifier_uri servers (beside the system roots); resolved against the config file
      caFiles: (sectorIdentifiers.caFiles === undefined
        ? []
        : array(sectorIdentifiers, 'caFiles', 'sectorIdentifiers')
      ).map((f, i) => existingFile(f, join(join('sectorIdentifiers', 'caFiles'), i), baseDir)),
      refreshSeconds: integer(sectorIdentifiers, 'refreshSeconds', 'sectorIdentifiers', {
        default: 3600,
        min: 60,
        max: 86400,
      }),
    },
    // FranceConnect+ serves substantial and high only: eidas1 must be chosen explicitly
    // the checkpoint anchor outside the database (gateway/audit/anchor.ts); resolved against the config file
    audit: {
      ...(audit.anchorFile === undefined ? {} : { anchorFile: resolve(baseDir, string(audit, 'anchorFile', 'audit')) }),
      // where audit records wait while PostgreSQL is unreachable (default var/audit-spool/<hash of the database URL>)
      ...(audit.spoolDir === undefined ? {} : { spoolDir: resolve(baseDir, string(audit, 'spoolDir', 'audit')) }),
    },
    // the risk policy set (gateway/policy/policy-set.ts); parsed at boot, an invalid file stops it (POLICY_INVALID)
    risk:
      risk.policyFile === undefined
        ? {}
        : { policyFile: readableFile(resolve(baseDir, string(risk, 'policyFile', 'risk')), 'risk.policyFile') },
    // skipChooserWithOneIdp: with one IdP able to serve a login, go straight to it (as idp_hint does)
    federation: {
      minimumAcr: oneOf(federation, 'minimumAcr', 'federation', ACR_VALUES, 'eidas2'),
      skipChooserWithOneIdp: boolean(federation, 'skipChooserWithOneIdp', 'federation', true),
    },
    ttl: {
      session: integer(ttl, 'session', 'ttl', { default: 8 * 3600, min: 60 }),
      idToken: integer(ttl, 'idToken', 'ttl', { default: 3600, min: 60 }),
      accessToken: integer(ttl, 'accessToken', 'ttl', { default: 300, min: 60 }),
      // refresh tokens (clients registered for the refresh_token grant): 24 h, rotated on every use
      refreshToken: integer(ttl, 'refreshToken', 'ttl', { default: 24 * 3600, min: 60 }),
      authorizationCode: integer(ttl, 'authorizationCode', 'ttl', { default: 60, min: 10, max: 600 }),
      interaction: integer(ttl, 'interaction', 'ttl', { default: 600, min: 60 }),
      grant: integer(ttl, 'grant', 'ttl', { default: 8 * 3600, min: 60 }),
    },
    logging: {
      level: oneOf(logging, 'level', 'logging', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    },
    webauthn: parseWebAuthn(root.webauthn, baseDir),
    rateLimit: parseRateLimit(undefined, []),
  };

  if (root.clients !== undefined && root.clientsFile !== undefined)
    throw new ConfigError('clientsFile', 'give either clients or clientsFile, not both');
  if (root.clientsFile !== undefined) {
    const file = resolve(baseDir, string(root, 'clientsFile', ''));
    let clientsRaw: unknown;
    try {
      clientsRaw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError('clientsFile', `cannot read ${file} as JSON: ${(error as Error).message}`);
    }
    config.clients = parseClients(clientsRaw, 'clients', env);
  } else {
    config.clients = parseClients(root.clients, 'clients', env);
  }
  // rate limits and their tiers (config/ratelimit.ts); a client named there must be configured above
  config.rateLimit = parseRateLimit(
    root.rateLimit,
    config.clients.map((c) => c.client_id),
  );
  return config;
}
