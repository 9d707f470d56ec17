/**
 * Reads and validates the gateway configuration at boot. Anything wrong fails here, with the path of the
 * offending field (`clients[2].redirect_uris[0]: must use https …`); nothing is left to fail on a request.
 * Defaults are secure: cookies are Secure unless the issuer is an http loopback URL, secrets must come from
 * the environment or files.
 *
 * In order: retired environment settings are refused; the issuer is read first (defaults depend on it);
 * `clientsFile` stands in for `clients`; then one schema (`schema.ts`, zod, strict objects) reads the file, the
 * upstream protocols' sections are read by their own schemas (`upstreams.ts`), and `rateLimit` and
 * `resourceServers` last, as they name clients.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { UPSTREAM_CONFIG_KEYS } from '../../adapters/protocols/table.ts';
import { ConfigError } from '../errors.ts';
import { httpsUrl } from './fields.ts';
import { parseRiskOverload } from './risk-overload.ts';
import { parseRateLimit } from './ratelimit.ts';
import { parseResourceServers } from './resource-servers.ts';
import { parseDatabase, parseRedis } from './stores.ts';
import { refuseInsecureEnvironment, refuseRetiredEnvironment } from './retired-env.ts';
import { rootSchema } from './schema.ts';
import { parseWith } from './schema-error.ts';
import type { GatewayConfig } from './types.ts';
import { parseUpstreamSections } from './upstreams.ts';

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

/** `clientsFile`: the clients in a JSON file of their own (relative to the config file), instead of `clients`. */
function withClientsFile(root: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  const { clientsFile, ...rest } = root;
  if (clientsFile === undefined) return root;
  if (root.clients !== undefined) throw new ConfigError('clientsFile', 'give either clients or clientsFile, not both');
  if (typeof clientsFile !== 'string' || clientsFile === '')
    throw new ConfigError('clientsFile', 'must be a non-empty string');
  const file = resolve(baseDir, clientsFile);
  try {
    return { ...rest, clients: JSON.parse(readFileSync(file, 'utf8')) };
  } catch (error) {
    throw new ConfigError('clientsFile', `cannot read ${file} as JSON: ${(error as Error).message}`);
  }
}

/**
 * A `__proto__` key anywhere in the file: JSON.parse keeps it as a key, which an object schema then drops without a
 * word (or a plain object turns into its prototype). Refused, naming its path, like any unknown setting.
 */
function refusePrototypeKeys(value: unknown, at: string): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => refusePrototypeKeys(item, `${at}[${i}]`));
    return;
  }
  for (const key of Object.keys(value)) {
    const path = at === '' ? key : `${at}.${key}`;
    if (key === '__proto__') throw new ConfigError(path, 'unknown setting');
    refusePrototypeKeys((value as Record<string, unknown>)[key], path);
  }
}

/**
 * The issuer as OpenID Connect Discovery and RFC 8414 §2 allow it: no query, no user name or password (published in
 * discovery and in every `iss`), no wildcard host.
 */
function plainIssuer(issuer: string): string {
  const url = new URL(issuer);
  if (url.search !== '' || issuer.includes('?')) throw new ConfigError('issuer', 'must not contain a query');
  if (issuer.includes('#')) throw new ConfigError('issuer', 'must not contain a fragment');
  if (url.username !== '' || url.password !== '')
    throw new ConfigError('issuer', 'must not contain a user name or password');
  if (url.hostname.includes('*')) throw new ConfigError('issuer', 'must name one host (no wildcard)');
  return issuer;
}

export function loadConfig(raw: unknown, options: { env?: NodeJS.ProcessEnv; baseDir?: string } = {}): GatewayConfig {
  const env = options.env ?? process.env;
  const baseDir = options.baseDir ?? process.cwd();
  const object = parseWith(z.record(z.string(), z.unknown(), 'must be an object'), raw, '');
  refuseRetiredEnvironment(env);
  refuseInsecureEnvironment(env);
  refusePrototypeKeys(raw, '');
  const issuer = plainIssuer(parseWith(httpsUrl(), object.issuer, 'issuer')).replace(/\/$/, '');
  const root = withClientsFile(object, baseDir);
  const parsed = parseWith(rootSchema({ env, baseDir, issuer, upstreamKeys: UPSTREAM_CONFIG_KEYS }), root, '');
  const { rateLimit, resourceServers, proxy: _retired, ...rest } = parsed;
  const clientIds = parsed.clients.map((c) => c.client_id);
  const risk = root.risk as { overload?: unknown } | undefined;
  return {
    ...rest,
    issuer,
    database: parseDatabase(root.database, env),
    redis: parseRedis(root.redis, env, baseDir),
    risk: { ...rest.risk, overload: parseRiskOverload(risk?.overload, 'risk.overload') },
    // each upstream protocol's section, checked by the schema its protocol declares (config/upstreams.ts)
    ...parseUpstreamSections(root, { baseDir, issuer }),
    // rate limits and their tiers (config/ratelimit.ts); a client named there must be configured
    rateLimit: parseRateLimit(rateLimit, clientIds),
    // resource servers introspect the RPs they name (config/resource-servers.ts)
    resourceServers: parseResourceServers(resourceServers, clientIds, env),
  };
}
