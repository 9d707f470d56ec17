/**
 * How every instance learns a revocation within milliseconds: the revoker publishes the sessions' new
 * version and state on a Redis channel; every instance keeps them in a bounded local cache, so a revoked
 * session is refused without a round trip. The cache is only a fast path: a missed message (Redis down,
 * a subscriber reconnecting) is caught by the version check, which reads the session's version from the
 * store on every token use (`token-guard.ts`).
 *
 * - Bounded: at most `capacity` sessions (oldest forgotten first) for at most `ttlMs` (longer than any
 *   session lives).
 * - A revocation of one session is announced (`announce`) while its PostgreSQL transaction runs, then
 *   published again with its version once written: propagation does not wait on PostgreSQL.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RecordState } from './durable-tier.ts';

export interface KnownState {
  version: number;
  state: RecordState;
}

interface Message {
  id: string;
  records: Array<{ k: string; v: number; st: RecordState }>;
}

export class LocalRevocations {
  readonly #capacity: number;
  readonly #ttlMs: number;
  readonly #known = new Map<string, KnownState & { at: number }>();

  constructor(capacity: number, ttlMs: number) {
    this.#capacity = capacity;
    this.#ttlMs = ttlMs;
  }

  /**
   * Keeps the newest state of a session. `revoked` is final (a session never leaves it), so it wins over any
   * `active` state whatever the versions (an early announcement carries no version yet), and nothing after
   * it replaces it.
   */
  learn(recordKeyHex: string, state: KnownState): void {
    const previous = this.#known.get(recordKeyHex);
    if (previous?.state === 'revoked') return;
    if (previous && previous.version >= state.version && state.state !== 'revoked') return;
    this.#known.delete(recordKeyHex);
    this.#known.set(recordKeyHex, { ...state, at: Date.now() });
    while (this.#known.size > this.#capacity) this.#known.delete(this.#known.keys().next().value!);
  }

  get(recordKeyHex: string): KnownState | undefined {
    const entry = this.#known.get(recordKeyHex);
    if (!entry) return undefined;
    if (Date.now() - entry.at > this.#ttlMs) {
      this.#known.delete(recordKeyHex);
      return undefined;
    }
    return entry;
  }

  get size(): number {
    return this.#known.size;
  }
}

export class RevocationFeed {
  readonly local: LocalRevocations;
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #channel: string;

  private constructor(publisher: Redis, subscriber: Redis, channel: string, local: LocalRevocations) {
    this.#publisher = publisher;
    this.#subscriber = subscriber;
    this.#channel = channel;
    this.local = local;
  }

  /** Subscribes `channel` on a second connection of `redis`. */
  static async start(redis: Redis, channel: string, local: LocalRevocations, logger: Logger): Promise<RevocationFeed> {
    const subscriber = redis.duplicate();
    subscriber.on('error', () => undefined);
    const feed = new RevocationFeed(redis, subscriber, channel, local);
    subscriber.on('message', (from: string, text: string) => {
      if (from !== channel) return;
      try {
        for (const r of (JSON.parse(text) as Message).records) local.learn(r.k, { version: r.v, state: r.st });
      } catch (error) {
        logger.warn({ err: error }, 'revocation message unreadable');
      }
    });
    await subscriber.subscribe(channel);
    return feed;
  }

  /**
   * Tells every instance that one session is revoked before its durable write is done (its version is not
   * known yet: `revoked` needs none, see {@link LocalRevocations.learn}). This instance learns it at once.
   */
  async announce(recordKey: Buffer): Promise<void> {
    await this.publish('announce', [{ recordKey, version: 0, state: 'revoked' }]);
  }

  /** Tells every instance (this one at once). */
  async publish(
    id: string,
    records: ReadonlyArray<{ recordKey: Buffer; version: number; state: RecordState }>,
  ): Promise<void> {
    const message: Message = {
      id,
      records: records.map((r) => ({ k: r.recordKey.toString('hex'), v: r.version, st: r.state })),
    };
    for (const r of message.records) this.local.learn(r.k, { version: r.v, state: r.st });
    await this.#publisher.publish(this.#channel, JSON.stringify(message));
  }

  async close(): Promise<void> {
    this.#subscriber.disconnect();
  }
}
