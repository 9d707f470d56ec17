/**
 * The request id names audit trails (`request:<id>`, `slo:<id>`) and is the reference an error page gives. A
 * client's own X-Request-Id was kept from anyone (reviewer finding, twenty-seventh round): an attacker filed their
 * refused messages under a trail of their choosing. It is kept only from a proxy of ours (the public listener's
 * `trustedProxies`); anyone else's is replaced by an id of ours. Real HTTP on loopback.
 */
import type { AddressInfo } from 'node:net';
import test from 'ava';
import Koa from 'koa';
import { pino } from 'pino';
import { trustedProxies } from '../../gateway/http/client-address.ts';
import { requestId } from '../../gateway/observability/request-id.ts';

async function serve(proxies: string[]) {
  const app = new Koa();
  const trusted = trustedProxies(proxies);
  app.use(requestId(pino({ level: 'silent' }), undefined, (peer) => trusted.has(peer)));
  app.use((ctx) => {
    ctx.body = String(ctx.state.requestId);
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => server.close() };
}

const asked = 'chosen-by-the-client-0001';

test("a direct client's X-Request-Id is replaced by an id of ours", async (t) => {
  const app = await serve([]);
  t.teardown(app.close);
  const response = await fetch(app.url, { headers: { 'x-request-id': asked } });
  const id = await response.text();
  t.not(id, asked);
  t.regex(id, /^[0-9a-f-]{36}$/);
  t.is(response.headers.get('x-request-id'), id);
});

test('a proxy of ours keeps its X-Request-Id: a login followed across instances', async (t) => {
  const app = await serve(['127.0.0.1']);
  t.teardown(app.close);
  const response = await fetch(app.url, { headers: { 'x-request-id': asked } });
  t.is(await response.text(), asked);
});
