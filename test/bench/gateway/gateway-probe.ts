/**
 * Loaded into the gateway process by the benchmark only (`node --import <this> gateway/main.ts`): counts,
 * from inside, what a login costs in round trips and HSM signatures, without changing what is done.
 *
 * - PostgreSQL: every `pg` Client.query (one query = one round trip; node-postgres does not pipeline);
 *   at the `detail` level also keyed by the first words of the statement.
 * - Redis: every ioredis command, and the round trips: a command sent on its own, or one pipeline/MULTI;
 *   the writes of each client's socket; at the `detail` level also by command and key shape.
 * - HSM: every Pkcs11Signer.sign, keyed by purpose/algorithm.
 * - Per route (when asked at reset): requests, and the process CPU time from the request's arrival to the end of its response
 *   (process.cpuUsage, all threads). Only meaningful when requests do not overlap: the benchmark reads it
 *   from a phase at concurrency 1. Work left running after a response is counted in the next request.
 *
 * The probe's own cost (issue #14): its hooks run in the measured process, so they are part of the CPU the
 * benchmark reads from /proc. At the `cheap` level — the level of every phase whose CPU figures the
 * benchmark prints — a hook is an integer increment (no string built, no regex, no stack trace); the tables
 * by statement and key shape (`detail`: a regex pass per command) are gathered in separate phases, whose
 * CPU is not the benchmark's figure, and `BENCH_ORIGINS` stack traces only there. The hooks that exist only
 * for origins (Pool.query, Pipeline.sendCommand) are not installed without BENCH_ORIGINS. What `cheap`
 * still costs against `off` is measured by probe-overhead-ab.ts.
 *
 * The benchmark asks over the IPC channel: `{ probe: 'read' }` answers the counts, `{ probe: 'reset', level,
 * timeRoutes }` zeroes them and sets the level, `{ probe: 'memory' }` answers process.memoryUsage() after a full GC (`--expose-gc`); `{ probe: 'profile-start' }` / `{ probe: 'profile-stop', file }` run V8's sampling CPU
 * profiler (the one `node --cpu-prof` drives) over one measured phase only, through node:inspector, and
 * write a .cpuprofile (startup, warm-up and the other phases stay out of it); with BENCH_HEAP_PROF=1 also the sampling
 * heap profiler's allocations of the phase, freed or not (a .heapprofile).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import pg from 'pg';
import { Redis } from 'ioredis';
import PipelineModule from 'ioredis/built/Pipeline.js';
import { Pkcs11Signer } from '../../../hsm/pkcs11-signer.ts';

export interface ProbeCounts {
  /** Which counting ran: `cheap` (totals only) or `detail` (tables by statement, command and key too). */
  level: 'off' | 'cheap' | 'detail';
  pgQueryCount: number;
  redisCommandCount: number;
  /** `detail` only: by the first words of the statement. */
  pgQueries: Record<string, number>;
  /** `detail` only: by command name. */
  redisCommands: Record<string, number>;
  /** `detail` only: per command and key shape (`GET oidc:Session:*`): who issues the Redis commands. */
  redisByKey: Record<string, number>;
  /**
   * `detail` only: per round trip, what it carried (`SET risk:learn:* + EVALSHA riskscore:*`, the commands of one
   * pipeline, MULTI or auto-pipeline in order; a command sent alone by itself): which keys share a round trip.
   */
  redisByRoundTrip: Record<string, number>;
  redisRoundTrips: number;
  /** Writes of the Redis sockets to the kernel (`_write` / `_writev`): commands written into a corked socket in one turn are one. */
  redisSocketWrites: number;
  /** `detail` with BENCH_ORIGINS=1 only (a stack trace per command costs CPU): `origin → count`, origin = the first frame of ours. */
  pgByOrigin: Record<string, number>;
  redisByOrigin: Record<string, number>;
  hsmSignatures: Record<string, number>;
  routes: Record<string, { requests: number; cpuMs: number }>;
}

/**
 * How much the probe does per query, command and request. `off`: nothing but the check of this level (the
 * A/B of the probe's own cost, probe-overhead-ab.ts); `cheap`: integer counters only (totals, round trips,
 * socket writes, HSM signatures, route timing when asked) — the level of every phase whose CPU the benchmark
 * prints; `detail`: also the tables by statement, command and key shape (a regex pass per command) and, with
 * BENCH_ORIGINS, a stack trace per query and command.
 */
export type ProbeLevel = ProbeCounts['level'];
const LEVELS: Readonly<Record<ProbeLevel, number>> = { off: 0, cheap: 1, detail: 2 };
const OFF = 0;
const DETAIL = 2;
let level = LEVELS.cheap;
let levelName: ProbeLevel = 'cheap';

const empty = (): ProbeCounts => ({
  level: levelName,
  pgQueryCount: 0,
  redisCommandCount: 0,
  pgQueries: {},
  redisCommands: {},
  redisByKey: {},
  redisByRoundTrip: {},
  redisRoundTrips: 0,
  redisSocketWrites: 0,
  pgByOrigin: {},
  redisByOrigin: {},
  hsmSignatures: {},
  routes: {},
});
let counts = empty();
let timeRoutes = false;
/**
 * Each timed request's route and window (`[route, arrival, end of response]`, µs of the monotonic clock V8's
 * profiler stamps its samples with): written beside a phase's profile (`<file>.routes.json`), so that
 * summarise-cpuprofile.ts can say where each route's CPU goes.
 */
let windows: Array<[string, number, number]> = [];
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** Zeroes the counts and sets the level (and whether requests are timed) for what follows. */
export function resetProbe(next: ProbeLevel, timed = false): void {
  if (!(next in LEVELS)) throw new TypeError(`probe level: off, cheap or detail, not ${String(next)}`);
  level = LEVELS[next];
  levelName = next;
  timeRoutes = timed;
  counts = empty();
  windows = [];
}

export function probeCounts(): ProbeCounts {
  return counts;
}

const bump = (table: Record<string, number>, key: string) => {
  table[key] = (table[key] ?? 0) + 1;
};

function statementKey(query: unknown): string {
  const text = typeof query === 'string' ? query : ((query as { text?: string } | null)?.text ?? '?');
  return text.replace(/\s+/g, ' ').trim().split(' ').slice(0, 6).join(' ');
}

/**
 * Who issued a query or a command: the first stack frame in the repository that is not plumbing (the pool,
 * the Lua script runner, this probe), as `file function`. Synchronous frames only: a command queued by
 * a pipeline or a MULTI is attributed when it is queued (Pipeline.sendCommand runs in the caller's stack).
 */
const ORIGINS = process.env.BENCH_ORIGINS === '1' || process.env.BENCH_ORIGINS === 'chain';
/**
 * BENCH_TRACE=<file>: at the `detail` level, the order of things, appended to that file at each read: a
 * request's arrival (`>> GET /auth`), each Redis command (`EVALSHA flow:*:login:*`, `+` when queued in a
 * pipeline) and each write of a Redis socket (`| write`), each PostgreSQL query (`PG INSERT INTO ...`). Shows
 * which round trips of a request follow one another and which could go together.
 */
const TRACE_FILE = process.env.BENCH_TRACE;
let trace: string[] = [];
const traced = (line: string) => {
  if (TRACE_FILE && level === DETAIL) trace.push(line);
};
/** BENCH_ORIGINS=chain: the first three such frames, `a ← b ← c` (who called the one who called); BENCH_ORIGINS_DEPTH=n: n. */
const DEPTH = process.env.BENCH_ORIGINS === 'chain' ? Number(process.env.BENCH_ORIGINS_DEPTH ?? 3) : 1;
/**
 * `BENCH_BY_ROUTE=1` (`detail` only): the tables by statement, key shape and origin keyed by the route of the
 * request that was last to arrive too (`GET /auth/:id | HGETALL s2:*`): exact in the detail phases, which run
 * at concurrency 1 (work left running after a response is counted in the next request).
 */
const BY_ROUTE = process.env.BENCH_BY_ROUTE === '1';
let currentRoute = '';
const routed = (key: string) => (BY_ROUTE ? `${currentRoute} | ${key}` : key);
const ROOT = new URL('../../../', import.meta.url).pathname;
const PLUMBING = [
  'test/bench/',
  'gateway/store/lua-script.ts',
  'gateway/store/postgres.ts',
  'gateway/store/redis-fail-fast.ts',
  'gateway/store/replica-router.ts',
  'gateway/store/replica-reads.ts',
];
function originOf(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 60;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames: string[] = [];
  for (const line of stack.split('\n').slice(2)) {
    const m = /at (?:async )?(?:(\S+) \()?(?:file:\/\/)?([^():]+):\d+:\d+\)?$/.exec(line.trim());
    if (!m || !m[2]!.startsWith(ROOT)) continue;
    const file = m[2]!.slice(ROOT.length);
    if (file.startsWith('node_modules/') || PLUMBING.some((p) => file.startsWith(p))) continue;
    frames.push(`${file} ${m[1] ?? '(anonymous)'}`);
    if (frames.length === DEPTH) break;
  }
  return frames.length > 0 ? frames.join(' ← ') : '(no frame of ours)';
}

const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  if (level !== OFF) {
    counts.pgQueryCount += 1;
    if (level === DETAIL) {
      bump(counts.pgQueries, routed(statementKey(args[0])));
      traced(`  PG ${statementKey(args[0])}`);
      if (ORIGINS) {
        const origin = originOf();
        // Pool.query runs Client.query from a callback: attributed by the Pool hook below instead.
        if (origin !== '(no frame of ours)') bump(counts.pgByOrigin, routed(`${origin}: ${statementKey(args[0])}`));
      }
    }
  }
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;
if (ORIGINS) {
  const poolQuery = pg.Pool.prototype.query as (...args: unknown[]) => unknown;
  pg.Pool.prototype.query = function countedPoolQuery(this: pg.Pool, ...args: unknown[]) {
    if (level === DETAIL) bump(counts.pgByOrigin, routed(`${originOf()}: ${statementKey(args[0])}`));
    return poolQuery.apply(this, args);
  } as typeof pg.Pool.prototype.query;
}

/** The key a command touches, as a shape: the deployment's prefix dropped, random segments as `*`. */
const PREFIX = process.env.BENCH_REDIS_PREFIX ?? '';
function keyShapeOf(name: string, args: unknown[]): string {
  const key = name === 'EVAL' || name === 'EVALSHA' ? args[2] : args[0];
  if (key === undefined || name === 'MULTI' || name === 'EXEC' || name === 'PUBLISH') return '';
  const text = String(key);
  return (text.startsWith(PREFIX) ? text.slice(PREFIX.length) : text)
    .split(':')
    .map((part) =>
      /^(?:[A-Z][a-z]+)+$/.test(part)
        ? part
        : /^[A-Za-z0-9_.=/+-]{12,}$/.test(part) || /^[0-9.]+(?:\/\d+)?$/.test(part) || /^\{[^{}]+\}$/.test(part)
          ? '*'
          : part,
    )
    .join(':');
}

/** The socket whose writes are counted, on the client itself: one property read per command. */
const WATCHED = Symbol('bench.probe.watchedSocket');
/** On a watched socket: the commands given to it since its last write (count; their shapes at `detail`). */
const PENDING = Symbol('bench.probe.pending');
type Pending = { n: number; shapes: string[] };
type Watched = { [WATCHED]?: unknown; stream?: Record<string | symbol, unknown> & { [PENDING]?: Pending } };
/**
 * Counts the writes of a client's socket to the kernel (wrapped once per socket; a reconnection makes a new one).
 * A write that carries commands is a round trip, whatever grouped them (a command alone, a pipeline or MULTI, the
 * commands of one turn of the event loop: `gateway/store/redis-one-write-per-turn.ts`); at `detail`, what it
 * carried is kept too.
 */
function watchSocket(client: Watched): void {
  const socket = client.stream;
  client[WATCHED] = socket;
  if (!socket || typeof socket._write !== 'function') return;
  const pending: Pending = { n: 0, shapes: [] };
  socket[PENDING] = pending;
  for (const name of ['_write', '_writev']) {
    const original = (socket[name] as (...a: unknown[]) => void).bind(socket);
    socket[name] = (...a: unknown[]) => {
      if (level !== OFF) {
        counts.redisSocketWrites += 1;
        if (pending.n > 0) counts.redisRoundTrips += 1;
        if (level === DETAIL && pending.shapes.length > 0) bump(counts.redisByRoundTrip, pending.shapes.join(' + '));
      }
      pending.n = 0;
      pending.shapes = [];
      traced('  | write');
      original(...a);
    };
  }
}

const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  const self = this as unknown as Watched;
  if (self[WATCHED] !== self.stream) watchSocket(self);
  if (level !== OFF) {
    counts.redisCommandCount += 1;
    const pending = self.stream?.[PENDING];
    if (pending) pending.n += 1;
    if (level === DETAIL) {
      const name = String(args[0].name).toUpperCase();
      const shape = `${name} ${keyShapeOf(name, args[0].args)}`.trim();
      bump(counts.redisCommands, name);
      bump(counts.redisByKey, routed(shape));
      traced(`  ${args[1] === undefined ? '' : '+'}${shape}`);
      pending?.shapes.push(shape);
      if (ORIGINS && args[1] === undefined) bump(counts.redisByOrigin, routed(`${originOf()}: ${name}`));
    }
  }
  return sendCommand.apply(this, args);
};
const Pipeline = PipelineModule.default;
if (ORIGINS) {
  const queue = Pipeline.prototype.sendCommand;
  // A command queued in a pipeline, a MULTI or an auto-pipeline: attributed here, in its caller's stack.
  Pipeline.prototype.sendCommand = function queuedCommand(
    this: InstanceType<typeof Pipeline>,
    ...args: Parameters<typeof queue>
  ) {
    if (level === DETAIL) bump(counts.redisByOrigin, routed(`${originOf()}: ${String(args[0].name).toUpperCase()}`));
    return queue.apply(this, args);
  };
}
const signOnce = Pkcs11Signer.prototype.sign;
Pkcs11Signer.prototype.sign = function countedSign(this: Pkcs11Signer, data: Uint8Array) {
  if (level !== OFF) bump(counts.hsmSignatures, `${this.purpose}/${this.alg}`);
  return signOnce.call(this, data);
};

/** `GET /interaction/AbC…/complete?x` → `GET /interaction/:id/complete`. */
function routeOf(req: IncomingMessage): string {
  const path = (req.url ?? '')
    .split('?')[0]!
    .split('/')
    .map((part) => (/^[A-Za-z0-9_-]{16,}$/.test(part) ? ':id' : part))
    .join('/');
  return `${req.method} ${path}`;
}

const emit = Server.prototype.emit as (...a: unknown[]) => boolean;
// `arguments` rather than rest parameters: no array built per event of every server (connections too)
Server.prototype.emit = function timedEmit(this: Server, event: string | symbol) {
  if (TRACE_FILE && level === DETAIL && event === 'request')
    // eslint-disable-next-line prefer-rest-params
    traced(`>> ${routeOf((arguments as unknown as [string, IncomingMessage])[1])}`);
  // eslint-disable-next-line prefer-rest-params
  if (BY_ROUTE && level === DETAIL && event === 'request') currentRoute = routeOf(arguments[1] as IncomingMessage);
  if (timeRoutes && event === 'request') {
    // eslint-disable-next-line prefer-rest-params
    const [, req, res] = arguments as unknown as [string, IncomingMessage, ServerResponse];
    const started = process.cpuUsage();
    const arrived = monotonicUs();
    const route = routeOf(req);
    res.once('finish', () => {
      const used = process.cpuUsage(started);
      windows.push([route, arrived, monotonicUs()]);
      const entry = (counts.routes[route] ??= { requests: 0, cpuMs: 0 });
      entry.requests += 1;
      entry.cpuMs += (used.user + used.system) / 1000;
    });
  }
  // eslint-disable-next-line prefer-rest-params
  return emit.apply(this, arguments as unknown as unknown[]);
} as typeof Server.prototype.emit;

/**
 * BENCH_HEAP_PROF=1 (with BENCH_CPU_PROF): V8's sampling heap profiler over the same phases, counting every sampled
 * allocation, also those the garbage collector has freed since (what the young generation's collections cost), into
 * a .heapprofile beside the .cpuprofile (`summarise-heapprofile.ts`).
 */
const HEAP_PROF = process.env.BENCH_HEAP_PROF === '1';
/** The protocol's sampling parameters (the freed objects' flags are newer than @types/node's copy of it). */
const EVERY_ALLOCATION = {
  samplingInterval: 16384,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
} as { samplingInterval: number };
const inspector = new Session();
inspector.connect();

async function profile(message: { probe?: string; file?: string }): Promise<void> {
  if (message.probe === 'profile-start') {
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 500 });
    await inspector.post('Profiler.start');
    if (HEAP_PROF) await inspector.post('HeapProfiler.startSampling', EVERY_ALLOCATION);
    process.send?.({ probe: 'profiling' });
  } else {
    const { profile: result } = await inspector.post('Profiler.stop');
    writeFileSync(message.file!, JSON.stringify(result));
    if (HEAP_PROF) {
      const { profile: allocations } = await inspector.post('HeapProfiler.stopSampling');
      writeFileSync(`${message.file!.replace(/\.cpuprofile$/, '')}.heapprofile`, JSON.stringify(allocations));
    }
    if (windows.length > 0) writeFileSync(`${message.file!}.routes.json`, JSON.stringify(windows));
    process.send?.({ probe: message.file });
  }
}

process.on('message', (message: { probe?: string; file?: string; level?: ProbeLevel; timeRoutes?: boolean }) => {
  if (message?.probe === 'profile-start' || message?.probe === 'profile-stop') void profile(message);
  if (message?.probe === 'read') {
    if (TRACE_FILE && trace.length > 0) {
      appendFileSync(TRACE_FILE, `${trace.join('\n')}\n== end of phase\n`);
      trace = [];
    }
    process.send?.({ probe: counts });
  }
  if (message?.probe === 'memory') {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const mib = (n: number) => Math.round((n / 1048576) * 10) / 10;
    process.send?.({
      probe: { rss: mib(m.rss), heapTotal: mib(m.heapTotal), heapUsed: mib(m.heapUsed), external: mib(m.external) },
    });
  }
  if (message?.probe === 'reset') {
    resetProbe(message.level ?? 'cheap', message.timeRoutes === true);
    process.send?.({ probe: 'reset' });
  }
});
