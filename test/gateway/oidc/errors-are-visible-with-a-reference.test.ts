/**
 * OIDC errors nobody could see (issue #13 item 2):
 * - the error page shows a reference — the request id, the same as `X-Request-Id` and in the log line;
 * - when the RP is known, the page links back to its site (a registered URI's origin), never to a URI
 *   taken from the request alone; when the RP is unknown, no link;
 * - oidc-provider's own notices reach the JSON log through pino, not the console as plain text.
 */
import { Writable } from 'node:stream';
import test from 'ava';
import * as oidc from 'openid-client';
import { pino } from 'pino';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

const lines: Array<Record<string, unknown>> = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n'))
      if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});
const consoleLines: string[] = [];
const consoleInfo = console.info;
console.info = (...args: unknown[]) => {
  consoleLines.push(args.map(String).join(' '));
};

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture({ boot: { logger: pino({ level: 'info' }, sink) } });
});
test.after.always(async () => {
  console.info = consoleInfo;
  await fx?.stop();
});

const HTML = { accept: 'text/html' };

test('an unknown client gets a page with the reference of its request and no link', async (t) => {
  const response = await fetch(
    `${fx.url}/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fevil.example%2F`,
    { headers: HTML },
  );
  const html = await response.text();
  const reference = response.headers.get('x-request-id');
  t.truthy(reference);
  t.true(html.includes(`<code id="reference">${reference}</code>`), html);
  t.false(html.includes('evil.example'));
  t.false(html.includes('<a '));
  const logged = lines.find((l) => l.msg === 'oidc error' && l.requestId === reference);
  t.is(logged?.error, 'invalid_client');
});

test('a known client with an unregistered redirect_uri gets a link to its registered site, not to the URI sent', async (t) => {
  const response = await fetch(
    `${fx.url}/auth?client_id=demo-rp&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fevil.example%2Fcb`,
    { headers: HTML },
  );
  const html = await response.text();
  t.is(response.status, 400);
  t.true(html.includes(`href="${new URL(RP_REDIRECT).origin}/"`), html);
  t.false(html.includes('evil.example'));
  t.true(html.includes(`<code id="reference">${response.headers.get('x-request-id')}</code>`));
});

test('oidc-provider notices go to the JSON log, not to the console', async (t) => {
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  const tokens = await oidc.authorizationCodeGrant(fx.rp, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  // oidc-provider prints a notice (once per process), here that a request's body was read before it reached it
  await oidc.tokenRevocation(fx.rp, tokens.access_token);
  const notice = lines.find((l) => l.library === 'oidc-provider' && typeof l.notice === 'string');
  t.truthy(notice, JSON.stringify(lines.filter((l) => l.library)));
  t.deepEqual(
    consoleLines.filter((l) => l.includes('oidc-provider')),
    [],
  );
});
