/**
 * Where the reads that may lag go: the PostgreSQL streaming replica while it keeps up, the primary
 * otherwise (issue #15, the failure table's replica row).
 *
 * - a heartbeat: every `heartbeatMs` this process writes its own row on the primary (a sequence number;
 *   table `replica_heartbeat`) and reads it on the replica. The replica is behind by the age of the oldest
 *   write it has not applied yet (0 when it holds the latest), measured on this process's own clock, so no
 *   clock skew between servers enters the figure;
 * - lag above `maxMs`, or a replica that does not answer: those reads go to the primary at once;
 * - back to the replica only after the lag stayed below `recoverMs` for `recoverSeconds` (the process
 *   starts on the primary, and earns the replica the same way);
 * - only reads that may see a second-old state are routed (today: the review queue listing of the admin
 *   API). Never a read that must see a write just made, a revocation or a single-use claim: those use the
 *   primary pool directly.
 */
import type { Pool } from 'pg';

export type ReadRoute = 'replica' | 'primary';

export interface ReplicaLagOptions {
  heartbeatMs: number;
  maxMs: number;
  recoverMs: number;
  recoverSeconds: number;
}

export interface ReplicaRouterEvents {
  /** Each measurement, ms (`Infinity` while the replica does not answer). */
  lag?: (ms: number) => void;
  /** The route changed (and why, with the lag that decided it). */
  route?: (route: ReadRoute, lagMs: number) => void;
  /** A heartbeat write on the primary failed (the route is kept). */
  error?: (error: unknown) => void;
}

/** The pool for reads that may lag, as the few stores that have such reads take it. */
export interface LaggingReads {
  pool(): Pool;
}

/** Heartbeats remembered while the replica has not applied them. */
const MAX_TRACKED = 10_000;

export class ReplicaRouter implements LaggingReads {
  readonly #primary: Pool;
  readonly #replica: Pool;
  readonly #o: ReplicaLagOptions;
  readonly #events: ReplicaRouterEvents;
  readonly #instance: string;
  readonly #written = new Map<number, number>();
  #seq = 0;
  #route: ReadRoute = 'primary';
  #healthySince: number | undefined;
  #lastLag = Number.POSITIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  constructor(primary: Pool, replica: Pool, options: ReplicaLagOptions, instance: string, events: ReplicaRouterEvents) {
    this.#primary = primary;
    this.#replica = replica;
    this.#o = options;
    this.#instance = instance;
    this.#events = events;
  }

  /** The pool the reads that may lag use now. */
  pool(): Pool {
    return this.#route === 'replica' ? this.#replica : this.#primary;
  }

  get route(): ReadRoute {
    return this.#route;
  }

  get lagMs(): number {
    return this.#lastLag;
  }

  /** One heartbeat: write on the primary, read on the replica, decide the route. */
  async tick(now: () => number = Date.now): Promise<void> {
    const seq = ++this.#seq;
    try {
      await this.#primary.query(
        `insert into replica_heartbeat (instance, seq, written_at) values ($1, $2, now())
         on conflict (instance) do update set seq = excluded.seq, written_at = excluded.written_at`,
        [this.#instance, seq],
      );
    } catch (error) {
      this.#events.error?.(error);
      return;
    }
    this.#written.set(seq, now());
    // a replica away for hours: forget the oldest writes (what remains is still older than any threshold)
    while (this.#written.size > MAX_TRACKED) this.#written.delete(this.#written.keys().next().value!);
    let lag: number;
    try {
      const { rows } = await this.#replica.query<{ seq: string }>(
        'select seq::text as seq from replica_heartbeat where instance = $1',
        [this.#instance],
      );
      const applied = rows[0] ? Number(rows[0].seq) : 0;
      for (const s of this.#written.keys()) if (s <= applied) this.#written.delete(s);
      // the Map keeps insertion order: its first entry is the oldest write the replica has not applied
      const oldestMissing = this.#written.values().next().value;
      lag = oldestMissing === undefined ? 0 : Math.max(0, now() - oldestMissing);
    } catch {
      lag = Number.POSITIVE_INFINITY;
    }
    this.#decide(lag, now());
  }

  #decide(lag: number, at: number): void {
    this.#lastLag = lag;
    this.#events.lag?.(lag);
    if (lag > this.#o.maxMs) {
      this.#healthySince = undefined;
      this.#switch('primary', lag);
    } else if (lag < this.#o.recoverMs) {
      this.#healthySince ??= at;
      if (at - this.#healthySince >= this.#o.recoverSeconds * 1000) this.#switch('replica', lag);
    } else {
      this.#healthySince = undefined;
    }
  }

  #switch(route: ReadRoute, lag: number): void {
    if (this.#route === route) return;
    this.#route = route;
    this.#events.route?.(route, lag);
  }

  /** Starts the heartbeat (one tick at a time; a slow tick delays the next one). */
  start(): void {
    const loop = () => {
      this.#timer = setTimeout(() => {
        void this.tick().finally(() => {
          if (this.#timer !== undefined) loop();
        });
      }, this.#o.heartbeatMs);
      this.#timer.unref();
    };
    loop();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
