/**
 * `metadata/` (the lifecycle of an IdP's SAML metadata) builds on `saml/`, never the reverse (issue #11).
 * No loop between any parts: test/architecture/parts-import-one-way.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import test from 'ava';

const ROOT = resolve(import.meta.dirname, '../../adapters');
const IMPORT = /^\s*(?:import|export)\s+(?:[^'"]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gm;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
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

test('metadata/ builds on saml/, and saml/ names nothing of metadata/', (t) => {
  const graph = edges();
  t.true(graph.get('metadata')?.has('saml'));
  t.false(graph.get('saml')?.has('metadata') ?? false);
});
