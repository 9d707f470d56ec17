/**
 * Where behavioural vectors live: the vector of a login in Redis until the translation point reads it
 * (interaction TTL), and a per-person profile (running mean and mean absolute deviation per feature,
 * never the vectors themselves) in Redis with PostgreSQL (`behaviour_profiles`) as the durable copy.
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { numericFeatures, type BehaviourVector } from './features.ts';

/** How the page's script delivered its vector. */
export type SignalChannel = 'post' | 'websocket';

export interface Profile {
  n: number;
  mean: Record<string, number>;
  mad: Record<string, number>;
}

/** A login's vector and its side channel, written in one MULTI: one hash tag, one Redis Cluster slot. */
const vectorKey = (loginId: string) => `beh:{${loginId}}`;
const channelKey = (loginId: string) => `beh:ch:{${loginId}}`;

/**
 * A per-request memo (the session store's, `session/request-memo.ts`, handed in by the wiring: this part
 * may not import it). The translation point reads a login's vector three times in one request (its signals,
 * the behaviour stage, the record of the assessment): once from Redis, and all three see the same vector.
 */
export interface RequestMemo {
  memoised<T>(key: string, read: () => Promise<T>): Promise<T>;
  remember(key: string, value: unknown): void;
}

const NO_MEMO: RequestMemo = { memoised: (_key, read) => read(), remember: () => undefined };

export class BehaviourStore {
  readonly #redis: Redis;
  readonly #pool: Pool | undefined;
  readonly #ttl: number;
  readonly #memo: RequestMemo;

  constructor(redis: Redis, pool: Pool | undefined, ttlSeconds: number, memo: RequestMemo = NO_MEMO) {
    this.#redis = redis;
    this.#pool = pool;
    this.#ttl = ttlSeconds;
    this.#memo = memo;
  }

  /** Keeps a login's vector, and which side channel brought it (`post` or `websocket`). */
  async save(loginId: string, vector: BehaviourVector, channel: SignalChannel = 'post'): Promise<void> {
    await this.#redis
      .multi()
      .set(vectorKey(loginId), JSON.stringify(vector), 'EX', this.#ttl)
      .set(channelKey(loginId), channel, 'EX', this.#ttl)
      .exec();
    this.#memo.remember(vectorKey(loginId), vector);
  }

  /** The side channel that brought a login's vector, or `null`. */
  async channel(loginId: string): Promise<SignalChannel | null> {
    return (await this.#redis.get(channelKey(loginId))) as SignalChannel | null;
  }

  /**
   * Reads a login's vector now, for a later `load` of the same request (the request memo keeps it): its GET
   * leaves with the request's other commands of this turn instead of in a round trip of its own. A failure
   * is not kept (the later `load` reads again and meets it); only useful inside a request.
   */
  prefetch(loginId: string): void {
    this.load(loginId).catch(() => undefined);
  }

  /** A login's vector, or `null`; read from Redis once per request. */
  async load(loginId: string): Promise<BehaviourVector | null> {
    const key = vectorKey(loginId);
    return this.#memo.memoised(key, async () => {
      const raw = await this.#redis.get(key);
      return raw ? (JSON.parse(raw) as BehaviourVector) : null;
    });
  }

  async profile(accountId: string): Promise<Profile | null> {
    const raw = await this.#redis.get(`behp:${accountId}`);
    if (raw) return JSON.parse(raw) as Profile;
    if (!this.#pool) return null;
    const { rows } = await this.#pool.query<{ profile: Profile }>(
      'select profile from behaviour_profiles where account_id = $1',
      [accountId],
    );
    return rows[0]?.profile ?? null;
  }

  /** Folds a login's vector into the person's profile (after the login was allowed). */
  async learn(accountId: string, vector: BehaviourVector): Promise<void> {
    const current = (await this.profile(accountId)) ?? { n: 0, mean: {}, mad: {} };
    const x = numericFeatures(vector);
    const n = current.n + 1;
    for (const [k, v] of Object.entries(x)) {
      const mean = current.mean[k] ?? v;
      const next = mean + (v - mean) / n;
      current.mad[k] = (current.mad[k] ?? 0) + (Math.abs(v - next) - (current.mad[k] ?? 0)) / n;
      current.mean[k] = next;
    }
    current.n = n;
    await this.#redis.set(`behp:${accountId}`, JSON.stringify(current), 'EX', 90 * 86_400);
    await this.#pool?.query(
      'insert into behaviour_profiles (account_id, profile) values ($1, $2::jsonb) on conflict (account_id) do update set profile = excluded.profile, updated_at = now()',
      [accountId, JSON.stringify(current)],
    );
  }
}
