/**
 * Issue #14: a page request's first reads leave in the same socket write as its rate-limit decision
 * (`interaction/first-reads.ts`), one round trip less: the chooser's answer reads its login's context and its
 * Interaction, an authorization request on a session reads that session's pointer. They are reads only: a
 * refused request acts on none of them. Real gateway, Redis, PostgreSQL and HSM; the gateway's own Redis
 * socket watched write by write.
 */
import test from 'ava';
import type { Redis } from 'ioredis';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { Browser, formsIn } from '../../helpers/browser.ts';
import { logIn } from '../session/session-bed.ts';

/** The text of each write of the client's socket while `work` runs. */
async function writesDuring(redis: Redis, work: () => Promise<void>): Promise<string[]> {
  const socket = (redis as unknown as { stream: Record<string, (...a: unknown[]) => void> }).stream;
  const writes: string[] = [];
  const originals = { _write: socket._write!, _writev: socket._writev! };
  socket._write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    writes.push(String(chunk));
    return originals._write.call(this, chunk, ...rest);
  };
  socket._writev = function (this: unknown, chunks: unknown, ...rest: unknown[]) {
    writes.push((chunks as Array<{ chunk: unknown }>).map((c) => String(c.chunk)).join(''));
    return originals._writev.call(this, chunks, ...rest);
  };
  try {
    await work();
  } finally {
    Object.assign(socket, originals);
  }
  return writes;
}

const decisionWrite = (writes: string[]) => writes.find((w) => w.includes('rl:{rl}:global'));

test('the chooser answer reads its login and its Interaction with its rate-limit decision', async (t) => {
  const fx = await startGatewayFixture({ boot: { fraud: { checkpointMs: 0 } } });
  t.teardown(() => fx.stop());
  const browser = new Browser();
  const request = await authorizationRequest(fx.rp);
  const chooserStep = await browser.follow(request.url, {}, () => false);
  const chooser = formsIn(await chooserStep.response.text()).find((f) => f.action.endsWith('/idp'))!;
  const uid = chooserStep.url.pathname.split('/')[2]!;
  let status = 0;
  const writes = await writesDuring(fx.gateway.services.redis, async () => {
    const sent = await browser.submit(chooser, chooserStep.url, { idp: 'demo-idp' }, () => false);
    status = sent.response.status;
    await sent.response.body?.cancel();
  });
  t.is(status, 200);
  const decision = decisionWrite(writes);
  t.truthy(decision, 'the decision was written');
  t.true(decision!.includes(`login:${uid}`), 'the login context is read in the decision’s write');
  t.true(decision!.includes(`oidc:Interaction:${uid}`), 'the Interaction is read in the decision’s write');
});

test('an authorization request on a session reads the session’s pointer with its rate-limit decision', async (t) => {
  const fx = await startGatewayFixture({ boot: { fraud: { checkpointMs: 0 } } });
  t.teardown(() => fx.stop());
  const { browser } = await logIn(fx);
  const request = await authorizationRequest(fx.rp);
  let status = 0;
  const writes = await writesDuring(fx.gateway.services.redis, async () => {
    const step = await browser.follow(request.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
    status = step.response.status;
    await step.response.body?.cancel();
  });
  t.true(status >= 200 && status < 400, `answered ${status}`);
  t.true(writes.length > 2, 'the SSO login was watched');
  const decision = decisionWrite(writes);
  t.truthy(decision, 'the decision was written');
  t.true(decision!.includes('s2j:'), 'the session pointer is read in the decision’s write');
});

test('a request without a session cookie reads no session before its decision', async (t) => {
  const fx = await startGatewayFixture({ boot: { fraud: { checkpointMs: 0 } } });
  t.teardown(() => fx.stop());
  const request = await authorizationRequest(fx.rp);
  const writes = await writesDuring(fx.gateway.services.redis, async () => {
    const step = await new Browser().follow(request.url, {}, () => false);
    await step.response.body?.cancel();
  });
  t.false(decisionWrite(writes)!.includes('s2j:'));
});
