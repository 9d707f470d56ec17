/**
 * The parts of each top-level folder import one another one way only (issue #11): no loop between its
 * parts (a part = the first folder under the root, or a file there), type imports included. This is the
 * reader's view of `../shared/tools/import-loops.py`; `dependency-rules.cjs` (run by `make lint`) also fixes
 * the order of the parts of adapters/ and gateway/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import test from 'ava';

const IMPORT = /^\s*(?:import|export)\s+(?:[^'"]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gm;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

/** The part a file belongs to: its first folder under the root, or the file itself. */
const part = (root: string, file: string) => relative(root, file).split(sep)[0]!.replace(/\.ts$/, '');

function edges(root: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const file of files(root)) {
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = resolve(dirname(file), match[1]!);
      if (!target.startsWith(root + sep)) continue;
      const [from, to] = [part(root, file), part(root, target)];
      if (from !== to) out.set(from, (out.get(from) ?? new Set()).add(to));
    }
  }
  return out;
}

/** Every pair of parts that reach each other. */
function loops(graph: Map<string, Set<string>>): string[] {
  const reach = (start: string) => {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length) {
      for (const next of graph.get(stack.pop()!) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
    return seen;
  };
  const found: string[] = [];
  for (const a of graph.keys()) for (const b of reach(a)) if (a < b && reach(b).has(a)) found.push(`${a} ↔ ${b}`);
  return found;
}

for (const folder of ['hsm', 'adapters', 'gateway', 'conformance']) {
  test(`no two parts of ${folder}/ import each other, even through a third`, (t) => {
    const graph = edges(resolve(import.meta.dirname, '../..', folder));
    t.true(graph.size > 3, `${folder}/ has parts that import each other at all`);
    t.deepEqual(loops(graph), []);
  });
}

/** The parts dependency-rules.cjs puts in order: a new part must be placed in it, or it is unconstrained. */
for (const folder of ['adapters', 'gateway']) {
  test(`every part of ${folder}/ has its place in dependency-rules.cjs`, (t) => {
    const rules = createRequire(import.meta.url)('../../dependency-rules.cjs') as {
      forbidden: Array<{ name: string }>;
    };
    const listed = new Set(
      rules.forbidden
        .filter((r) => r.name.startsWith(`${folder}/`))
        .map((r) => r.name.slice(folder.length + 1).replace(/-imports-only-below-it$/, '')),
    );
    const root = resolve(import.meta.dirname, '../..', folder);
    const parts = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() || d.name.endsWith('.ts'))
      .map((d) => d.name.replace(/\.ts$/, ''));
    t.deepEqual(
      parts.filter((p) => !listed.has(p)),
      [],
    );
  });
}
