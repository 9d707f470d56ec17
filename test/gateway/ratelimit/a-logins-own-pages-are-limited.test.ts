/**
 * A login's own pages past the chooser — the resume (`GET /auth/:uid`, where the completion step runs), the completion
 * hop (`GET /interaction/:uid/complete`), the page a login under review waits on (`GET …/review`) and the behaviour
 * signals' `POST …/signals` — each cost Redis reads before the cookie is judged. They are a limited endpoint of their own (`interaction`, per address,
 * `rateLimit.perIp`): past it 429, while the chooser's bucket is untouched. Through the whole gateway.
 */
import test from 'ava';
import { startGatewayFixture } from '../../helpers/gateway-fixture.ts';

/** The limiter's Redis deadline: long, so that a loaded machine never sends a decision to the local fallback. */
const PATIENT = 5_000;

test("one address's calls to a login's pages share one bucket; past it 429, the chooser's bucket untouched", async (t) => {
  const fixture = await startGatewayFixture({
    // two requests per address and endpoint, refilled one per 100 s: nothing refills during the test
    rawConfig: (raw) => (raw.rateLimit = { perIp: { capacity: 2, perSecond: 0.01 }, redisTimeoutMs: PATIENT }),
  });
  t.teardown(() => fixture.stop());
  const uid = 'a'.repeat(21);
  const call = async (method: 'GET' | 'POST', step: string) => {
    const path = step === 'resume' ? `/auth/${uid}` : `/interaction/${uid}/${step}`;
    const answer = await fetch(`${fixture.url}${path}`, {
      method,
      redirect: 'manual',
      headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
      body: method === 'POST' ? '{}' : undefined,
    });
    await answer.body?.cancel();
    return answer.status;
  };
  t.not(await call('GET', 'complete'), 429, 'the first call is admitted');
  t.not(await call('POST', 'signals'), 429, 'the second call is admitted');
  t.is(await call('GET', 'review'), 429, 'the third, to any of the three pages, is refused');
  t.is(await call('GET', 'complete'), 429);
  t.is(await call('POST', 'signals'), 429);
  t.is(await call('GET', 'resume'), 429, 'the resume of a login too');
  const chooser = await fetch(`${fixture.url}/interaction/${uid}`, { redirect: 'manual' });
  await chooser.body?.cancel();
  t.not(chooser.status, 429, "the chooser's bucket is its own");
});
