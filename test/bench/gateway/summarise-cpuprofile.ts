/**
 * Summarises V8 CPU profiles (`node --cpu-prof`) by self time: per group (an npm package, one of our
 * folders, Node's own code, GC), per file and per function, as a share of all non-idle samples.
 *
 *   node test/bench/gateway/summarise-cpuprofile.ts <file.cpuprofile | folder> [top=15]
 *
 * Self time of a node = the sum of the timeDeltas of the samples that landed on it. Groups:
 * `node_modules/<pkg>` (scoped packages keep their scope), our code by folder (`gateway/oidc`,
 * `adapters/saml/verify`, `hsm`…), `node:*` internals, and V8's `(garbage collector)` / `(program)`.
 * Samples in `node:inspector` (the benchmark's own start/stop of the profiler) are left out.
 *
 * A phase timed by route (concurrency 1) has its requests' windows beside its profile (`<file>.routes.json`,
 * gateway-probe.ts): the samples are then also cut by route, with each route's groups and functions per request.
 *
 * A second grouping, "by caller", charges native frames and Node's internals to the first caller up the
 * stack that is neither (a socket write made by ioredis counts for ioredis, one made by pg for pg), so the
 * cost of a system call shows where it is decided.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime?: number;
}

/** A timed request: its route, arrival and end of response (µs, the profiler's clock): gateway-probe.ts. */
export type RouteWindow = [route: string, from: number, to: number];

/**
 * The profile cut by route: for each route, the samples taken while one of its requests ran (from arrival to the
 * end of the response; requests must not overlap, as at concurrency 1), and how many requests it had.
 */
export function byRoute(profile: Profile, windows: RouteWindow[]): Map<string, { requests: number; profile: Profile }> {
  const sorted = [...windows].sort((a, b) => a[1] - b[1]);
  const cut = new Map<string, { requests: number; profile: Profile }>();
  for (const [route] of sorted) {
    const entry = cut.get(route) ?? { requests: 0, profile: { nodes: profile.nodes, samples: [], timeDeltas: [] } };
    entry.requests += 1;
    cut.set(route, entry);
  }
  let at = profile.startTime ?? 0;
  let w = 0;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    while (w < sorted.length && sorted[w]![2] < at) w += 1;
    const window = sorted[w];
    if (window === undefined || window[1] > at) return;
    const entry = cut.get(window[0])!;
    entry.profile.samples.push(id);
    entry.profile.timeDeltas.push(profile.timeDeltas[i] ?? 0);
  });
  return cut;
}

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/** The group a source URL belongs to. */
export function groupOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const parts = path.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const rel = relative(ROOT, realPathish(path));
  if (rel.startsWith('..')) return path;
  const parts = rel.split('/');
  const depth = parts[0] === 'gateway' || parts[0] === 'adapters' || parts[0] === 'test' ? 2 : 1;
  return `${parts.slice(0, Math.min(depth, parts.length - 1)).join('/')}/`;
}

/** Worktrees share main's node_modules: a path outside the repository may still be ours by name. */
function realPathish(path: string): string {
  const at = path.search(/\/(gateway|adapters|hsm|conformance|test|certs)\//);
  return at === -1 ? path : join(ROOT, path.slice(at + 1));
}

export function fileOf(url: string): string {
  if (url === '') return '(none)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf('/node_modules/');
  return modules !== -1 ? path.slice(modules + 1) : relative(ROOT, realPathish(path));
}

function isInternal(group: string): boolean {
  return group === '(native)' || group === 'node: internals';
}

export function summarise(profiles: Profile[]): {
  totalMs: number;
  idleMs: number;
  groups: Map<string, number>;
  byCaller: Map<string, number>;
  files: Map<string, number>;
  functions: Map<string, number>;
} {
  const groups = new Map<string, number>();
  const byCaller = new Map<string, number>();
  const files = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const callerGroup = (id: number): string => {
      const own = byId.get(id)!.callFrame;
      const first = groupOf(own.url, own.functionName);
      if (!isInternal(first)) return first;
      for (let up = parent.get(id); up !== undefined; up = parent.get(up)) {
        const frame = byId.get(up)!.callFrame;
        const group = groupOf(frame.url, frame.functionName);
        if (frame.functionName === '(root)') break;
        if (!isInternal(group)) return group;
      }
      return first;
    };
    profile.samples.forEach((id, i) => {
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
      if (url === 'node:inspector') return;
      if (functionName === '(idle)') {
        idleMs += ms;
        return;
      }
      totalMs += ms;
      add(groups, groupOf(url, functionName), ms);
      add(byCaller, callerGroup(id), ms);
      add(files, fileOf(url), ms);
      add(functions, `${functionName || '(anonymous)'} ${fileOf(url)}:${lineNumber + 1}`, ms);
    });
  }
  return { totalMs, idleMs, groups, byCaller, files, functions };
}

function top(map: Map<string, number>, n: number, total: number): string[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, ms]) => `| ${k.replaceAll('|', '\\|')} | ${ms.toFixed(0)} | ${((100 * ms) / total).toFixed(1)} % |`);
}

if (import.meta.main) {
  const [target, n = '15'] = process.argv.slice(2);
  if (!target) {
    console.error('usage: node test/bench/gateway/summarise-cpuprofile.ts <file.cpuprofile | folder> [top=15]');
    process.exit(2);
  }
  const files = statSync(target).isDirectory()
    ? readdirSync(target)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(target, f))
    : [target];
  const s = summarise(files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Profile));
  console.log(
    `${files.length} profile(s): ${s.totalMs.toFixed(0)} ms on CPU (self time), ${s.idleMs.toFixed(0)} ms idle\n`,
  );
  for (const [title, map] of [
    ['group', s.groups],
    ['group, native and node: internals charged to their caller', s.byCaller],
    ['file', s.files],
    ['function', s.functions],
  ] as const) {
    console.log(`| ${title} | self ms | share |\n|---|---|---|`);
    console.log(`${top(map, Number(n), s.totalMs).join('\n')}\n`);
  }
  // a phase timed by route (concurrency 1) has its requests' windows beside its profile
  for (const file of files.filter((f) => existsSync(`${f}.routes.json`))) {
    const windows = JSON.parse(readFileSync(`${file}.routes.json`, 'utf8')) as RouteWindow[];
    const routes = byRoute(JSON.parse(readFileSync(file, 'utf8')) as Profile, windows);
    console.log(`## ${file}, by route (samples taken from a request's arrival to the end of its response)\n`);
    const ranked = [...routes].map(([route, r]) => ({ route, ...r, s: summarise([r.profile]) }));
    for (const { route, requests, s: r } of ranked.sort((a, b) => b.s.totalMs - a.s.totalMs)) {
      console.log(
        `### ${route}: ${requests} requests, ${(r.totalMs / requests).toFixed(2)} ms of samples per request\n`,
      );
      console.log('| group (native charged to its caller) | ms per request | share |\n|---|---|---|');
      console.log(`${perRequest(r.byCaller, Math.min(Number(n), 12), r.totalMs, requests).join('\n')}\n`);
      console.log('| function | ms per request | share |\n|---|---|---|');
      console.log(`${perRequest(r.functions, Math.min(Number(n), 12), r.totalMs, requests).join('\n')}\n`);
    }
  }
}

function perRequest(map: Map<string, number>, n: number, total: number, requests: number): string[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([k, ms]) =>
        `| ${k.replaceAll('|', '\\|')} | ${(ms / requests).toFixed(3)} | ${((100 * ms) / total).toFixed(1)} % |`,
    );
}
