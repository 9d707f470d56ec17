/**
 * A request Node's HTTP parser refuses before the gateway sees it is answered like every other refusal, with
 * its registered code (issue #15, found by the logout fuzzer: a query string over 16 KiB — a stretched
 * `Signature` of an HTTP-Redirect LogoutRequest, a huge `id_token_hint` — was a bare 431 with no code):
 * 431 REQUEST_TOO_LARGE, a malformed request 400 REQUEST_INVALID, a header timeout 408 REQUEST_TIMEOUT;
 * and the gateway keeps answering.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import test from 'ava';
import { clientErrorAnswer, clientErrorResponse } from '../../../gateway/http/client-error.ts';
import { startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';

const QUERY_OVER_16_KIB = readFileSync(
  new URL('../../fixtures/http/logout-redirect.query-over-16-kib.txt', import.meta.url),
  'utf8',
).trim();

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(async () => {
  await fx?.stop();
});

const codeOf = (html: string) => /<code>([A-Z0-9_]+)<\/code>/.exec(html)?.[1];

async function stillAnswers(): Promise<number> {
  const response = await fetch(`${fx.url}/.well-known/openid-configuration`);
  await response.body?.cancel();
  return response.status;
}

test('a Redirect-binding LogoutRequest whose query is over 16 KiB: 431 REQUEST_TOO_LARGE', async (t) => {
  const response = await fetch(`${fx.url}/saml/slo?${QUERY_OVER_16_KIB}`, { redirect: 'manual' });
  t.is(response.status, 431);
  t.is(response.headers.get('cache-control'), 'no-store');
  t.is(codeOf(await response.text()), 'REQUEST_TOO_LARGE');
  t.is(await stillAnswers(), 200);
});

test('an end-session request with an id_token_hint over 16 KiB: 431 REQUEST_TOO_LARGE', async (t) => {
  const response = await fetch(`${fx.url}/session/end?id_token_hint=${'A'.repeat(20_000)}`, { redirect: 'manual' });
  t.is(response.status, 431);
  t.is(codeOf(await response.text()), 'REQUEST_TOO_LARGE');
});

test('a request line the parser cannot read: 400 REQUEST_INVALID', async (t) => {
  const { port, hostname } = new URL(fx.url);
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () =>
      socket.write('GET /saml/slo\u0001 HTTP/1.1\r\nHost: x\r\n\r\n'),
    );
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
  t.regex(raw, /^HTTP\/1\.1 400 /);
  t.is(codeOf(raw), 'REQUEST_INVALID');
  t.is(await stillAnswers(), 200);
});

test('the parser errors map to registered codes; a peer that left gets nothing', (t) => {
  t.deepEqual(clientErrorAnswer('HPE_HEADER_OVERFLOW'), { status: 431, code: 'REQUEST_TOO_LARGE' });
  t.deepEqual(clientErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT'), { status: 408, code: 'REQUEST_TIMEOUT' });
  t.deepEqual(clientErrorAnswer('HPE_INVALID_METHOD'), { status: 400, code: 'REQUEST_INVALID' });
  t.is(clientErrorAnswer('ECONNRESET'), null);
  const response = clientErrorResponse(408, 'REQUEST_TIMEOUT');
  t.regex(response, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  t.is(codeOf(response), 'REQUEST_TIMEOUT');
  const [head = '', body = ''] = response.split('\r\n\r\n');
  t.regex(head, new RegExp(`Content-Length: ${Buffer.byteLength(body)}\\b`));
});

test('the parser refusal page is never framed, sniffed or referred from, like every other page', (t) => {
  const [head = ''] = clientErrorResponse(431, 'REQUEST_TOO_LARGE').split('\r\n\r\n');
  t.regex(head, /\r\nX-Frame-Options: DENY\r\n/);
  t.regex(head, /\r\nContent-Security-Policy: [^\r]*frame-ancestors 'none'/);
  t.regex(head, /\r\nX-Content-Type-Options: nosniff\r\n/);
  t.regex(head, /\r\nReferrer-Policy: no-referrer\r\n/);
});
