/**
 * Wiring of the session store, once per process (called by `boot.ts`): the token's KEK and the key
 * hierarchy's `gateway` domain (first DEK made when there is none), the index secret, both tiers, the
 * revocation feed, the token guard, the revoker, and the timers:
 *
 * | timer                   | every      | does                                                        |
 * |-------------------------|------------|-------------------------------------------------------------|
 * | outbox sync             | 1 s, and when Redis reconnects | applies revocations Redis missed (`SessionRevoker.syncPending`); ends the grants of persons a merge replaced, once due (`ReplacedPersons.sweep`) |
 * | DEK rotation            | 1 h        | rotates the DEK once it is 24 h old (`dek-rotation.ts`)     |
 * | partitions + retention  | boot, 24 h | makes the daily partitions ahead, drops those expired 7 days ago |
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { KeyHierarchy } from '../../hsm/hierarchy/key-hierarchy.ts';
import { TokenKek } from '../../hsm/hierarchy/kek.ts';
import { PgDekRepository } from '../../hsm/hierarchy/pg-deks.ts';
import type { Pkcs11Token } from '../../hsm/pkcs11/token.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Registry } from 'prom-client';
import { DekRotation } from './dek-rotation.ts';
import { DurableTier } from './durable-tier.ts';
import { HotTier } from './hot-tier.ts';
import { DurableOidcModels } from './oidc-models.ts';
import { RecordCipher } from './record-cipher.ts';
import { RecordKeys, indexSecretFromKek } from './record-keys.ts';
import { LocalRevocations, RevocationFeed } from './revocation-feed.ts';
import { RefreshReuse } from './refresh-reuse.ts';
import { GrantEnd } from './grant-end.ts';
import { ReplacedPersons } from './replaced-persons.ts';
import { evictAfterMergeMs } from './session-save-merger.ts';
import { SessionRevoker } from './revocation.ts';
import { RevocationNotices } from './revocation-notices.ts';
import { sessionMetrics } from './session-metrics.ts';
import { SessionStore } from './session-store.ts';
import { TokenGuard } from './token-guard.ts';
import { HotEndsLedger } from './hot-ends-ledger.ts';

/** DEKs of the session store are rotated once this old. */

/** How long the session store's close waits for its sync work under way (part of a stopping process's 10 s). */
const SYNC_WAIT_AT_CLOSE_MS = 2_000;
export const DEK_MAX_AGE_MS = 24 * 3600_000;
/** Expired session rows are kept this long (days) before their partition is dropped. */
export const RETENTION_DAYS = 7;

export interface SessionsOptions {
  token: Pkcs11Token;
  pool: Pool;
  redis: Redis;
  logger: Logger;
  audit: Pick<AuditLog, 'append'>;
  registry: Registry;
  /** Pub/sub channel of revocations (the deployment's key prefix + `sessions:revoked`). */
  channel: string;
  /** The longest life of a stored record, seconds (partitions are made this far ahead, plus 2 days). */
  maxTtlSeconds: number;
  actor: string;
  /** Timers off (tests drive them). */
  timers: boolean;
  /** Redis's command timeout, ms (`redis.commandTimeoutMs`; default 5 000). */
  redisCommandTimeoutMs?: number;
}

export interface Sessions {
  store: SessionStore;
  /** Seals values for one record under the session DEK (also the login outcomes of `login-context.ts`). */
  cipher: RecordCipher;
  models: DurableOidcModels;
  revoker: SessionRevoker;
  /** The grants the gateway ends on its own (another person's session, a reused refresh token's family). */
  grants: GrantEnd;
  guard: TokenGuard;
  feed: RevocationFeed;
  hierarchy: KeyHierarchy;
  rotation: DekRotation;
  /**
   * Whether the session's current row in PostgreSQL names another person than `accountId` (two people's logins at
   * once on one browser); false when it names none, is gone, or cannot be read (the caller then acts as before).
   */
  namesAnotherPerson(sessionUid: string, accountId: string): Promise<boolean>;
  /** Makes partitions ahead and drops expired ones; returns the dropped partitions. */
  maintain(now?: Date): Promise<string[]>;
  /**
   * Makes in Redis the ends and evictions written down at least `olderThanMs` ago (any process's: hot-ends-ledger.ts);
   * the session tier's timer runs it every minute, the first time at boot. Answers how many it made.
   */
  sweepHotEnds(olderThanMs?: number): Promise<number>;
  close(): Promise<void>;
}

/** How often the written-down ends are swept (ms). */
const HOT_ENDS_SWEEP_EVERY_MS = 60_000;

export async function startSessions(options: SessionsOptions): Promise<Sessions> {
  const { pool, redis, logger } = options;
  const kek = await TokenKek.open(options.token);
  const hierarchy = await KeyHierarchy.open({
    kek,
    repository: new PgDekRepository(pool),
    actor: options.actor,
    bootstrap: true,
  });
  await hierarchy.verifyActive(); // another token's DEKs: stop here, not at every login's first seal
  const metrics = sessionMetrics(options.registry);
  const durable = new DurableTier(pool);
  const cipher = new RecordCipher(hierarchy);
  const ledger = new HotEndsLedger(pool);
  const local = new LocalRevocations(100_000, (options.maxTtlSeconds + 300) * 1000);
  const store = new SessionStore({
    keys: new RecordKeys(await indexSecretFromKek(kek)),
    hot: new HotTier(redis, 250),
    durable,
    cipher,
    logger,
    metrics,
    known: local,
    redisCommandTimeoutMs: options.redisCommandTimeoutMs,
    ledger,
  });
  const feed = await RevocationFeed.start(redis, options.channel, local, logger);
  const guard = new TokenGuard({ store, local, audit: options.audit, metrics });
  const grants = new GrantEnd({ store, audit: options.audit });
  // the person a session's current row in PostgreSQL names (a reuse and a risky refresh spare another person's)
  const sessionPerson = async (uid: string) =>
    (await store.durable.get(store.keys.key('Session', uid)))?.accountKey ?? null;
  // the persons a merge across persons replaced: written down at the merge, their grants ended by the sweeper
  const replacedPersons = new ReplacedPersons({
    pool,
    keys: store.keys,
    delayMs: evictAfterMergeMs(options.redisCommandTimeoutMs ?? 5_000),
    logger,
  });
  store.onPersonReplaced((recordKey, session, db) => replacedPersons.replaced(recordKey, session, db));
  // outside any request (its held writes, its memo), whoever calls the sweep
  const outsideRequests = AsyncLocalStorage.snapshot();
  replacedPersons.handle((replaced) => outsideRequests(() => grants.endReplaced(replaced)));
  const revoker = new SessionRevoker({
    store,
    feed,
    audit: options.audit,
    metrics,
    notices: new RevocationNotices(pool),
  });
  const rotation = new DekRotation({ hierarchy, redis, logger, maxAgeMs: DEK_MAX_AGE_MS });
  const aheadDays = Math.ceil(options.maxTtlSeconds / 86_400) + 2;
  const maintain = (now?: Date) => durable.maintain(aheadDays, RETENTION_DAYS, now);
  await maintain();
  const timers: NodeJS.Timeout[] = [];
  let telling: Promise<unknown> | undefined;
  // the timers' work under way (it writes audit records and tells RPs): awaited by close()
  const running = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    running.add(work);
    const forget = () => running.delete(work);
    work.then(forget, forget);
  };
  let lastSweep = 0;
  const sync = () => {
    track(revoker.syncPending().catch((err: unknown) => logger.warn({ err }, 'revocation sync failed')));
    // the RPs of revocations no gateway is telling (the session CLI's; a stopped gateway's)
    if (!telling)
      telling = revoker
        .tellDue(10, (id) =>
          logger.error(
            { code: 'REVOCATION_RPS_NOT_TOLD', revocation: id },
            'a revocation’s RPs could not be told after 10 tries: left for an operator (session_revocations)',
          ),
        )
        .catch((err: unknown) => logger.warn({ err }, 'revoked sessions’ RPs not told'))
        .finally(() => (telling = undefined));
    // not `telling`: it may tell many sessions' RPs; a stopping gateway leaves the rest to another (the notice lease)
    track(store.retryEnds().catch((err: unknown) => logger.warn({ err }, 'ends not retried in Redis')));
    // what any process wrote down and Redis has not taken yet (one that stopped or died with its queue)
    if (Date.now() - lastSweep >= HOT_ENDS_SWEEP_EVERY_MS) {
      lastSweep = Date.now();
      track(ledger.sweep(store.hot).catch((err: unknown) => logger.warn({ err }, 'written-down ends not swept')));
    }
    track(replacedPersons.sweep().catch((err: unknown) => logger.warn({ err }, 'replaced persons not swept')));
  };
  const onReady = () => sync();
  if (options.timers) {
    timers.push(setInterval(sync, 1_000));
    timers.push(
      setInterval(
        () => void maintain().catch((err: unknown) => logger.warn({ err }, 'session partitions not maintained')),
        24 * 3600_000,
      ),
    );
    for (const t of timers) t.unref();
    redis.on('ready', onReady);
    rotation.start(3600_000);
  }
  return {
    store,
    cipher,
    models: new DurableOidcModels(
      store,
      guard,
      new RefreshReuse({
        revoker,
        audit: options.audit,
        registry: options.registry,
        sessionPerson,
        grants,
      }),
      grants,
    ),
    revoker,
    grants,
    guard,
    feed,
    hierarchy,
    rotation,
    async namesAnotherPerson(sessionUid, accountId) {
      const person = await sessionPerson(sessionUid).catch(() => null);
      return !!person && !person.equals(store.keys.key('account', accountId));
    },
    maintain,
    sweepHotEnds: (olderThanMs) => ledger.sweep(store.hot, olderThanMs),
    async close() {
      for (const t of timers) clearInterval(t);
      redis.off('ready', onReady);
      rotation.stop();
      // a sync under way (its audit records) ends before the keys and the audit log go, waited for a bounded time:
      // a stopping process has 10 s in all (gateway/main.ts)
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, SYNC_WAIT_AT_CLOSE_MS);
        }),
      ]);
      clearTimeout(timer);
      await feed.close();
      hierarchy.forget();
    },
  };
}
