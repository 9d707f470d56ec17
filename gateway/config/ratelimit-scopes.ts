/**
 * The rate limits that count what one upstream IdP or one identity causes (issue #15), under `rateLimit`:
 *
 * - `perIdp`: `{ default, min, max, burstSeconds, idps: { "<idp id>": perSecond } }` — requests per second each
 *   upstream IdP may cause, counted on the AuthnRequests sent to it and the responses received from it (one
 *   bucket per IdP). An IdP not listed gets `default` (1,000); a listed rate must lie within [`min`, `max`]
 *   (default 10 and 20,000); adaptive shedding (ratelimit-adaptive.ts) lowers an IdP's rate, never below
 *   `min`. IdPs may come from the durable registry, so ids are not checked against the configured IdP lists.
 *   `perAddressShare` (default 0.1): the part of an IdP's AuthnRequests one client address may cause (its own
 *   bucket beside the IdP's, at least 3 requests of burst): one address starting logins, or posting the chooser
 *   again and again, cannot take the whole IdP's budget from everyone else. `knownDeviceShare` (default 0.3, 0
 *   turns it off): the part of an IdP's AuthnRequests kept for browsers that completed a login before (a valid
 *   device cookie, issued only once an IdP's answer was verified): browsers without one may together cause at most
 *   the rest, so a flood of new logins from many addresses leaves returning people their part. `perDevice`
 *   (`{ capacity, perSecond }`, default 5 / 0.05: three a minute): what one known device may cause at one IdP (a
 *   device cookie copied to many machines is one device, and a few cannot empty the part kept for all);
 * - `perIdentity`: `{ capacity, perSecond }` per identity and endpoint (the pivot identity's account, hashed, at
 *   the ACS and WebAuthn: a transient NameID is a fresh one per login): default 30 / 0.05 (three a minute);
 * - `identityFailures`: `{ capacity, perSecond }` per identity and endpoint: the slower bucket a refused ACS answer or a
 *   refused WebAuthn assertion of that identity takes from, checked first (credential stuffing, enumeration;
 *   default 10 / 0.005, one every 200 s);
 * - `perIdentityNewDevices`: `{ capacity, perSecond }` per account (the pivot identity's, whatever the IdP and
 *   NameID): the laned device cookies its verified logins may give browsers that hold none (default 10 / 0.0001,
 *   about nine a day; rates from 0.00001). Past it a browser gets a risk-only one (risk/device-cookie.ts): its
 *   device known to the risk checks, not to the rate limits' known-device parts, which without this cap one real
 *   account logged in again and again from fresh browsers filled by the thousand a day (attacker review,
 *   thirty-fifth round).
 */
import { ConfigError } from '../errors.ts';
import { integer, join, object, onlyKeys, type Obj } from './check.ts';

export interface BucketSize {
  capacity: number;
  perSecond: number;
}

export interface IdpLimits {
  default: number;
  min: number;
  max: number;
  burstSeconds: number;
  idps: Record<string, number>;
  /** The part of an IdP's request budget one client address may take (0.001–1). */
  perAddressShare: number;
  /** The part of an IdP's request budget browsers without a device cookie cannot take (0–0.9; 0: no such cap). */
  knownDeviceShare: number;
  /** One known device's requests to one IdP. */
  perDevice: BucketSize;
}

const IDP_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A refill rate: a positive number of requests per second (0.1 = six a minute). */
export function rate(obj: Obj, key: string, path: string, fallback: number | undefined, min = 0.001): number {
  const value = obj[key] ?? fallback;
  const at = join(path, key);
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ConfigError(at, value === undefined ? 'is required' : 'must be a number');
  if (value < min || value > 10_000_000)
    throw new ConfigError(at, `must be between ${min} and 10000000 (requests per second)`);
  return value;
}

/** A bucket's `{ capacity, perSecond }`; `minRate`: the slowest refill accepted (default 0.001, one per 1,000 s). */
export function bucket(parent: Obj, key: string, at: string, defaults: BucketSize, minRate?: number): BucketSize {
  const path = join(at, key);
  const raw = object(parent[key] ?? {}, path);
  onlyKeys(raw, path, ['capacity', 'perSecond']);
  return {
    capacity: integer(raw, 'capacity', path, { default: defaults.capacity, min: 1, max: 100_000_000 }),
    perSecond: rate(raw, 'perSecond', path, defaults.perSecond, minRate),
  };
}

/** A part kept for browsers with a device cookie: a number in [0, 0.9] (0: none kept). */
export function knownDeviceShare(obj: Obj, key: string, at: string, fallback: number): number {
  const value = obj[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 0.9)
    throw new ConfigError(join(at, key), 'must be a number between 0 and 0.9');
  return value;
}

/**
 * @example
 * parseIdpLimits({ min: 5, idps: { 'eidas-be': 50 } }, 'rateLimit.perIdp')
 */
export function parseIdpLimits(raw: unknown, at: string): IdpLimits {
  const obj = object(raw ?? {}, at);
  onlyKeys(obj, at, [
    'default',
    'min',
    'max',
    'burstSeconds',
    'idps',
    'perAddressShare',
    'knownDeviceShare',
    'perDevice',
  ]);
  const min = rate(obj, 'min', at, 10);
  const max = rate(obj, 'max', at, 20_000);
  if (max < min) throw new ConfigError(join(at, 'max'), `must be ≥ min (${min})`);
  const within = (value: number, path: string): number => {
    if (value < min || value > max) throw new ConfigError(path, `must lie within min (${min}) and max (${max})`);
    return value;
  };
  const fallback = within(rate(obj, 'default', at, Math.min(max, Math.max(min, 1000))), join(at, 'default'));
  const idpsAt = join(at, 'idps');
  // no prototype: an IdP named `constructor` or `toString` has its own rate or the default, never Object's member
  const idps: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const id of Object.keys(object(obj.idps ?? {}, idpsAt))) {
    if (!IDP_ID.test(id)) throw new ConfigError(join(idpsAt, id), `must be an IdP id (${IDP_ID})`);
    idps[id] = within(rate(object(obj.idps, idpsAt), id, idpsAt, undefined), join(idpsAt, id));
  }
  const share = obj.perAddressShare ?? 0.1;
  if (typeof share !== 'number' || !Number.isFinite(share) || share < 0.001 || share > 1)
    throw new ConfigError(join(at, 'perAddressShare'), 'must be a number between 0.001 and 1');
  return {
    default: fallback,
    min,
    max,
    burstSeconds: rate(obj, 'burstSeconds', at, 1),
    idps,
    perAddressShare: share,
    knownDeviceShare: knownDeviceShare(obj, 'knownDeviceShare', at, 0.3),
    perDevice: bucket(obj, 'perDevice', at, { capacity: 5, perSecond: 0.05 }),
  };
}
