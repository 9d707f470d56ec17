/**
 * gateway/README.md agrees with the tree (issue #11 item 8): its table of parts names every folder and
 * top-level file of gateway/, nothing else, bottom first in the order `dependency-rules.cjs` enforces.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const rules = createRequire(import.meta.url)(`${ROOT}dependency-rules.cjs`) as { forbidden: Array<{ name: string }> };

// the table of parts: from its `| path | what |` header to the first line that is not a table row
const readme = readFileSync(`${ROOT}gateway/README.md`, 'utf8');
const partsTable = readme.slice(readme.indexOf('| path | what |')).split(/\n(?!\|)/)[0]!;
const readmeParts = [...partsTable.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!.replace(/\/$|\.ts$/, ''));
const ruleParts = rules.forbidden
  .map((r) => /^gateway\/(.+)-imports-only-below-it$/.exec(r.name)?.[1])
  .filter((p): p is string => p !== undefined);
// a part is a file, a folder, or both (`boot.ts` and the `boot/` it draws on: one part for the dependency rules)
const treeParts = [
  ...new Set(
    readdirSync(`${ROOT}gateway`, { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.name.endsWith('.ts'))
      .map((e) => e.name.replace(/\.ts$/, '')),
  ),
];

test('the README table lists the parts in the order the dependency rules enforce', (t) => {
  t.deepEqual(readmeParts, ruleParts);
});

test('the README table lists every part of the tree and nothing else', (t) => {
  t.deepEqual([...readmeParts].sort(), [...treeParts].sort());
});
