/**
 * Small records instead of the hub (issue #11 item 3): the WebAuthn pages, the RP-facing APIs and the
 * operations listener receive the few collaborators they use (records built in gateway/boot.ts), never the
 * `Services` record of gateway/services.ts. `dependency-rules.cjs` holds the same rule
 * (`gateway/handlers-take-small-records`) for `make lint`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVICES = resolve(ROOT, 'gateway/services.ts');
const IMPORT = /^\s*(?:import|export)\s+(?:[^'"]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gm;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

for (const part of ['webauthn', 'api', 'admin']) {
  test(`gateway/${part}/ takes small records, not the services hub`, (t) => {
    const sources = files(join(ROOT, 'gateway', part));
    t.true(sources.length > 1, `no sources in gateway/${part}/`);
    const offenders = sources.filter((file) =>
      [...readFileSync(file, 'utf8').matchAll(IMPORT)].some((m) => resolve(dirname(file), m[1]!) === SERVICES),
    );
    t.deepEqual(
      offenders.map((file) => relative(ROOT, file)),
      [],
    );
  });
}
