/**
 * Issue #15, rate limiting: the N+1th request over a limit is refused with 429, Retry-After and an
 * OAuth-shaped body, per address, per RP tier and per-client override, and through the slower failures
 * bucket; every decision is counted and every refusal logged with RATE_LIMITED.
 */
import test from 'ava';
import { SECRET, startRateLimitBed, statuses, together } from './ratelimit-bed.ts';

// refills of one token every 100 s: nothing refills while a test runs, however loaded the machine
const SLOW = 0.01;
const LOOSE = { capacity: 1000, perSecond: SLOW };

function basic(id: string, secret = SECRET): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, accept: 'application/json' };
}

test('the per-address bucket admits its capacity, then answers 429 with Retry-After and temporarily_unavailable', async (t) => {
  const bed = await startRateLimitBed({ perIp: { capacity: 5, perSecond: SLOW }, failures: LOOSE }, []);
  t.teardown(() => bed.stop());
  const answers = await statuses(6, () => fetch(`${bed.url}/token`, { method: 'POST' }));
  t.deepEqual(
    answers.map((a) => a.status),
    [200, 200, 200, 200, 200, 429],
  );
  const refused = answers[5]!;
  t.true(Number(refused.headers.get('retry-after')) >= 1);
  const body = (await refused.json()) as { error: string };
  t.is(body.error, 'temporarily_unavailable');
  t.true(bed.logs.some((l) => l.code === 'RATE_LIMITED' && l.endpoint === 'token' && l.line === 'redis'));
  const exposition = await bed.registry.metrics();
  t.regex(exposition, /gateway_ratelimit_decisions_total\{endpoint="token",outcome="admitted",line="redis"\} 5/);
  t.regex(exposition, /gateway_ratelimit_decisions_total\{endpoint="token",outcome="refused",line="redis"\} 1/);
  // another endpoint has its own per-address bucket; an endpoint that is not limited is never counted
  t.is((await fetch(`${bed.url}/saml/acs`, { method: 'POST' })).status, 200);
  t.is((await fetch(`${bed.url}/.well-known/openid-configuration`)).status, 200);
});

test('an RP is limited by its tier, and a client override replaces its tier rate', async (t) => {
  const bed = await startRateLimitBed(
    {
      clientBurstSeconds: 100,
      tiers: { tier_3: 0.02 },
      // the RP's whole bucket open to browsers without a device cookie (an-authorize-flood-leaves-the-rp-its-part)
      clientKnownDeviceShare: 0,
      clients: { 'rp-gov': { tier: 'tier_1', perSecond: 0.04 }, 'rp-private': { tier: 'tier_3' } },
      perIp: LOOSE,
      failures: LOOSE,
    },
    ['rp-gov', 'rp-private', 'rp-unlisted'],
  );
  t.teardown(() => bed.stop());
  // buckets of 100 s of their rate: 2 for tier_3, 4 for the override; sent together
  const privateRp = await together(3, () =>
    fetch(`${bed.url}/token`, { method: 'POST', headers: basic('rp-private') }),
  );
  t.deepEqual(privateRp, { admitted: 2, refused: 1 });
  const overridden = await together(5, () => fetch(`${bed.url}/token`, { method: 'POST', headers: basic('rp-gov') }));
  t.deepEqual(overridden, { admitted: 4, refused: 1 });
  // a configured client not listed under rateLimit.clients is the default tier (tier_3)
  const unlisted = await together(3, () =>
    fetch(`${bed.url}/auth?client_id=rp-unlisted`, { headers: { accept: 'application/json' } }),
  );
  t.deepEqual(unlisted, { admitted: 2, refused: 1 });
});

test("a token request naming an RP with a wrong secret does not use up that RP's bucket", async (t) => {
  const bed = await startRateLimitBed(
    { clientBurstSeconds: 100, tiers: { tier_3: 0.02 }, clients: {}, perIp: LOOSE, failures: LOOSE },
    ['rp-victim'],
  );
  t.teardown(() => bed.stop());
  // anyone may send the RP's name: far more than its bucket holds (2), from an address of its own
  const strangers = await together(6, () =>
    fetch(`${bed.url}/token`, { method: 'POST', headers: basic('rp-victim', 'guessed-secret') }),
  );
  t.deepEqual(
    strangers,
    { admitted: 6, refused: 0 },
    'not charged to the RP (the address and failures buckets hold them)',
  );
  const own = await together(3, () => fetch(`${bed.url}/token`, { method: 'POST', headers: basic('rp-victim') }));
  t.deepEqual(own, { admitted: 2, refused: 1 }, "the RP's own requests still have its whole bucket, and no more");
});

test('answers ≥ 400 empty the slower failures bucket: then even a good request from that address is refused', async (t) => {
  const bed = await startRateLimitBed({ perIp: LOOSE, failures: { capacity: 3, perSecond: SLOW } }, []);
  t.teardown(() => bed.stop());
  const failing = await statuses(3, () => fetch(`${bed.url}/saml/acs?fail=1`, { method: 'POST' }));
  t.deepEqual(
    failing.map((a) => a.status),
    [400, 400, 400],
  );
  const next = await fetch(`${bed.url}/interaction/abc123`, { headers: { accept: 'text/html' } });
  t.is(next.status, 429);
  t.truthy(next.headers.get('retry-after'));
  t.regex(await next.text(), /RATE_LIMITED/);
});

test('with Redis stopped, the local limiter still holds the limit (+10 %)', async (t) => {
  const bed = await startRateLimitBed(
    { perIp: { capacity: 5, perSecond: SLOW }, failures: LOOSE, redisTimeoutMs: 100 },
    [],
  );
  t.teardown(() => bed.stop());
  await bed.stopRedis();
  const answers = await statuses(7, () => fetch(`${bed.url}/token`, { method: 'POST' }));
  // 5 × 1.1 = 5.5 tokens: five admitted, then refused (never admitted unchecked)
  t.deepEqual(
    answers.map((a) => a.status),
    [200, 200, 200, 200, 200, 429, 429],
  );
  t.true(Number(answers[5]!.headers.get('retry-after')) >= 1);
  t.true(bed.logs.some((l) => l.code === 'RATE_LIMITED' && l.line === 'local'));
  t.regex(
    await bed.registry.metrics(),
    /gateway_ratelimit_decisions_total\{endpoint="token",outcome="refused",line="local"\} 2/,
  );
});
