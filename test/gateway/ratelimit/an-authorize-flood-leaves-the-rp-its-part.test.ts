/**
 * An RP's `client_id` is anyone's to send at the authorize door. A flood of authorization requests naming it, from
 * many addresses, used to empty the one bucket the RP had, and with it the RP's own code exchanges and pushed
 * authorization requests (attacker review, thirty-fifth round). Now (ratelimit/request-buckets.ts):
 *
 * - browsers without a device cookie take at most `1 − clientKnownDeviceShare` of the RP's authorization requests;
 * - each returning browser (a valid device cookie) takes its own share (`perClientDevice`), then competes with the new
 *   browsers;
 * - the RP's back-channel calls (token, PAR with its own secret) have a bucket of their own.
 */
import { randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { deviceCookie, SECRET, startRateLimitBed, statuses } from './ratelimit-bed.ts';

// a rate of one token every 1,000 s, in buckets of 100: nothing refills while a test runs, however loaded the machine
const SLOWEST = 0.001;
const LOOSE = { capacity: 1000, perSecond: SLOWEST };

/** A device id as the gateway mints them (16 random bytes). */
const deviceId = () => randomBytes(16).toString('base64url');

/**
 * A bed whose RP `rp-victim` may make 100 authorization requests (70 of them from browsers without a device cookie
 * together, `clientKnownDeviceShare`'s default) and, apart, 100 back-channel calls; `authorize(from, device)` sends one from that address, with that
 * browser's valid device cookie (none: a new browser).
 */
async function floodBed(t: ExecutionContext, perClientDevice: { capacity: number; perSecond: number }) {
  const bed = await startRateLimitBed(
    {
      tiers: { tier_3: SLOWEST },
      clientBurstSeconds: 100_000,
      perClientDevice,
      perIp: LOOSE,
      failures: LOOSE,
    },
    ['rp-victim'],
  );
  t.teardown(() => bed.stop());
  const authorize = (from: string, device?: string) => () =>
    fetch(`${bed.url}/auth?client_id=rp-victim`, {
      headers: {
        accept: 'application/json',
        'x-forwarded-for': from,
        ...(device ? { cookie: deviceCookie(device) } : {}),
      },
    });
  const token = () =>
    fetch(`${bed.url}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`rp-victim:${SECRET}`).toString('base64')}`,
        accept: 'application/json',
      },
    });
  const refusals = () => bed.logs.filter((l) => l.code === 'RATE_LIMITED').map((l) => l.refusedBy);
  return { bed, authorize, token, refusals };
}

/** How many of `count` requests from each of `addresses` were admitted. */
async function admittedFrom(addresses: string[], count: number, send: (from: string) => () => Promise<Response>) {
  let admitted = 0;
  for (const from of addresses)
    for (const answer of await statuses(count, send(from))) if (answer.status === 200) admitted += 1;
  return admitted;
}

test('a flood of authorization requests naming an RP leaves its returning browsers their part and its code exchanges', async (t) => {
  const { bed, authorize, token, refusals } = await floodBed(t, { capacity: 3, perSecond: SLOWEST });
  // from 12 addresses, none of which the per-address bucket stops: 70 go through, then none
  const flood = Array.from({ length: 12 }, (_, i) => `198.51.100.${i + 1}`);
  t.is(await admittedFrom(flood, 10, (from) => authorize(from)), 70);
  t.deepEqual([...new Set(refusals().map(String))], ['client_new_browsers'], 'refused as new browsers, not as the RP');
  // the RP's own code exchanges are not what the flood took
  t.deepEqual(
    (await statuses(5, token)).map((a) => a.status),
    [200, 200, 200, 200, 200],
  );
  // a returning person still starts a login at the RP, from an address the flood never used
  const returning = deviceId();
  t.is((await statuses(1, authorize('203.0.113.1', returning)))[0]!.status, 200);
  // one device cookie copied to many machines is one device: its three, then it competes with the new browsers,
  // whose part the flood used up
  const copied = await admittedFrom(['203.0.113.2', '203.0.113.3', '203.0.113.4'], 2, (from) =>
    authorize(from, returning),
  );
  t.is(copied, 2, 'its three in all');
  t.deepEqual(refusals().at(-1), ['client_device', 'client_new_browsers'], 'both ways in named');
  // so one device cannot empty the part kept for all: 20 other returning browsers each start a login
  let others = 0;
  for (let i = 1; i <= 20; i++)
    if ((await statuses(1, authorize(`192.0.2.${i}`, deviceId())))[0]!.status === 200) others += 1;
  t.is(others, 20);
  // the flood's 50 and the copied cookie's 4 refusals, counted by what refused them
  t.regex(
    await bed.registry.metrics(),
    /gateway_ratelimit_refusals_total\{endpoint="authorize",bucket="client_new_browsers",line="redis"\} 54\n/,
  );
});

test("a returning browser past its own share of an RP takes from the new browsers' part, never worse off", async (t) => {
  const { authorize } = await floodBed(t, { capacity: 2, perSecond: SLOWEST });
  const device = deviceId();
  // its own two, then two from the new browsers' part
  t.deepEqual(
    (await statuses(4, authorize('203.0.113.9', device))).map((a) => a.status),
    [200, 200, 200, 200],
  );
  // which has 68 left for browsers without a cookie
  t.is(await admittedFrom(['198.51.100.1'], 70, (from) => authorize(from)), 68);
});

test('a forged or altered device cookie is a new browser at the authorize door', async (t) => {
  const { authorize, bed } = await floodBed(t, { capacity: 100, perSecond: SLOWEST });
  const forged = (from: string) => () =>
    fetch(`${bed.url}/auth?client_id=rp-victim`, {
      headers: {
        accept: 'application/json',
        'x-forwarded-for': from,
        cookie: `gw_dev=${deviceId()}.${'A'.repeat(43)}`,
      },
    });
  t.is(await admittedFrom(['198.51.100.1'], 80, forged), 70);
  // a real one still has the part kept for returning browsers
  t.is((await statuses(1, authorize('198.51.100.2', deviceId())))[0]!.status, 200);
});
