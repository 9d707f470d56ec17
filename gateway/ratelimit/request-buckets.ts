/**
 * The buckets a limited request takes, sized from `rateLimit` (config/ratelimit.ts, config/ratelimit-scopes.ts): the
 * endpoint's (global, the address's, its failures', the RP's) and, for a handler, its IdP's. middleware.ts decides
 * them; this file only says which and how big.
 *
 * An RP's budget is two buckets, so that what anyone can send in its name never takes what only the RP can:
 *
 * - its **authorization requests** (`client`): the `client_id` in the query is anyone's to send, as its users'
 *   browsers send it. Browsers without a device cookie (set only once an IdP's answer was verified) may together take
 *   at most `1 − clientKnownDeviceShare` of it (`client_new_browsers`); each known device takes a person's share of
 *   its own (`client_device`, `perClientDevice`), and past that competes with the new browsers (middleware.ts). A
 *   flood of authorization requests naming the RP from many addresses thus leaves the RP's returning users their part;
 * - its **back-channel calls** (`client_backchannel`): token and pushed authorization requests sent with its own
 *   secret (endpoints.ts `requestedClient`). A flood at the authorize door never refuses the code exchange of a person
 *   who already logged in (attacker review, thirty-fifth round).
 */
import { createHmac } from 'node:crypto';
import type { RateLimitConfig } from '../config/ratelimit.ts';
import { bucketKey, scaled, type Bucket } from './bucket.ts';
import type { LimitedEndpoint } from './endpoints.ts';

/** The endpoints only an RP's servers call, each with its own failures bucket per address. */
const OWN_FAILURES: ReadonlySet<LimitedEndpoint> = new Set(['introspection', 'revocation', 'userinfo', 'assessment']);

export interface EndpointBuckets {
  all: Bucket[];
  /** The address's failures bucket (checked here, charged after a failed answer). */
  failures: Bucket;
}

export interface RequestBuckets {
  /**
   * The buckets of one request at `endpoint` from `address`. `client`: the configured client it names (endpoints.ts);
   * `device`: at the authorize door, the id of the browser's valid device cookie (null: a browser without one, which
   * takes from the new browsers' part).
   */
  endpoint(
    endpoint: LimitedEndpoint,
    address: string,
    client: string | undefined,
    factor: number,
    device?: string | null,
  ): EndpointBuckets;
  /**
   * The RP's buckets alone of a request at `endpoint` (those {@link endpoint} adds for `client`): an authorization
   * request by POST takes them once its body is read, after its address's (ratelimit/middleware.ts).
   */
  client(endpoint: LimitedEndpoint, client: string, factor: number, device?: string | null): Bucket[];
  /** An AuthnRequest to `idp`: the IdP's bucket, the address's share, the device's or new browsers'. */
  idpRequest(idp: string, address: string, factor: number, device?: string | null): Bucket[];
  /** A verified response of `idp`: the IdP's bucket. */
  idpResponse(idp: string, factor: number): Bucket[];
}

/**
 * @param identitySecret the key of the HMAC that names a device's buckets (the device id itself never reaches Redis:
 * it links logins in the reputation store)
 */
export function requestBuckets(config: RateLimitConfig, identitySecret: string): RequestBuckets {
  const global: Bucket = { kind: 'global', key: bucketKey('global'), ...config.global, cost: 1 };
  const deviceKey = (device: string) =>
    createHmac('sha256', identitySecret).update(`ratelimit-device-v1\n${device}`).digest('base64url').slice(0, 32);
  /** The part of `own` browsers without a device cookie may take together: the rest of `knownShare`. */
  const newBrowsers = (own: Bucket, kind: Bucket['kind'], key: string, knownShare: number): Bucket | undefined => {
    const rest = 1 - knownShare;
    if (rest >= 1) return undefined;
    // rounded down: from a burst of two the part kept for known devices is at least a token (at a burst of one,
    // nothing can be kept of the burst: the part kept is then in the refill only)
    return {
      kind,
      key,
      capacity: Math.max(1, Math.floor(own.capacity * rest)),
      perSecond: own.perSecond * rest,
      cost: 1,
    };
  };

  const idpRate = (idp: string, factor: number): Bucket => {
    const { perIdp } = config;
    const own = Object.hasOwn(perIdp.idps, idp) ? perIdp.idps[idp] : undefined;
    const perSecond = Math.max(perIdp.min, (own ?? perIdp.default) * factor);
    const capacity = Math.max(1, Math.ceil(perSecond * perIdp.burstSeconds));
    return { kind: 'idp', key: bucketKey('idp', idp), capacity, perSecond, cost: 1 };
  };
  /** One address's share of an IdP's AuthnRequests (`perIdp.perAddressShare`), beside the IdP's own bucket. */
  const idpAddressRate = (idp: Bucket, idpId: string, address: string): Bucket => {
    const share = config.perIdp.perAddressShare;
    return {
      kind: 'idp_address',
      key: bucketKey('idp-address', idpId, address),
      capacity: Math.max(3, Math.ceil(idp.capacity * share)),
      perSecond: idp.perSecond * share,
      cost: 1,
    };
  };

  /** An RP's authorization requests (its tier, or its own rate), or its back-channel calls: the same size. */
  const clientRate = (clientId: string, kind: 'client' | 'client_backchannel', factor: number): Bucket => {
    const own = Object.hasOwn(config.clients, clientId) ? config.clients[clientId] : undefined;
    const perSecond = own?.perSecond ?? config.tiers[own?.tier ?? config.defaultTier];
    const capacity = Math.max(1, Math.ceil(perSecond * config.clientBurstSeconds));
    const key = kind === 'client' ? bucketKey('client', clientId) : bucketKey('client-bc', clientId);
    return scaled({ kind, key, capacity, perSecond, cost: 1 }, factor);
  };
  const clientBuckets = (endpoint: LimitedEndpoint, clientId: string, factor: number, device?: string | null) => {
    if (endpoint !== 'authorize') return [clientRate(clientId, 'client_backchannel', factor)];
    const own = clientRate(clientId, 'client', factor);
    const third = device
      ? ({
          kind: 'client_device',
          key: bucketKey('client-device', clientId, deviceKey(device)),
          ...config.perClientDevice,
          cost: 1,
        } satisfies Bucket)
      : newBrowsers(own, 'client_new_browsers', bucketKey('client-new', clientId), config.clientKnownDeviceShare);
    return third ? [own, third] : [own];
  };

  return {
    endpoint(endpoint, address, client, factor, device) {
      // the machine endpoints an RP's servers call (a resource server with a stale secret, an expired token) have
      // failures of their own: they never lock the address's logins out, nor the logins' failures them
      const failuresKey = OWN_FAILURES.has(endpoint)
        ? bucketKey('fail', endpoint, address)
        : bucketKey('fail', address);
      const failures: Bucket = { kind: 'failures', key: failuresKey, ...config.failures, cost: 0 };
      // the logout door has its own size: a person needs it once or twice per logout, and each IdP request it
      // admits may cost an HSM signature
      const perIp = endpoint === 'logout' ? config.perIpLogout : config.perIp;
      const all: Bucket[] = [
        scaled(global, factor),
        scaled({ kind: 'ip', key: bucketKey('ip', endpoint, address), ...perIp, cost: 1 }, factor),
        failures,
      ];
      if (client !== undefined) all.push(...clientBuckets(endpoint, client, factor, device));
      return { all, failures };
    },
    client(endpoint, client, factor, device) {
      return clientBuckets(endpoint, client, factor, device);
    },
    idpRequest(idp, address, factor, device) {
      const own = idpRate(idp, factor);
      const third = device
        ? ({
            kind: 'idp_device',
            key: bucketKey('idp-device', idp, deviceKey(device)),
            ...config.perIdp.perDevice,
            cost: 1,
          } satisfies Bucket)
        : newBrowsers(own, 'idp_new_browsers', bucketKey('idp-new', idp), config.perIdp.knownDeviceShare);
      const buckets = [own, idpAddressRate(own, idp, address)];
      return third ? [...buckets, third] : buckets;
    },
    idpResponse(idp, factor) {
      return [idpRate(idp, factor)];
    },
  };
}
