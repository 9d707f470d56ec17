/**
 * oidc-provider's storage adapter on Redis: every artefact (sessions, interactions, grants, codes,
 * tokens, ...) lives in Redis with its TTL, so any gateway instance (and any Provider generation after a
 * key rotation) sees the same state. Modelled on oidc-provider's example Redis adapter, with single use
 * made atomic (oidc-provider reads `consumed`, then calls `consume()`: two parallel requests both read
 * "not consumed"):
 *
 * - `consume()` of a one-time artefact (authorization code, refresh token, PAR `request_uri`, …) is one
 *   Lua script: the first caller marks it; every later caller, even one that raced past oidc-provider's
 *   own `consumed` check, gets the artefact's stable refusal (`invalid_grant`, `invalid_request_uri`) and
 *   the grant it belongs to is revoked (RFC 6749 §4.1.2: a reused code revokes what it issued);
 * - `ReplayDetection` (DPoP proof and client-assertion `jti`s) claims the id with `SET NX` inside
 *   `find()`, the only read oidc-provider makes before saving it: exactly one presenter sees "unseen". Its save
 *   never keeps it for less than `REPLAY_KEEP_SECONDS`: oidc-provider accepts a DPoP proof whose `iat` is up to
 *   300 s either side of now, so a proof first used 300 s before its `iat` is acceptable for 600 s, while it
 *   saves the `jti` for 300 s (a proof captured at first use would be taken again once forgotten). A `jti` found is
 *   answered as seen whatever its stored record's `exp` (oidc-provider reads an expired record as never seen).
 */
import type { Redis } from 'ioredis';
import Provider, { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { DurableOidcModels } from '../session/oidc-models.ts';
import { forget, memoised, remember } from '../session/request-memo.ts';
import { LuaScript } from '../store/lua-script.ts';
import { deferWrite } from './deferred-writes.ts';
import { isIssuedValue, jtiOfJwt, opaqueValue } from './jwt-access-tokens.ts';
import { provesPossession } from './proof-of-possession.ts';
import { shedding } from './shed-unavailable.ts';

const CONSUMABLE = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PushedAuthorizationRequest',
  'PreAuthorizedCode',
]);
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

/**
 * KEYS[1] the artefact's hash; ARGV[1] now (s). Returns 'OK' for the first consumer, otherwise the
 * artefact's payload ('' when it no longer exists) so that the caller can revoke its grant.
 */
const CONSUME_ONCE = new LuaScript(`
if redis.call('HEXISTS', KEYS[1], 'payload') == 0 then return '' end
if redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1]) == 1 then return 'OK' end
return redis.call('HGET', KEYS[1], 'payload')
`);
/**
 * KEYS[1] a grant's list of artefacts; ARGV[1] the artefact's key, ARGV[2] its expiry (s, '' for none).
 * The list lives as long as its longest artefact: its expiry is set when it has none, else only lengthened
 * (what `EXPIRE NX` + `EXPIRE GT` in a MULTI did, in one command instead of five).
 */
const INDEX_IN_GRANT = new LuaScript(`
redis.call('RPUSH', KEYS[1], ARGV[1])
if ARGV[2] ~= '' and redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
`);
/**
 * KEYS[1] a one-time artefact's hash; ARGV[1] its payload, ARGV[2] its expiry (s, '' for none). Its other
 * field (`consumed`) is kept, as with the MULTI of HSET + EXPIRE this replaces: one command instead of four.
 */
const WRITE_CONSUMABLE = new LuaScript(`
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
if ARGV[2] ~= '' then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
`);
/** How long a replay-detection claim lives before oidc-provider saves it with its real expiry. */
const REPLAY_CLAIM_SECONDS = 3600;
/**
 * The least a seen `jti` is kept: a DPoP proof's `iat` window (300 s either side of now, oidc-provider's
 * `CHALLENGE_OK_WINDOW`) twice over, and a minute for the clocks of a fleet's instances.
 */
export const REPLAY_KEEP_SECONDS = 2 * 300 + 60;

/**
 * The Redis expiry (s) of a write oidc-provider asked to expire in `expiresIn` s; 0 means none (only when it gave
 * none: a client's registration). A lifetime already run out (oidc-provider saves an interaction's result with
 * `exp − now`, 0 or less when the second turns over while the person's request is at work; a missing `exp` is
 * negative) is kept one second, never forever (a plain `SET` without `EX`) nor refused by Redis: its payload's
 * own `exp` is past, so oidc-provider's next read refuses it as expired.
 */
function redisExpiry(expiresIn: number | undefined): number {
  if (expiresIn === undefined || expiresIn === null) return 0;
  return Number.isFinite(expiresIn) && expiresIn >= 1 ? Math.ceil(expiresIn) : 1;
}

/** The refusal a second presentation of a one-time artefact gets, by model. */
function reuseError(model: string): Error {
  if (model === 'PushedAuthorizationRequest') return new errors.InvalidRequestUri('request_uri already used');
  return new errors.InvalidGrant(`${model} already consumed`);
}

function grantKey(id: string): string {
  return `oidc:grant:${id}`;
}
function userCodeKey(code: string): string {
  return `oidc:userCode:${code}`;
}
function uidKey(uid: string): string {
  return `oidc:uid:${uid}`;
}
/**
 * Starts this request's read of an Interaction (the one `find` then answers from the request memo): for a
 * request that learns the interaction's uid before oidc-provider reads it (its path), sent with an earlier call.
 */
export function prefetchInteraction(redis: Redis, uid: string): void {
  const key = `oidc:Interaction:${uid}`;
  memoised(key, () => redis.get(key)).catch(() => undefined);
}

/** Models read once per request (`request-memo.ts`): an interaction is read by `interactionDetails` and again by `interactionResult`. */
const MEMOISED = new Set(['Interaction']);

/**
 * Returns the adapter class oidc-provider instantiates once per model name. With `durable`, the models it
 * handles (Session, Grant, AccessToken, RefreshToken) go to the two-tier session store (`session/oidc-models.ts`:
 * Redis + PostgreSQL, sealed) instead.
 */
export function redisAdapterFactory(redis: Redis, durable?: DurableOidcModels): new (name: string) => Adapter {
  return class RedisAdapter implements Adapter {
    readonly name: string;

    constructor(name: string) {
      this.name = name;
      // a store that cannot answer is oidc-provider's temporarily_unavailable, not its server_error (shed-unavailable.ts)
      return shedding(durable?.handles(name) ? durableAdapter(name, durable) : this) as RedisAdapter;
    }

    key(id: string): string {
      return `oidc:${this.name}:${id}`;
    }

    /**
     * One command per key, never one across keys: on Redis Cluster the artefact, its grant's list and its
     * indexes are in different slots. All are sent in one round trip (issue #14), the grant's list first: on
     * one connection Redis runs them in that order, so a revocation of the grant that reads the list after the
     * artefact exists finds it (a list naming an artefact not yet written is harmless). The artefact is handed
     * out only once every write succeeded (any failure fails the request that would have issued it).
     */
    async upsert(id: string, payload: AdapterPayload, givenExpiresIn: number): Promise<void> {
      const key = this.key(id);
      const json = JSON.stringify(payload);
      const expiresIn =
        this.name === 'ReplayDetection'
          ? Math.max(redisExpiry(givenExpiresIn), REPLAY_KEEP_SECONDS)
          : redisExpiry(givenExpiresIn);
      const writes: Array<Promise<unknown>> = [];
      if (GRANTABLE.has(this.name) && payload.grantId)
        writes.push(INDEX_IN_GRANT.run(redis, [grantKey(payload.grantId)], [key, expiresIn || '']));
      if (CONSUMABLE.has(this.name)) writes.push(WRITE_CONSUMABLE.run(redis, [key], [json, expiresIn || '']));
      else writes.push(expiresIn ? redis.set(key, json, 'EX', expiresIn) : redis.set(key, json));
      const index = (name: string) =>
        writes.push(expiresIn ? redis.set(name, id, 'EX', expiresIn) : redis.set(name, id));
      if (payload.userCode) index(userCodeKey(payload.userCode));
      if (payload.uid) index(uidKey(payload.uid));
      await Promise.all(writes);
      if (MEMOISED.has(this.name)) remember(key, json);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const key = this.key(id);
      if (this.name === 'ReplayDetection') {
        // claim-on-read: the first presenter gets "unseen", every other one the claim (a replay)
        const claimed = await redis.set(key, JSON.stringify({ claimed: true }), 'EX', REPLAY_CLAIM_SECONDS, 'NX');
        if (claimed === 'OK') return undefined;
        // seen: the key's presence is the answer. Not the stored record, whose `exp` is the proof's own (300 s after
        // first use) while the key lives REPLAY_KEEP_SECONDS: read back later, oidc-provider took it for expired,
        // i.e. never seen, and let the replay through
        return { jti: id };
      }
      if (CONSUMABLE.has(this.name)) {
        const data = await redis.hgetall(key);
        if (!data || !data.payload) return undefined;
        const payload = JSON.parse(data.payload) as AdapterPayload;
        // the token request reads the code's session, grant and account next: together, one round trip
        if (this.name === 'AuthorizationCode') durable?.prefetch(payload);
        return data.consumed ? { ...payload, consumed: Number(data.consumed) } : payload;
      }
      const data = MEMOISED.has(this.name) ? await memoised(key, () => redis.get(key)) : await redis.get(key);
      if (!data) return undefined;
      const payload = JSON.parse(data) as AdapterPayload;
      // an authorization resumed with its result reads the result's account and grant next: together
      if (this.name === 'Interaction' && payload.result) durable?.prefetch(namedByResult(payload.result));
      return payload;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = await redis.get(uidKey(uid));
      return id ? this.find(id) : undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const id = await redis.get(userCodeKey(userCode));
      return id ? this.find(id) : undefined;
    }

    async destroy(id: string): Promise<void> {
      forget(this.key(id));
      const deleted = redis.del(this.key(id));
      // the resumption's consumed Interaction: its deletion goes with the request's next command, and is waited
      // for before the request answers (deferred-writes.ts); elsewhere, now
      if (this.name === 'Interaction' && deferWrite(deleted)) return;
      await deleted;
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const gk = grantKey(grantId);
      const tokens = await redis.lrange(gk, 0, -1);
      // one DEL per key (each artefact in its own Cluster slot); the list last, so a failure can be retried
      await Promise.all(tokens.map((token) => redis.del(token)));
      await redis.del(gk);
      // the grant's access tokens live in the session store (a reused code revokes them too)
      await durable?.revokeByGrantId(grantId);
    }

    async consume(id: string): Promise<void> {
      const answer = (await CONSUME_ONCE.run(redis, [this.key(id)], [Math.floor(Date.now() / 1000)])) as string;
      if (answer === 'OK') return;
      const grantId = answer === '' ? undefined : (JSON.parse(answer) as AdapterPayload).grantId;
      if (grantId) await this.revokeByGrantId(grantId);
      throw reuseError(this.name);
    }
  };
}

/** The account and grant an interaction's result names (`interactionResult`'s `login` and `consent`). */
function namedByResult(result: unknown): { accountId?: unknown; grantId?: unknown } {
  const { login, consent } = result as { login?: { accountId?: unknown }; consent?: { grantId?: unknown } };
  return { accountId: login?.accountId, grantId: consent?.grantId };
}

/** Whether the client of the request under way, if any (oidc-provider's context), is the one `stored` was issued to. */
function presentedByItsClient(stored: { clientId?: unknown }): boolean {
  const caller = Provider.ctx?.oidc?.client?.clientId;
  return caller === undefined || stored.clientId === caller;
}

/** The adapter of a model kept in the two-tier session store. */
function durableAdapter(name: string, durable: DurableOidcModels): Adapter {
  return {
    upsert: (id, payload, expiresIn) => durable.upsert(name, id, payload as Record<string, unknown>, expiresIn ?? 0),
    find: async (id) => {
      // a refresh token another client than its own presents is not one (oidc-provider refuses that as a client
      // mismatch only after this find, where a rotated one's reuse revokes the person's session): no client of ours
      // acts on another's tokens, at the token, introspection or revocation endpoint
      // and a rotated one presented again revokes the session only at the token endpoint (its use to get tokens):
      // introspected or revoked by its own RP, it is simply not found
      if (name === 'RefreshToken') {
        const route = Provider.ctx?.oidc?.route;
        return (await durable.find(name, id, (stored) => presentedByItsClient(stored), {
          reuseIsCompromise: route === undefined || route === 'token',
        })) as AdapterPayload | undefined;
      }
      if (name !== 'AccessToken') return (await durable.find(name, id)) as AdapterPayload | undefined;
      // an access token is presented as its JWT (jwt-access-tokens.ts), or an opaque client's as its random value (its
      // jti): found by its jti, and only if it is exactly the value issued (a JWT token's bare jti, or a forged JWT
      // naming one, is no token)
      const jti = jtiOfJwt(id) ?? opaqueValue(id);
      if (!jti) return undefined;
      // checked first: a forged JWT naming a known jti, or a sender-constrained token without its key's proof at
      // userinfo (proof-of-possession.ts), is refused before the token guard acts on that token; and at the
      // revocation endpoint, another client's token (revocation-policy.ts answers it as not found) is not found
      // either, so that another RP presenting it makes the guard audit or end nothing
      const revocation = Provider.ctx?.oidc?.route === 'revocation';
      return (await durable.find(
        name,
        jti,
        (stored) =>
          isIssuedValue(id, stored as { atHash?: unknown }) &&
          provesPossession(stored as { jkt?: unknown }) &&
          (!revocation || presentedByItsClient(stored)),
      )) as AdapterPayload | undefined;
    },
    findByUid: async (uid) => (await durable.findByUid(name, uid)) as AdapterPayload | undefined,
    findByUserCode: async () => undefined,
    destroy: (id) => durable.destroy(name, id),
    revokeByGrantId: (grantId) => durable.revokeByGrantId(grantId),
    consume: async (id) => {
      if (!(await durable.consume(name, id))) throw reuseError(name);
    },
  };
}
