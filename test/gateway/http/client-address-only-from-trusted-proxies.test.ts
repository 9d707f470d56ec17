/**
 * The client address and the forwarded host are read only from what a configured trusted proxy wrote
 * (issue #10 item 12): the leftmost X-Forwarded-For entries are the client's own words and are never
 * believed; without trusted proxies every X-Forwarded-* header is ignored.
 */
import test from 'ava';
import Koa from 'koa';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientAddress, trustedProxies } from '../../../gateway/http/client-address.ts';
import { pinOrigin, publicOrigin, trustRewrittenHeaders } from '../../../gateway/http/pin-origin.ts';
import { errorHandler } from '../../../gateway/http/error-handler.ts';
import { GatewayError } from '../../../gateway/errors.ts';
import { loadConfig } from '../../../gateway/config/load.ts';
import pino from 'pino';

const CASES: [string, string, string | undefined, string[], string][] = [
  ['no trusted proxy: the peer, whatever X-Forwarded-For says', '127.0.0.1', '6.6.6.6', [], '127.0.0.1'],
  [
    'a trusted proxy: the entry it appended (rightmost), not the client-written leftmost',
    '10.0.0.2',
    '6.6.6.6, 203.0.113.7',
    ['10.0.0.0/8'],
    '203.0.113.7',
  ],
  [
    'two trusted hops: skipped from the right',
    '10.0.0.2',
    '6.6.6.6, 203.0.113.7, 10.0.0.9',
    ['10.0.0.0/8'],
    '203.0.113.7',
  ],
  ['an untrusted peer: its headers are not read', '192.0.2.1', '203.0.113.7', ['10.0.0.0/8'], '192.0.2.1'],
  ['an IPv4-mapped IPv6 peer matches IPv4 rules', '::ffff:10.0.0.2', '203.0.113.7', ['10.0.0.0/8'], '203.0.113.7'],
  [
    'a garbage hop stops the walk at the last trusted view',
    '10.0.0.2',
    '203.0.113.7, not-an-ip',
    ['10.0.0.0/8'],
    '10.0.0.2',
  ],
  ['IPv6 blocks', 'fd00::1', '2001:db8::7', ['fd00::/8'], '2001:db8::7'],
];

for (const [name, peer, xff, trusted, expected] of CASES) {
  test(`client address — ${name}`, (t) => {
    t.is(clientAddress(peer, xff, trustedProxies(trusted)), expected);
  });
}

async function serve(trusted: string[]): Promise<{ server: Server; port: number }> {
  const app = new Koa();
  trustRewrittenHeaders(app);
  app.use(errorHandler(pino({ level: 'silent' })));
  app.use(pinOrigin(publicOrigin('https://gw.example'), trustedProxies(trusted), ['/health']));
  app.use((ctx) => {
    ctx.body = { ip: ctx.ip, href: ctx.href, protocol: ctx.protocol };
  });
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's handler settles each request itself (ctx.onerror): its promise never rejects
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function ask(port: number, headers: Record<string, string>): Promise<{ status: number; body: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/x', headers: { accept: 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('behind a trusted proxy the handlers see the appended client address and the issuer origin only', async (t) => {
  const { server, port } = await serve(['127.0.0.1']);
  t.teardown(() => server.close());
  const answer = await ask(port, {
    host: 'gw.example',
    'x-forwarded-for': '6.6.6.6, 203.0.113.7',
    'x-forwarded-proto': 'http',
  });
  t.is(answer.status, 200);
  t.deepEqual(answer.body, { ip: '203.0.113.7', href: 'https://gw.example/x', protocol: 'https' });
});

test('a trusted proxy forwarding another host is refused: 421 HOST_NOT_CONFIGURED', async (t) => {
  const { server, port } = await serve(['127.0.0.1']);
  t.teardown(() => server.close());
  const answer = await ask(port, { host: 'gw.example', 'x-forwarded-host': 'attacker.example' });
  t.is(answer.status, 421);
  t.is(answer.body.error, 'HOST_NOT_CONFIGURED');
});

test('without trusted proxies, X-Forwarded-For and X-Forwarded-Host are ignored', async (t) => {
  const { server, port } = await serve([]);
  t.teardown(() => server.close());
  const answer = await ask(port, {
    host: 'gw.example:443',
    'x-forwarded-for': '6.6.6.6',
    'x-forwarded-host': 'attacker.example',
  });
  t.is(answer.status, 200);
  t.deepEqual(answer.body, { ip: '127.0.0.1', href: 'https://gw.example/x', protocol: 'https' });
});

test('configuration: `proxy` is refused with a pointer to trustedProxies; malformed entries name their index', (t) => {
  const error = t.throws(() => loadConfig({ issuer: 'http://127.0.0.1:3000', proxy: true }), {
    instanceOf: GatewayError,
  });
  t.is(error?.code, 'CONFIG_INVALID');
  t.regex(error?.message ?? '', /proxy: was replaced by trustedProxies/);
  const bad = t.throws(() =>
    loadConfig({ issuer: 'http://127.0.0.1:3000', trustedProxies: ['10.0.0.0/8', '10.0.0.0/33'] }),
  );
  t.regex(bad?.message ?? '', /trustedProxies\[1\]/);
});
