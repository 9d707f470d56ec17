/**
 * The parts of `adapters/` import one another one way only (issue #11): no loop between folders, type
 * imports included. In particular `metadata/` (the lifecycle) builds on `saml/`, never the reverse.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import test from 'ava';

const ROOT = resolve(import.meta.dirname, '../../adapters');
const IMPORT = /^\s*(?:import|export)\s+(?:[^'"]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gm;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
}

/** The part a file belongs to: its first folder under adapters/, or the file itself. */
const part = (file: string) => relative(ROOT, file).split(sep)[0]!.replace(/\.ts$/, '');

function edges(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const file of files(ROOT)) {
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = resolve(dirname(file), match[1]!);
      if (!target.startsWith(ROOT + sep)) continue;
      const [from, to] = [part(file), part(target)];
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

test('no two parts of adapters/ import each other, even through a third', (t) => {
  t.deepEqual(loops(edges()), []);
});

test('metadata/ builds on saml/, and saml/ names nothing of metadata/', (t) => {
  const graph = edges();
  t.true(graph.get('metadata')?.has('saml'));
  t.false(graph.get('saml')?.has('metadata') ?? false);
});
