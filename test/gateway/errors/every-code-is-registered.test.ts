/**
 * The error registry is closed and complete (issue #11 item 5): every code, the gateway's and the adapters',
 * has an HTTP status, an OAuth error or an explicit `null`, an audit outcome, and a French and an English
 * message; and every code raised in the sources is registered, with a status the registry allows.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADAPTER_ERRORS } from '../../../adapters/errors/registry.ts';
import { ERROR_CODES, GATEWAY_ERRORS, errorSpec, type ErrorCode } from '../../../gateway/error-registry.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OAUTH = new Set([
  'access_denied',
  'login_required',
  'interaction_required',
  'temporarily_unavailable',
  'server_error',
  'unmet_authentication_requirements',
]);
const OUTCOMES = new Set(['refused', 'denied', 'error']);

for (const code of ERROR_CODES) {
  test(`registry row of ${code}`, (t) => {
    const spec = errorSpec(code);
    t.true(Number.isInteger(spec.status) && spec.status >= 400 && spec.status <= 599, `status ${spec.status}`);
    for (const other of spec.statuses ?? [])
      t.true(Number.isInteger(other) && other >= 400 && other <= 599 && other !== spec.status, `status ${other}`);
    t.true(spec.oauth === null || OAUTH.has(spec.oauth), `oauth ${String(spec.oauth)}`);
    t.true(OUTCOMES.has(spec.audit), `audit ${spec.audit}`);
    t.true(spec.fr.trim().length > 0 && spec.en.trim().length > 0);
    t.not(spec.fr, spec.en, 'the French message is French');
    t.regex(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });
}

test('gateway and adapter codes are disjoint, and the registry holds every one of both', (t) => {
  const gateway = Object.keys(GATEWAY_ERRORS);
  const adapters = Object.keys(ADAPTER_ERRORS);
  t.deepEqual(
    gateway.filter((c) => adapters.includes(c)),
    [],
  );
  t.deepEqual([...ERROR_CODES].sort(), [...gateway, ...adapters].sort());
});

test('a code that is not registered is an error, never a default row', (t) => {
  t.throws(() => errorSpec('NOT_A_REGISTERED_CODE' as ErrorCode), { instanceOf: TypeError });
});

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** `new XxxError('CODE'`, `new GatewayError('CODE', 415`, `samlError('CODE'`, the WebSocket `refuse(socket, 403, 'Forbidden', 'CODE')`. */
const RAISES = [
  /new (?:Gateway|Adapter|Flow|WebAuthn|Audit|Migration)Error\(\s*'([A-Z0-9_]+)'(?:,\s*(\d{3})\b)?/g,
  /samlError\(\s*'([A-Z0-9_]+)'/g,
  /refuse\(socket,\s*(\d{3}),\s*'[^']*',\s*'([A-Z0-9_]+)'\)/g,
];

test('every code raised in gateway/ and adapters/ is registered, with a status its row allows', (t) => {
  const registered = new Set<string>(ERROR_CODES);
  const problems: string[] = [];
  let seen = 0;
  for (const file of [...sources('gateway'), ...sources('adapters')]) {
    const text = readFileSync(file, 'utf8');
    for (const [i, pattern] of RAISES.entries()) {
      for (const match of text.matchAll(pattern)) {
        const [code, status] = i === 2 ? [match[2]!, match[1]] : [match[1]!, match[2]];
        seen++;
        if (!registered.has(code)) {
          problems.push(`${file}: ${code} is not registered`);
          continue;
        }
        const spec = errorSpec(code as ErrorCode);
        if (status !== undefined && ![spec.status, ...(spec.statuses ?? [])].includes(Number(status)))
          problems.push(
            `${file}: ${code} raised with ${status}, registry allows ${[spec.status, ...(spec.statuses ?? [])].join('/')}`,
          );
      }
    }
  }
  t.true(seen > 150, `only ${seen} raise sites found: the patterns no longer match the sources`);
  t.deepEqual(problems, []);
});
