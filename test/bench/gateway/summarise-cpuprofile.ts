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
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
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

function fileOf(url: string): string {
  if (url === '') return '(none)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf('/node_modules/');
  return modules !== -1 ? path.slice(modules + 1) : relative(ROOT, realPathish(path));
}

export function summarise(profiles: Profile[]): { totalMs: number; idleMs: number; groups: Map<string, number>; files: Map<string, number>; functions: Map<string, number> } {
  const groups = new Map<string, number>();
  const files = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
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
      add(files, fileOf(url), ms);
      add(functions, `${functionName || '(anonymous)'} ${fileOf(url)}:${lineNumber + 1}`, ms);
    });
  }
  return { totalMs, idleMs, groups, files, functions };
}

function top(map: Map<string, number>, n: number, total: number): string[] {
  return [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, ms]) => `| ${k.replaceAll('|', '\\|')} | ${ms.toFixed(0)} | ${((100 * ms) / total).toFixed(1)} % |`);
}

if (import.meta.main) {
  const [target, n = '15'] = process.argv.slice(2);
  if (!target) {
    console.error('usage: node test/bench/gateway/summarise-cpuprofile.ts <file.cpuprofile | folder> [top=15]');
    process.exit(2);
  }
  const files = statSync(target).isDirectory() ? readdirSync(target).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(target, f)) : [target];
  const s = summarise(files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Profile));
  console.log(`${files.length} profile(s): ${s.totalMs.toFixed(0)} ms on CPU (self time), ${s.idleMs.toFixed(0)} ms idle\n`);
  for (const [title, map] of [['group', s.groups], ['file', s.files], ['function', s.functions]] as const) {
    console.log(`| ${title} | self ms | share |\n|---|---|---|`);
    console.log(`${top(map, Number(n), s.totalMs).join('\n')}\n`);
  }
}
