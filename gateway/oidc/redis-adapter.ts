/**
 * oidc-provider's storage adapter on Redis: every artefact (sessions, interactions, grants, codes,
 * tokens, ...) lives in Redis with its TTL, so any gateway instance (and any Provider generation after a
 * key rotation) sees the same state. Modelled on oidc-provider's example Redis adapter.
 */
import type { Redis } from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';

const CONSUMABLE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

function grantKey(id: string): string {
  return `oidc:grant:${id}`;
}
function userCodeKey(code: string): string {
  return `oidc:userCode:${code}`;
}
function uidKey(uid: string): string {
  return `oidc:uid:${uid}`;
}

/** Returns the adapter class oidc-provider instantiates once per model name. */
export function redisAdapterFactory(redis: Redis): new (name: string) => Adapter {
  return class RedisAdapter implements Adapter {
    readonly name: string;

    constructor(name: string) {
      this.name = name;
    }

    key(id: string): string {
      return `oidc:${this.name}:${id}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const key = this.key(id);
      const multi = redis.multi();
      if (CONSUMABLE.has(this.name)) multi.hset(key, { payload: JSON.stringify(payload) });
      else multi.set(key, JSON.stringify(payload));
      if (expiresIn) multi.expire(key, expiresIn);
      if (GRANTABLE.has(this.name) && payload.grantId) {
        const gk = grantKey(payload.grantId);
        multi.rpush(gk, key);
        const ttl = await redis.ttl(gk);
        if (expiresIn > ttl) multi.expire(gk, expiresIn);
      }
      if (payload.userCode) {
        multi.set(userCodeKey(payload.userCode), id);
        if (expiresIn) multi.expire(userCodeKey(payload.userCode), expiresIn);
      }
      if (payload.uid) {
        multi.set(uidKey(payload.uid), id);
        if (expiresIn) multi.expire(uidKey(payload.uid), expiresIn);
      }
      await multi.exec();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const key = this.key(id);
      if (CONSUMABLE.has(this.name)) {
        const data = await redis.hgetall(key);
        if (!data || !data.payload) return undefined;
        const payload = JSON.parse(data.payload) as AdapterPayload;
        return data.consumed ? { ...payload, consumed: Number(data.consumed) } : payload;
      }
      const data = await redis.get(key);
      return data ? (JSON.parse(data) as AdapterPayload) : undefined;
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
      await redis.del(this.key(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const gk = grantKey(grantId);
      const tokens = await redis.lrange(gk, 0, -1);
      const multi = redis.multi();
      for (const token of tokens) multi.del(token);
      multi.del(gk);
      await multi.exec();
    }

    async consume(id: string): Promise<void> {
      await redis.hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000));
    }
  };
}
