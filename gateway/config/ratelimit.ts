/**
 * `rateLimit` (issue #15), validated at boot like the rest; every field has a default:
 *
 * - `enabled` (default true);
 * - `global`: `{ capacity, perSecond }` of the one bucket every limited request takes from (200,000 / 50,000);
 * - `tiers`: requests per second an RP of each tier may cause (`tier_1` government 5,000, `tier_2` public
 *   services 2,000, `tier_3` private 500; burst = one second's worth);
 * - `clients`: `{ "<client_id>": { tier, perSecond? } }`: an RP's tier and its own override; an RP not listed
 *   is `defaultTier` (default `tier_3`, the smallest); a client_id listed here must be a configured client;
 * - `clientBurstSeconds` (default 1): an RP's bucket holds this many seconds of its rate (its burst). An RP has two
 *   such buckets: its authorization requests', and its back-channel calls' (token and PAR requests with its own
 *   secret): a flood at the authorize door, which anyone can send in the RP's name, never refuses its code exchanges;
 * - `clientKnownDeviceShare` (default 0.3, 0 turns it off, at most 0.9): the part of an RP's authorization requests
 *   kept for browsers that completed a login before (a valid device cookie): browsers without one may together take
 *   at most the rest, so a flood of authorization requests naming the RP leaves its returning users their part;
 * - `perClientDevice`: `{ capacity, perSecond }` one known device's authorization requests to one RP from that part
 *   (default 10 / 0.1: ten, then six a minute; past it, the device takes from the new browsers' part);
 * - `perIp`: `{ capacity, perSecond }` per client address and endpoint (authorize, PAR, token, introspection,
 *   revocation, userinfo, chooser, a login's own pages (resume, completion, review, signals), ACS, WebAuthn, the risk
 *   assessment; default 2,000 / 200);
 * - `perIpLogout`: `{ capacity, perSecond }` per client address at the upstream logout door (the protocols'
 *   `logout` routes): a person's browser passes there once or twice per logout, and an IdP's
 *   request may cost an HSM signature (default 100 / 2: a burst of 100, then 2 a second, 7,200 an hour);
 * - `perLoginAssessment`: `{ capacity, perSecond }` per login (its grant) at the signed risk assessment: each answer
 *   is signed in the HSM, and an RP needs it once or twice per login (default 10 / 0.05: ten, then three a minute);
 * - `failures`: `{ capacity, perSecond }` per client address: the slower bucket every answer ≥ 400 of those
 *   endpoints takes from, checked before each request (credential stuffing, enumeration; default 500 / 5);
 * - `instances` (default 1): gateway instances sharing the limits; the local limiter (used when Redis does
 *   not answer) admits 1/(instances × workers) of each limit + 10 % in each worker process;
 * - `redisTimeoutMs` (default 50): how long a decision waits for Redis before the local limiter decides;
 * - `perIdp`, `perIdentity`, `identityFailures`, `perIdentityNewDevices`: config/ratelimit-scopes.ts; `adaptive`: config/ratelimit-adaptive.ts.
 */
import { ConfigError } from '../errors.ts';
import { boolean, integer, join, object, oneOf, onlyKeys } from './check.ts';
import { parseAdaptive, type AdaptiveConfig } from './ratelimit-adaptive.ts';
import {
  bucket,
  knownDeviceShare as share,
  parseIdpLimits,
  rate,
  type BucketSize,
  type IdpLimits,
} from './ratelimit-scopes.ts';

export type { BucketSize } from './ratelimit-scopes.ts';

export type RpTier = 'tier_1' | 'tier_2' | 'tier_3';
export const RP_TIERS: readonly RpTier[] = ['tier_1', 'tier_2', 'tier_3'];

export interface RateLimitConfig {
  enabled: boolean;
  global: BucketSize;
  tiers: Record<RpTier, number>;
  defaultTier: RpTier;
  clients: Record<string, { tier: RpTier; perSecond?: number }>;
  clientBurstSeconds: number;
  /** The part of an RP's authorization requests browsers without a device cookie cannot take (0–0.9). */
  clientKnownDeviceShare: number;
  /** One known device's authorization requests to one RP. */
  perClientDevice: BucketSize;
  perIp: BucketSize;
  /** Per client address at the upstream logout door. */
  perIpLogout: BucketSize;
  /** Per login (grant) at the signed risk assessment. */
  perLoginAssessment: BucketSize;
  failures: BucketSize;
  instances: number;
  redisTimeoutMs: number;
  /** Per upstream IdP (config/ratelimit-scopes.ts). */
  perIdp: IdpLimits;
  /** Per identity and endpoint (ACS, WebAuthn), and its failures bucket (config/ratelimit-scopes.ts). */
  perIdentity: BucketSize;
  identityFailures: BucketSize;
  /** Per identity: the device cookies its verified logins may be given (config/ratelimit-scopes.ts). */
  perIdentityNewDevices: BucketSize;
  /** Load thresholds that lower the rates (config/ratelimit-adaptive.ts). */
  adaptive: AdaptiveConfig;
}

/**
 * @example
 * parseRateLimit({ clients: { 'impots-gouv': { tier: 'tier_1' } } }, ['impots-gouv'])
 */
export function parseRateLimit(raw: unknown, clientIds: readonly string[]): RateLimitConfig {
  const at = 'rateLimit';
  const rl = object(raw ?? {}, at);
  onlyKeys(rl, at, [
    'enabled',
    'global',
    'tiers',
    'defaultTier',
    'clients',
    'clientBurstSeconds',
    'clientKnownDeviceShare',
    'perClientDevice',
    'perIp',
    'perIpLogout',
    'perLoginAssessment',
    'failures',
    'instances',
    'redisTimeoutMs',
    'perIdp',
    'perIdentity',
    'identityFailures',
    'perIdentityNewDevices',
    'adaptive',
  ]);
  const tiersAt = join(at, 'tiers');
  const tiers = object(rl.tiers ?? {}, tiersAt);
  onlyKeys(tiers, tiersAt, RP_TIERS);
  const clientsAt = join(at, 'clients');
  const clientsRaw = object(rl.clients ?? {}, clientsAt);
  const clients: RateLimitConfig['clients'] = {};
  for (const [id, value] of Object.entries(clientsRaw)) {
    const path = join(clientsAt, id);
    if (!clientIds.includes(id)) throw new ConfigError(path, 'is not a configured client');
    const entry = object(value, path);
    onlyKeys(entry, path, ['tier', 'perSecond']);
    const tier = oneOf(entry, 'tier', path, RP_TIERS);
    clients[id] =
      entry.perSecond === undefined ? { tier } : { tier, perSecond: rate(entry, 'perSecond', path, undefined) };
  }
  return {
    enabled: boolean(rl, 'enabled', at, true),
    global: bucket(rl, 'global', at, { capacity: 200_000, perSecond: 50_000 }),
    tiers: {
      tier_1: rate(tiers, 'tier_1', tiersAt, 5000),
      tier_2: rate(tiers, 'tier_2', tiersAt, 2000),
      tier_3: rate(tiers, 'tier_3', tiersAt, 500),
    },
    defaultTier: oneOf(rl, 'defaultTier', at, RP_TIERS, 'tier_3'),
    clients,
    clientBurstSeconds: rate(rl, 'clientBurstSeconds', at, 1),
    clientKnownDeviceShare: share(rl, 'clientKnownDeviceShare', at, 0.3),
    perClientDevice: bucket(rl, 'perClientDevice', at, { capacity: 10, perSecond: 0.1 }),
    perIp: bucket(rl, 'perIp', at, { capacity: 2000, perSecond: 200 }),
    perIpLogout: bucket(rl, 'perIpLogout', at, { capacity: 100, perSecond: 2 }),
    perLoginAssessment: bucket(rl, 'perLoginAssessment', at, { capacity: 10, perSecond: 0.05 }),
    failures: bucket(rl, 'failures', at, { capacity: 500, perSecond: 5 }),
    instances: integer(rl, 'instances', at, { default: 1, min: 1, max: 1000 }),
    redisTimeoutMs: integer(rl, 'redisTimeoutMs', at, { default: 50, min: 1, max: 5000 }),
    perIdp: parseIdpLimits(rl.perIdp, join(at, 'perIdp')),
    perIdentity: bucket(rl, 'perIdentity', at, { capacity: 30, perSecond: 0.05 }),
    identityFailures: bucket(rl, 'identityFailures', at, { capacity: 10, perSecond: 0.005 }),
    perIdentityNewDevices: bucket(rl, 'perIdentityNewDevices', at, { capacity: 10, perSecond: 0.0001 }, 0.00001),
    adaptive: parseAdaptive(rl.adaptive, join(at, 'adaptive')),
  };
}
