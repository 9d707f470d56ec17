/**
 * The behavioural side channel over a WebSocket (RFC 6455 on the gateway's own http server):
 * - a real WebSocket client (Node's global, undici) holding the interaction sends its vector: it is
 *   acknowledged, stored with channel `websocket`, and stage 1 reads it when the login completes;
 * - refused: a foreign Origin (403 ORIGIN_REFUSED), an unknown interaction or another browser's
 *   (403 INTERACTION_INVALID), a finished one, an oversize message (close 1009), an invalid vector
 *   (close 1007 SIGNALS_INVALID); nothing is stored then;
 * - a headless Chromium running the page's script delivers the vector over the WebSocket.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { attachUpgrade } from '../../gateway/interaction/signals-websocket.ts';
import { SocketCaps } from '../../gateway/interaction/signals-socket-caps.ts';
import type { Browser as Chromium } from 'playwright-core';
import { Browser, formsIn } from '../helpers/browser.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { eventually } from '../helpers/eventually.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';

let fx: GatewayFixture;
let chromium: Chromium | undefined;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(async () => {
  await chromium?.close();
  await fx?.stop();
});
const atRp = (u: URL) => u.toString().startsWith(RP_REDIRECT);
const VECTOR = {
  pointer: { n: 40, path: 700, straightness: 0.6, speed: 0.5, speedSd: 0.2, pauses: 1 },
  keys: { n: 0, interval: 0, intervalSd: 0, hold: 0 },
  orientation: { n: 0, betaSd: 0, gammaSd: 0 },
  dwell: 3000,
  timerMs: 0.1,
  timeZone: 'Europe/Paris',
  screen: '1920x1080',
  platform: 'Linux x86_64',
};

async function atChooser() {
  const request = await authorizationRequest(fx.rp);
  const browser = new Browser();
  const chooser = await browser.follow(request.url, {}, atRp);
  const html = await chooser.response.text();
  return { browser, chooser, html, loginId: chooser.url.pathname.split('/')[2]! };
}

/** Opens a socket, sends `message` once open; resolves with what the server answered and how it closed. */
function exchange(loginId: string, headers: Record<string, string>, message: string) {
  const ws = new WebSocket(`${fx.url.replace('http', 'ws')}/interaction/${loginId}/signals/ws`, { headers } as never);
  const received: string[] = [];
  return new Promise<{ opened: boolean; received: string[]; code: number; reason: string }>((resolve) => {
    let opened = false;
    ws.onopen = () => {
      opened = true;
      ws.send(message);
    };
    ws.onmessage = (event) => received.push(String(event.data));
    ws.onclose = (event) => resolve({ opened, received, code: event.code, reason: event.reason });
  });
}

/** A handshake by hand, to read the HTTP answer of a refusal. */
function rawHandshake(path: string, headers: Record<string, string>): Promise<string> {
  const { hostname, port } = new URL(fx.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      const lines = [
        `GET ${path} HTTP/1.1`,
        `host: ${hostname}:${port}`,
        'upgrade: websocket',
        'connection: Upgrade',
        `sec-websocket-key: ${randomBytes(16).toString('base64')}`,
        'sec-websocket-version: 13',
      ];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('utf8')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

test.serial('a WebSocket client holding the interaction delivers the vector and stage 1 reads it', async (t) => {
  const { browser, chooser, html, loginId } = await atChooser();
  const headers = { cookie: browser.cookieHeader(chooser.url), origin: new URL(fx.url).origin };
  const result = await exchange(loginId, headers, JSON.stringify(VECTOR));
  t.true(result.opened);
  t.deepEqual(result.received, ['{"stored":true}']);
  t.is(result.code, 1000);
  t.deepEqual(await fx.gateway.services.fraud.behaviour.load(loginId), VECTOR);
  t.is(await fx.gateway.services.fraud.behaviour.channel(loginId), 'websocket');

  let step = await browser.submit(
    formsIn(html).find((f) => f.action.endsWith('/idp'))!,
    chooser.url,
    { idp: 'demo-idp' },
    atRp,
  );
  let page = await step.response.text();
  step = await browser.submit(formsIn(page)[0]!, step.url, {}, atRp);
  page = await step.response.text();
  step = await browser.submit(formsIn(page)[0]!, step.url, { username: 'jean', password: 'jean-demo' }, atRp);
  page = await step.response.text();
  step = await browser.submit(formsIn(page)[0]!, step.url, {}, atRp);
  t.true(atRp(step.url));
  const { rows } = await fx.gateway.services.pool.query('select assessment from risk_assessments where login_id = $1', [
    loginId,
  ]);
  t.like(rows[0].assessment.stages[0], { name: 'behaviour', outcome: 'ok', degraded: false });

  const after = await rawHandshake(`/interaction/${loginId}/signals/ws`, headers);
  t.regex(after, /^HTTP\/1\.1 403 .*"error":"INTERACTION_INVALID"/s, 'a finished sign-in takes no more signals');
});

test.serial(
  'a foreign origin, an unknown or foreign interaction and a bad path are refused at the handshake',
  async (t) => {
    const { browser, chooser, loginId } = await atChooser();
    const cookie = browser.cookieHeader(chooser.url);
    const origin = new URL(fx.url).origin;
    t.regex(
      await rawHandshake(`/interaction/${loginId}/signals/ws`, { cookie, origin: 'https://evil.example' }),
      /^HTTP\/1\.1 403 .*"error":"ORIGIN_REFUSED"/s,
    );
    t.regex(
      await rawHandshake(`/interaction/${loginId}/signals/ws`, { cookie }),
      /^HTTP\/1\.1 403 .*"error":"ORIGIN_REFUSED"/s,
      'no Origin at all',
    );
    t.regex(
      await rawHandshake(`/interaction/${loginId}/signals/ws`, { origin }),
      /^HTTP\/1\.1 403 .*"error":"INTERACTION_INVALID"/s,
      'another browser',
    );
    t.regex(
      await rawHandshake('/interaction/unknown-uid/signals/ws', { cookie, origin }),
      /^HTTP\/1\.1 403 .*"error":"INTERACTION_INVALID"/s,
    );
    t.regex(await rawHandshake('/authorize', { cookie, origin }), /^HTTP\/1\.1 404 .*"error":"NOT_FOUND"/s);
    const refused = await exchange(loginId, { cookie, origin: 'https://evil.example' }, JSON.stringify(VECTOR));
    t.false(refused.opened);
    t.is(await fx.gateway.services.fraud.behaviour.load(loginId), null);
  },
);

test.serial('an oversize message closes with 1009 and an invalid vector with 1007; nothing is stored', async (t) => {
  const { browser, chooser, loginId } = await atChooser();
  const headers = { cookie: browser.cookieHeader(chooser.url), origin: new URL(fx.url).origin };
  const big = await exchange(loginId, headers, JSON.stringify({ ...VECTOR, platform: 'x'.repeat(9000) }));
  t.true(big.opened);
  t.is(big.code, 1009);
  const invalid = await exchange(loginId, headers, JSON.stringify({ ...VECTOR, raw: [[1, 2, 3]] }));
  t.is(invalid.code, 1007);
  t.is(invalid.reason, 'SIGNALS_INVALID');
  t.is(await fx.gateway.services.fraud.behaviour.load(loginId), null);
});

test.serial('in Chromium, the page script delivers the vector over the WebSocket', async (t) => {
  chromium = await launchChromium();
  const request = await authorizationRequest(fx.rp);
  const page = await chromium.newPage();
  await page.goto(request.url.toString());
  await page.waitForURL(/\/interaction\//);
  const loginId = new URL(page.url()).pathname.split('/')[2]!;
  await page.mouse.move(10, 10);
  await page.mouse.move(200, 150, { steps: 12 });
  await page.getByRole('button', { name: /demo idp/i }).click();
  await page.waitForURL(new RegExp(fx.deployment.idp.url.replace(/[.:/]/g, '\\$&')));
  t.is(await fx.gateway.services.fraud.behaviour.channel(loginId), 'websocket');
  const vector = await fx.gateway.services.fraud.behaviour.load(loginId);
  t.true((vector?.pointer.n ?? 0) > 0, 'the pointer moves were counted');
  await page.close();
});

/** The gateway's app on a server of its own, its side channel under `caps`. */
async function serverWith(caps: SocketCaps): Promise<{ url: string; close: () => Promise<void> }> {
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's handler settles each request itself
  const server = createServer(fx.gateway.app.callback());
  attachUpgrade(server, fx.gateway.services, caps);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Opens a socket on `url` and resolves once it is open, with a promise of its close code. */
function openSocket(url: string, loginId: string, headers: Record<string, string>) {
  const ws = new WebSocket(`${url}/interaction/${loginId}/signals/ws`, { headers } as never);
  const closed = new Promise<number>((resolve) => (ws.onclose = (event) => resolve(event.code)));
  return new Promise<{ ws: WebSocket; closed: Promise<number> }>((resolve, reject) => {
    ws.onopen = () => resolve({ ws, closed });
    ws.onerror = () => reject(new Error('not opened'));
  });
}

test.serial('sockets are bounded per address, one per login, and live a bounded time', async (t) => {
  const caps = new SocketCaps({ perAddress: 2, lifeMs: 1_500 });
  const server = await serverWith(caps);
  t.teardown(() => server.close());
  const first = await atChooser();
  const second = await atChooser();
  const third = await atChooser();
  const headersOf = (at: Awaited<ReturnType<typeof atChooser>>) => ({
    cookie: at.browser.cookieHeader(at.chooser.url),
    origin: new URL(fx.url).origin,
  });

  const a = await openSocket(server.url, first.loginId, headersOf(first));
  const again = await openSocket(server.url, first.loginId, headersOf(first));
  t.is(await a.closed, 1006, 'a second socket of one login closes the first');
  const b = await openSocket(server.url, second.loginId, headersOf(second));
  await t.throwsAsync(openSocket(server.url, third.loginId, headersOf(third)), undefined, 'a third of one address');
  t.is(caps.held, 2);

  const opened = performance.now();
  t.is(await b.closed, 1006, 'ended by its life: no vector came');
  t.true(performance.now() - opened < 25_000, 'before the 30 s idle timeout');
  again.ws.close();
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.is(caps.held, 0, 'every place given back');

  // a graceful stop closes the open sockets (server.close() would wait for them)
  const open = await openSocket(server.url, third.loginId, headersOf(third));
  caps.closeAll();
  t.is(await open.closed, 1006, 'closed by the stop');
  t.true(await eventually(() => caps.held === 0, 10_000));

  // a refused handshake whose client never closes its side: destroyed, its place given back
  const { port } = new URL(server.url.replace('ws:', 'http:'));
  const lingering = connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true }, () =>
    lingering.write(
      `GET /interaction/${first.loginId}/signals/ws HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: ${randomBytes(16).toString('base64')}\r\nsec-websocket-version: 13\r\norigin: https://elsewhere.example\r\n\r\n`,
    ),
  );
  lingering.on('data', () => undefined);
  lingering.on('end', () => undefined); // our side stays open: the server must not wait for it
  t.teardown(() => lingering.destroy());
  await new Promise((resolve) => lingering.once('end', resolve)); // the refusal arrived
  t.true(
    await eventually(() => caps.held === 0, 10_000),
    'the refused socket was destroyed on the server and its place given back',
  );
});
