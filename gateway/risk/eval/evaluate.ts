/**
 * `node gateway/risk/eval/evaluate.ts [--users N] [--seed S]` — the honest evaluation of device trust on
 * SYNTHETIC logins (simulator.ts). Protocol after Wiefling et al. (ACM TOPS 2022):
 *
 * 1. all legitimate logins of all people, in one random time order; each is scored against what came
 *    before it (its person's earlier logins and everyone's), then counted;
 * 2. at each of those moments (a person with ≥ 1 earlier login), one attack per attacker model on that
 *    person is scored against the same counts (and not counted): attacks and legitimate logins meet the
 *    same history sizes;
 * 3. for each model and target attack-detection rate (TPR 0.97, 0.99, 0.999), the threshold is the score
 *    that challenges that share of the attacks; the cost is, per person, the share of their legitimate
 *    logins (with ≥ 1 earlier login) at or above it — reported as the median over people, overall and
 *    by history size;
 * 4. two models: Freeman (IP + UA features, Wiefling's weights) and the gateway's (plus the device group:
 *    signed cookie id, languages, time zone, screen).
 * Prints Markdown tables (for RISK-EVAL.md) and the command line.
 */
import { FREEMAN_GROUPS, GATEWAY_GROUPS, freemanRisk, MemoryCounts, type FeatureGroup } from '../freeman.ts';
import { World, type Login } from './simulator.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const USERS = arg('users', 3000);
const SEED = arg('seed', 1);
const TPRS = [0.97, 0.99, 0.999];
const MODELS = ['untargeted', 'targeted', 'very_targeted'] as const;

function pick(x: Login, groups: readonly FeatureGroup[]): Login {
  const names = new Set(groups.flatMap((g) => g.subs.map((s) => s.name)));
  return Object.fromEntries(Object.entries(x).filter(([k]) => names.has(k)));
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Threshold so that a share `tpr` of `attacks` scores at or above it. */
function thresholdFor(attacks: number[], tpr: number): number {
  const s = [...attacks].sort((a, b) => a - b);
  return s[Math.max(0, Math.floor((1 - tpr) * s.length))]!;
}

function run(groups: readonly FeatureGroup[], name: string): string[] {
  const world = new World(SEED);
  const people = Array.from({ length: USERS }, (_, i) => world.person(i));
  const queue: number[] = people.flatMap((p, i) => Array.from({ length: p.logins }, () => i));
  for (let i = queue.length - 1; i > 0; i -= 1) {
    const j = world.int(i + 1);
    [queue[i], queue[j]] = [queue[j]!, queue[i]!];
  }
  const global = new MemoryCounts();
  const mine = people.map(() => new MemoryCounts());
  let users = 0;
  const legit: Array<Array<{ history: number; risk: number }>> = people.map(() => []);
  const attacks: Record<(typeof MODELS)[number], number[]> = { untargeted: [], targeted: [], very_targeted: [] };
  for (const i of queue) {
    const x = pick(world.legit(people[i]!), groups);
    if (mine[i]!.total > 0) {
      legit[i]!.push({ history: mine[i]!.total, risk: freemanRisk(x, mine[i]!, global, users, groups) });
      for (const model of MODELS)
        attacks[model].push(
          freemanRisk(pick(world.attack(people[i]!, model), groups), mine[i]!, global, users, groups),
        );
    }
    if (mine[i]!.total === 0) users += 1;
    mine[i]!.add(x);
    global.add(x);
  }
  const lines: string[] = [
    `### ${name}`,
    '',
    '| attacker | TPR | median re-auth, all | history 1–5 | history 6–20 | history 21–40 | people |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const model of MODELS) {
    for (const tpr of TPRS) {
      const tau = thresholdFor(attacks[model], tpr);
      const rate = (filter: (h: number) => boolean) =>
        median(
          legit
            .map((ls) => ls.filter((l) => filter(l.history)))
            .filter((ls) => ls.length > 0)
            .map((ls) => ls.filter((l) => l.risk >= tau).length / ls.length),
        );
      const counted = legit.filter((ls) => ls.length > 0).length;
      const f = (v: number) => (Number.isNaN(v) ? '—' : v.toFixed(3));
      lines.push(
        `| ${model} | ${tpr} | ${f(rate(() => true))} | ${f(rate((h) => h <= 5))} | ${f(rate((h) => h > 5 && h <= 20))} | ${f(rate((h) => h > 20))} | ${counted} |`,
      );
    }
  }
  return lines;
}

const started = performance.now();
const out = [
  `Command: \`node gateway/risk/eval/evaluate.ts --users ${USERS} --seed ${SEED}\` (synthetic data; ${((performance.now() - started) / 1000).toFixed(0)} s)`,
  '',
  ...run(FREEMAN_GROUPS, 'Freeman (IP + user agent), Wiefling weights'),
  '',
  ...run(
    GATEWAY_GROUPS,
    'Gateway device trust (IP + user agent + device: signed cookie, languages, time zone, screen)',
  ),
];
console.log(out.join('\n'));
