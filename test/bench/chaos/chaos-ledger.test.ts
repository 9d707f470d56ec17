/**
 * The chaos run's own reading of what it saw: the code and reference of a gateway error page (a 503 page
 * shows INTERNAL and a request id), and the codes of the gateway's log lines (ours, not a socket's).
 */
import { mkdtempSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { codeOfRequest, codesLogged, linesSince, logOffsets } from './gateway-logs.ts';
import { errorOf, referenceOf } from './ledger.ts';

const REFERENCE = '6485ed17-8b4c-4260-b8b5-bc8374df9d06';
const page = (code: string) =>
  `<!doctype html><html lang="fr"><body><h1>La connexion n’a pas pu continuer</h1><p>…</p>
<p>Code d’erreur / Error code: <code>${code}</code> — référence <code>${REFERENCE}</code>.</p></body></html>`;

test('a gateway error page: its code and the request id it gives as reference', (t) => {
  t.is(errorOf(page('INTERNAL')), 'INTERNAL');
  t.is(referenceOf(page('INTERNAL')), REFERENCE);
  t.is(errorOf('temporarily_unavailable'), 'temporarily_unavailable', "an RP's error parameter");
  const oidcProviderPage = `<h1>Sign-in could not continue</h1>
<p>The request was refused. Error code: <code>server_error</code>.</p>
<p>If you contact support, give this reference: <code id="reference">${REFERENCE}</code>.</p>`;
  t.is(errorOf(oidcProviderPage), 'server_error');
  t.is(referenceOf(oidcProviderPage), REFERENCE, "oidc-provider's error page");
  t.is(referenceOf('<html>502 Bad Gateway</html>'), undefined);
});

test('log lines: our codes at warn and above since an offset, and the code behind a reference', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-chaos-logs-'));
  const file = join(dir, 'gateway-1.log');
  writeFileSync(file, `${JSON.stringify({ level: 50, code: 'FLOW_STORE_UNAVAILABLE' })}\n`);
  const offsets = logOffsets(dir);
  appendFileSync(
    file,
    [
      { level: 50, requestId: REFERENCE, code: 'HSM_BUSY', err: { code: 'HSM_BUSY' } },
      { level: 40, err: { code: 'HSM_RECORDS_FAILED' } },
      { level: 50, err: { code: 'ECONNREFUSED' } },
      { level: 30, code: 'RISK_PIPELINE_SLOW' },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n') + '\n{"level":50,"code":"CUT_BY_A_KI',
  );
  const lines = linesSince(dir, offsets);
  t.deepEqual(codesLogged(lines), { HSM_BUSY: 1, HSM_RECORDS_FAILED: 1 });
  t.is(codeOfRequest(lines, REFERENCE), 'HSM_BUSY');
  t.is(codeOfRequest(lines, 'another'), undefined);
});
