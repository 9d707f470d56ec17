/**
 * Stage 4 — cross-session correlation (budget 300 ms): sliding windows in Redis, one command (a Lua script).
 *
 * | window                                   | length | suspicious from | what it catches            |
 * |------------------------------------------|--------|-----------------|----------------------------|
 * | distinct identities per device           | 1 h    | 4               | credential stuffing        |
 * | distinct identities per network prefix   | 10 min | 20              | stuffing from one network  |
 * | distinct devices per identity            | 24 h   | 5               | account takeover           |
 * | distinct networks per identity           | 1 h    | 4               | account takeover           |
 * | speed since the identity's last login    | —      | 1,000 km/h      | impossible travel          |
 * | identities per IdP this minute vs. before | 1 min | 10× and ≥ 100   | bursts per IdP             |
 *
 * The identity's last location is the place of its last login the policy let through (`rememberPlace`, called
 * when the assessment is recorded with an `allow`): an attempt refused, flagged or stepped up never moves it, so an
 * attacker's first attempt from far away does not make their retry look local.
 *
 * Windows are sorted sets (member = the distinct thing, score = last time seen). Degraded mode (late or
 * failing): the signals are queued in PostgreSQL for asynchronous reprocessing (`reprocess.ts`); a late
 * suspicious verdict can still revoke the session.
 */
import type { Redis } from 'ioredis';
import { beginWork, takeBegun, type RiskStage, type StageContext, type StageOutput } from './pipeline.ts';
import type { ReprocessQueue } from './reprocess.ts';
import { BASELINE_MINUTES, CORRELATE } from './correlation-script.ts';
import { prefixOf } from './network.ts';
import { LuaScript } from '../store/lua-script.ts';
import type { RiskSignals } from './types.ts';

const HOUR = 3_600_000;

/** Where a login was, when its network is located. */
export interface Place {
  lat: number;
  lon: number;
  /** When (epoch ms). */
  at: number;
  /** The login it is the place of. */
  loginId?: string;
}

const placeKey = (accountId: string) => `corr:{corr}:acct:${accountId}:loc`;

/** The place of a login, or undefined when its network has no location. */
export function placeOf(signals: RiskSignals): Place | undefined {
  const where = signals.network;
  return where?.lat != null && where.lon != null
    ? { lat: where.lat, lon: where.lon, at: signals.at ?? Date.now(), loginId: signals.loginId }
    : undefined;
}

/** The places of an identity's logins let through that are kept, newest first. */
const PLACES_KEPT = 8;

/**
 * The identity's places, newest first: the new one put first, unless it is there already (the same login
 * remembered twice moves nothing), {@link PLACES_KEPT} kept. A value of an earlier version (one place) reads as a
 * list of one.
 */
const REMEMBER = new LuaScript(`
local place = cjson.decode(ARGV[1])
local old = redis.call('GET', KEYS[1])
local places = {}
if old then
  local kept = cjson.decode(old)
  if kept[1] == nil then kept = {kept} end
  for _, p in ipairs(kept) do
    if place.loginId ~= nil and p.loginId == place.loginId then return 0 end
    if #places < ${PLACES_KEPT} - 1 then table.insert(places, p) end
  end
end
table.insert(places, 1, place)
redis.call('SET', KEYS[1], cjson.encode(places), 'PX', ARGV[2])
return 1
`);

/**
 * Where the identity was before `loginId` (made at `at`): the place of the login let through just before it when it
 * is among the kept ones (its late verdict: its correlation was queued, and it, and maybe others since, were let
 * through before it ran), else the newest place from before `at` (a login assessed now: the newest).
 */
function placeBefore(kept: string | null, loginId: string, at: number): Place | null {
  if (!kept) return null;
  const parsed = JSON.parse(kept) as Place | Place[];
  const places = Array.isArray(parsed) ? parsed : [parsed];
  const own = places.findIndex((p) => p.loginId === loginId);
  if (own >= 0) return places[own + 1] ?? null;
  // not among them (a login assessed now; or a late one pushed out by eight since): the newest before its time
  // (a minute's leeway: another instance's clock may run a little ahead of this one's)
  return places.find((p) => p.at <= at + 60_000) ?? null;
}

/**
 * Records the place of an identity's login the policy let through: the next login's impossible-travel check
 * measures from it (kept 24 h). The places before it are kept too (8): a login's late verdict (its correlation
 * queued, reprocessed once it was let through, maybe after others) measures from the place before that login,
 * not from itself nor from a later one.
 *
 * @example
 * if (decision.kind === 'allow') await rememberPlace(redis, signals.accountId, placeOf(signals)!);
 */
export async function rememberPlace(redis: Redis, accountId: string, place: Place): Promise<void> {
  await REMEMBER.run(redis, [placeKey(accountId)], [JSON.stringify(place), 24 * HOUR]);
}

/** The weight of a correlation that a legitimate person commonly shows (see `assess`). */
const WEAK = 0.25;

export interface CorrelationThresholds {
  identitiesPerDevice: number;
  identitiesPerNetwork: number;
  devicesPerIdentity: number;
  networksPerIdentity: number;
  travelKmh: number;
  burstFactor: number;
  burstMin: number;
}

export const DEFAULT_CORRELATION: CorrelationThresholds = {
  identitiesPerDevice: 4,
  identitiesPerNetwork: 20,
  devicesPerIdentity: 5,
  networksPerIdentity: 4,
  travelKmh: 1_000,
  burstFactor: 10,
  burstMin: 100,
};

/** Great-circle distance in km. */
export function haversineKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

export class CorrelationStage implements RiskStage {
  readonly name = 'correlation';
  readonly budgetMs: number;
  readonly #redis: Redis;
  readonly #queue: ReprocessQueue | undefined;
  readonly #t: CorrelationThresholds;

  constructor(
    redis: Redis,
    options: { queue?: ReprocessQueue; thresholds?: Partial<CorrelationThresholds>; budgetMs?: number } = {},
  ) {
    this.#redis = redis;
    this.#queue = options.queue;
    this.#t = { ...DEFAULT_CORRELATION, ...options.thresholds };
    this.budgetMs = options.budgetMs ?? 300;
  }

  /**
   * The windows need only the signals: begun with the assessment (pipeline.ts), in the round trip of the
   * other stages' reads. They count the login then, before the earlier stages have answered: the same count
   * as when this stage ran last, since every stage runs whatever the others answer — except an assessment
   * that fails on the way (the audit log refusing an earlier stage's failure), whose login is now counted too.
   */
  begin(signals: RiskSignals, context: StageContext): void {
    beginWork(context, this.name, () => this.evaluate(signals));
  }

  async run(signals: RiskSignals, context?: StageContext): Promise<StageOutput> {
    return takeBegun<StageOutput>(context, this.name) ?? this.evaluate(signals);
  }

  /** The windows' verdict (also what the asynchronous reprocessing runs). */
  async evaluate(signals: RiskSignals): Promise<StageOutput> {
    const now = signals.at ?? Date.now();
    const device = signals.deviceId ?? 'none';
    const prefix = signals.network?.prefix ?? prefixOf(signals.ip);
    const minute = Math.floor(now / 60_000);
    // one script over all these keys (correlation-script.ts): they share the hash tag {corr} (one Redis Cluster slot)
    const windows: Array<[string, string, number]> = [
      [`corr:{corr}:dev:${device}`, signals.accountId, HOUR],
      [`corr:{corr}:net:${prefix}`, signals.accountId, HOUR / 6],
      [`corr:{corr}:acct:${signals.accountId}:dev`, device, 24 * HOUR],
      [`corr:{corr}:acct:${signals.accountId}:net`, prefix, HOUR],
    ];
    const here = placeOf(signals) ?? null;
    // distinct identities (HyperLogLog), a name of their own: the counters of before (`idp:`) were strings
    const bucket = (k: number) => `corr:{corr}:idpa:${signals.idp}:${k}`;
    const keys = [
      ...windows.map(([key]) => key),
      placeKey(signals.accountId),
      bucket(minute),
      ...Array.from({ length: BASELINE_MINUTES }, (_, i) => bucket(minute - 1 - i)),
    ];
    const args = [
      now,
      ...windows.flatMap(([, member, length]) => [member, now - length, length]),
      15 * 60_000,
      signals.accountId,
    ];
    const answer = (await CORRELATE.run(this.#redis, keys, args)) as [
      number,
      number,
      number,
      number,
      string | null,
      number,
      number[],
    ];
    const [perDevice, perNetwork, devices, networks, last, count] = answer;
    const previous = answer[6].map(Number);

    const factors: string[] = [];
    const warnings: string[] = [];
    let keep = 1;
    const add = (score: number, factor: string) => {
      factors.push(factor);
      keep *= 1 - score;
    };
    const t = this.#t;
    if (signals.deviceId && perDevice >= t.identitiesPerDevice)
      add(perDevice >= 2 * t.identitiesPerDevice ? 0.9 : 0.6, 'correlation:identities_per_device');
    // weak on their own (issue #13 item 10): a shared network is a carrier's CGNAT, an office, a family; a
    // person's fifth new device in a day is a new phone, a library, a relative's laptop. Each stays under the
    // step-up threshold alone (0.25 < 0.5); two of them together, or with another signal, reach it.
    if (perNetwork >= t.identitiesPerNetwork) add(WEAK, 'correlation:identities_per_network');
    if (devices >= t.devicesPerIdentity) add(WEAK, 'correlation:devices_per_identity');
    if (networks >= t.networksPerIdentity) add(WEAK, 'correlation:networks_per_identity');
    // reprocessed after the login was let through: the last place is its own, and the one before it is what counts
    const before = placeBefore(last, signals.loginId, now);
    if (before && here) {
      const hours = Math.max((now - before.at) / HOUR, 1 / 60);
      if (haversineKm(before, here) / hours > t.travelKmh) add(0.7, 'correlation:impossible_travel');
    }
    const baseline = previous.reduce((a, b) => a + b, 0) / previous.length;
    if (count >= t.burstMin && count > t.burstFactor * Math.max(baseline, 1)) {
      add(0.2, 'correlation:idp_burst');
      warnings.push('IDP_BURST');
    }
    return { score: 1 - keep, factors, warnings };
  }

  async degrade(signals: RiskSignals): Promise<StageOutput> {
    if (!this.#queue) throw new Error('no reprocessing queue');
    await this.#queue.enqueue(signals);
    return { score: 0, factors: ['correlation:queued'], outcome: 'queued', fallback: 'async_reprocess' };
  }
}
