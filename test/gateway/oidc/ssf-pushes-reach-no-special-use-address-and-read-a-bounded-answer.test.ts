/**
 * A Shared Signals push goes to a URL an RP gave: it is held to what oidc-provider's own outward requests are held
 * to (gateway/oidc/guarded-post.ts), and it reads a bounded answer:
 *
 * - an address in the URL that is special-use (link-local, private, loopback other than the registered loopback
 *   names) is never connected to; a host name resolving to one is refused at lookup (the address connected to);
 * - the operator's loopback receiver (`127.0.0.1`, `localhost`) is reached, as in development and tests;
 * - a receiver that answers an endless body is read up to `ANSWER_MAX_BYTES`: a 400 is still the receiver's refusal,
 *   at once, where the whole body used to be read until the attempt's deadline (and then retried twice);
 * - no redirect is followed.
 */
import test from 'ava';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { guardedPost, refusingSpecialUse, SpecialUseAddressError } from '../../../gateway/oidc/guarded-post.ts';
import { ANSWER_MAX_BYTES, PushDelivery } from '../../../gateway/oidc/shared-signals/push-delivery.ts';
import { isSpecialUseAddress } from '../../../gateway/oidc/special-use-address.ts';
import { eventually } from '../../helpers/eventually.ts';

let server: Server;
let origin: string;
const seen: string[] = [];
/** Bytes the endless answers wrote before the client went away, one entry per answer closed. */
const endlessWritten: number[] = [];

test.before(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    req.resume();
    if (req.url === '/accepted') return void res.writeHead(202).end();
    if (req.url === '/moved') return void res.writeHead(302, { location: '/moved-here' }).end();
    if (req.url === '/endless-refusal') {
      res.writeHead(400, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let written = 0;
      const more = () => {
        while (!res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
      };
      res.on('close', () => {
        res.removeAllListeners('drain');
        endlessWritten.push(written);
      });
      more();
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after.always(() => {
  server.closeAllConnections();
  server.close();
});

/** A push delivery whose audit records are kept in `audited` (no wait between attempts). */
function recordingPushes() {
  const audited: Array<{ to: string; errorCode?: string | undefined; details?: unknown }> = [];
  const pushes = new PushDelivery({
    audit: { append: async (record) => void audited.push(record) },
    registry: new Registry(),
    sleep: async () => undefined,
  });
  return { audited, pushes };
}

const headers = { 'content-type': 'application/secevent+jwt' };
const limits = { timeoutMs: 2_500, maxBytes: 4_096 };

for (const host of [
  '169.254.169.254',
  '10.1.2.3',
  '127.0.0.2',
  '[::ffff:127.0.0.2]',
  '[fd00::1]',
  '[::a9fe:a9fe]',
  '[::ffff:0:a9fe:a9fe]',
]) {
  test(`a URL naming the special-use address ${host} is never connected to`, async (t) => {
    const error = await t.throwsAsync(guardedPost(`https://${host}:9/caep`, headers, 'x', limits));
    t.true(error instanceof SpecialUseAddressError, String(error));
  });
}

test('a host name that resolves to a special-use address is refused at lookup', async (t) => {
  const error = await new Promise<Error | null>((resolve) =>
    refusingSpecialUse('localhost', { family: 0 }, (err) => resolve(err)),
  );
  t.true(error instanceof SpecialUseAddressError, String(error));
  t.true(isSpecialUseAddress('::ffff:7f00:1'), 'an IPv4-mapped loopback address is special-use');
  t.false(isSpecialUseAddress('93.184.215.14'));
  t.true(isSpecialUseAddress('not-an-address'));
});

test("the operator's loopback receiver is reached", async (t) => {
  const answer = await guardedPost(`${origin}/accepted`, headers, 'x', limits);
  t.is(answer.status, 202);
  const byName = await guardedPost(`${origin.replace('127.0.0.1', 'localhost')}/accepted`, headers, 'x', limits);
  t.is(byName.status, 202);
});

test('a redirect is an answer, not followed', async (t) => {
  const answer = await guardedPost(`${origin}/moved`, headers, 'x', limits);
  t.is(answer.status, 302);
  t.false(seen.includes('/moved-here'));
});

test('an endless answer is read up to the bound and the refusal is taken at once', async (t) => {
  const answer = await guardedPost(`${origin}/endless-refusal`, headers, 'x', limits);
  t.is(answer.status, 400);
  t.true(answer.truncated);
  t.is(answer.body.length, limits.maxBytes);

  const { audited, pushes } = recordingPushes();
  const outcome = await pushes.deliver({
    clientId: 'rp',
    endpoint: `${origin}/endless-refusal`,
    event: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
    jti: 'j1',
    jwt: 'a.b.c',
  });
  t.is(outcome, 'rejected', 'a 400 is the receiver refusing the SET, however long its body');
  // the client hung up after its bound: what the server wrote is at most what the sockets' buffers hold, not the
  // gigabytes an answer read until the attempt's deadline would be
  await eventually(() => endlessWritten.length >= 2);
  t.true(Math.max(...endlessWritten) < 64 * 1024 * 1024, `written ${Math.max(...endlessWritten)} bytes`);
  t.is(audited[0]?.errorCode, 'SSF_EVENT_REJECTED');
  t.true(ANSWER_MAX_BYTES <= 64 * 1024);
});

test('a push to a special-use address fails without a connection, and says why', async (t) => {
  const { audited, pushes } = recordingPushes();
  const outcome = await pushes.deliver({
    clientId: 'rp',
    endpoint: 'https://169.254.169.254/latest/meta-data',
    event: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
    jti: 'j2',
    jwt: 'a.b.c',
  });
  t.is(outcome, 'failed');
  t.is(audited[0]?.errorCode, 'SSF_DELIVERY_FAILED');
  t.like(audited[0]?.details, { error: 'SpecialUseAddressError' });
});
