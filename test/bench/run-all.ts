/**
 * `make bench`: runs every `test/bench/**\/*.bench.ts` under the test harness (real PostgreSQL, Redis,
 * SoftHSM2 on loopback), one after the other, and prints each one's figures with the command that
 * produced them. Copy the figures you mean to keep into BENCHMARKS.md.
 *
 * `node test/bench/run-all.ts [part-of-a-path]` runs only the matching benches. BENCH_QUICK=1 makes the
 * gateway-only bench (test/bench/gateway/) short: 40 logins per round instead of 200.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const only = process.argv[2];

function find(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.bench.ts') ? [path] : [];
  });
}

const benches = find(join(root, 'test', 'bench'))
  // matched on the path from the repository root (a checkout's own path may hold any word: /work/w6-chaos/)
  .filter((f) => !only || relative(root, f).includes(only))
  .sort();
let failed = 0;
for (const file of benches) {
  const rel = relative(root, file);
  console.log(`\n== ${rel}\n$ node test/harness/with-stack.ts -- node ${rel}`);
  const result = spawnSync(process.execPath, ['test/harness/with-stack.ts', '--', process.execPath, rel], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) failed += 1;
}
console.log(`\n${benches.length - failed} benchmarks ran, ${failed} failed`);
process.exit(failed ? 1 : 0);
