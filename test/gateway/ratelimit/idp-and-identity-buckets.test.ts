/**
 * Issue #15: the per-IdP bucket (rate within [min, max], counted on what each IdP causes) and the
 * per-identity buckets with their slower failures bucket (credential stuffing / enumeration aimed at one
 * identity from many addresses), through the real middleware and Redis; every decision counted.
 */
import test, { type ExecutionContext } from 'ava';
import { startRateLimitBed, statuses } from './ratelimit-bed.ts';

const SLOW = 0.01;
const LOOSE = { capacity: 1000, perSecond: SLOW };

test('each IdP has its own bucket: its configured rate, the default otherwise; decisions are counted', async (t) => {
  const bed = await startRateLimitBed(
    {
      perIp: LOOSE,
      failures: LOOSE,
      perIdp: { min: 0.001, default: SLOW, burstSeconds: 300, idps: { 'eidas-be': 2 * SLOW } },
    },
    [],
  );
  t.teardown(() => bed.stop());
  const acs = (idp: string) => () => fetch(`${bed.url}/saml/acs?idp=${idp}`, { method: 'POST' });
  // burst = 300 s of the rate: 3 for an IdP at the default rate, 6 for eidas-be
  t.deepEqual(
    (await statuses(4, acs('legacy-a'))).map((a) => a.status),
    [200, 200, 200, 429],
  );
  t.deepEqual(
    (await statuses(7, acs('eidas-be'))).map((a) => a.status),
    [200, 200, 200, 200, 200, 200, 429],
  );
  const refused = (await statuses(1, acs('legacy-a')))[0]!;
  t.true(Number(refused.headers.get('retry-after')) >= 1);
  const exposition = await bed.registry.metrics();
  t.regex(
    exposition,
    /gateway_ratelimit_idp_decisions_total\{idp="eidas-be",direction="response",outcome="admitted",line="redis"\} 6/,
  );
  t.regex(
    exposition,
    /gateway_ratelimit_idp_decisions_total\{idp="legacy-a",direction="response",outcome="refused",line="redis"\} 2/,
  );
  // the refusal names what refused it: the IdP's own bucket, emptied
  t.deepEqual(
    bed.logs.filter((l) => l.code === 'RATE_LIMITED' && l.idp === 'legacy-a').map((l) => l.refusedBy),
    [['idp'], ['idp']],
  );
  t.regex(exposition, /gateway_ratelimit_refusals_total\{endpoint="acs",bucket="idp",line="redis"\} 3/);
});

test("one address takes only its share of an IdP's AuthnRequests; the others still get theirs", async (t) => {
  const bed = await startRateLimitBed(
    {
      perIp: LOOSE,
      failures: LOOSE,
      // the IdP: 60 requests (0.2/s × 300 s); one address: a tenth of them, 6 (no part kept for known devices here)
      perIdp: { min: 0.001, default: 20 * SLOW, burstSeconds: 300, perAddressShare: 0.1, knownDeviceShare: 0 },
    },
    [],
  );
  t.teardown(() => bed.stop());
  const chooser = (from: string) => () =>
    fetch(`${bed.url}/interaction/abc/idp?idpRequest=small-idp`, {
      method: 'POST',
      headers: { 'x-forwarded-for': from },
    });
  t.deepEqual(
    (await statuses(7, chooser('203.0.113.7'))).map((a) => a.status),
    [200, 200, 200, 200, 200, 200, 429],
    'one address: its six, then refused',
  );
  // told apart from the IdP's saturation: in the log line and the refusals counter, the address's share refused
  t.deepEqual(
    bed.logs.filter((l) => l.code === 'RATE_LIMITED').map((l) => l.refusedBy),
    [['idp_address']],
  );
  t.regex(
    await bed.registry.metrics(),
    /gateway_ratelimit_refusals_total\{endpoint="chooser",bucket="idp_address",line="redis"\} 1/,
  );
  // the refused one took nothing from the IdP: exactly 54 are left for the other addresses
  let admitted = 0;
  for (let i = 1; i <= 10; i++)
    for (const answer of await statuses(6, chooser(`198.51.100.${i}`))) if (answer.status === 200) admitted += 1;
  t.is(admitted, 54);
  // a verified response is the IdP's answer to a request: no address share
  t.is(
    (
      await fetch(`${bed.url}/saml/acs?idp=other-idp`, {
        method: 'POST',
        headers: { 'x-forwarded-for': '203.0.113.7' },
      })
    ).status,
    200,
  );
});

/**
 * A bed whose IdP holds 100 requests (0.01 per s × 10,000 s: nothing refills while a test runs), 70 of them for
 * browsers without a device cookie together, 30 kept for devices that logged in before; `start(from, device)` posts
 * the chooser from that address, with the id of that browser's valid device cookie (none: a new browser).
 */
async function deviceLaneBed(
  t: ExecutionContext,
  shares: { perAddressShare: number; perDevice: { capacity: number; perSecond: number } },
) {
  const bed = await startRateLimitBed(
    {
      perIp: LOOSE,
      failures: LOOSE,
      perIdp: { min: 0.001, default: SLOW, burstSeconds: 10_000, knownDeviceShare: 0.3, ...shares },
    },
    [],
  );
  t.teardown(() => bed.stop());
  const start = (from?: string, device?: string) => () =>
    fetch(`${bed.url}/interaction/abc/idp?idpRequest=small-idp${device ? `&device=${device}` : ''}`, {
      method: 'POST',
      headers: from ? { 'x-forwarded-for': from } : {},
    });
  return { bed, start };
}

test("new browsers together take at most their part of an IdP's requests; returning devices keep theirs", async (t) => {
  // one address: a tenth of the IdP, 10; one device: 5
  const { bed, start } = await deviceLaneBed(t, { perAddressShare: 0.1, perDevice: { capacity: 5, perSecond: SLOW } });
  const refusals = () => bed.logs.filter((l) => l.code === 'RATE_LIMITED').map((l) => l.refusedBy);
  // a flood of new logins from 12 addresses, each within its own share: 70 go through, then none
  let flood = 0;
  for (let i = 1; i <= 12; i++)
    for (const answer of await statuses(10, start(`198.51.100.${i}`))) if (answer.status === 200) flood += 1;
  t.is(flood, 70);
  t.deepEqual(
    [...new Set(refusals().map(String))],
    ['idp_new_browsers'],
    'refused as new browsers, not as the IdP saturated',
  );
  // a returning person (a device cookie) still starts a login, from an address the flood never used
  t.is((await statuses(1, start('203.0.113.1', 'device-a')))[0]!.status, 200);
  // one device cookie copied to many machines is one device: its five, then it competes with the new browsers, whose
  // part the flood used up: refused whatever the address
  let copied = 0;
  for (let i = 2; i <= 7; i++)
    for (const a of await statuses(3, start(`203.0.113.${i}`, 'device-a'))) if (a.status === 200) copied += 1;
  t.is(copied, 4, 'its five in all');
  t.deepEqual(refusals().at(-1), ['idp_device', 'idp_new_browsers'], 'both ways in named');
  // so a few devices cannot empty the part kept for all: 20 other devices each start a login
  let returning = 0;
  for (let i = 1; i <= 20; i++)
    if ((await statuses(1, start(`192.0.2.${i}`, `device-${i}`)))[0]!.status === 200) returning += 1;
  t.is(returning, 20);
  // what is left of the IdP's own bucket (100 − 70 − 5 − 20 = 5) is the limit now
  let last = 0;
  for (let i = 21; i <= 30; i++)
    if ((await statuses(1, start(`192.0.2.${i}`, `device-${i}`)))[0]!.status === 200) last += 1;
  t.is(last, 5);
  t.deepEqual(refusals().at(-1), ['idp']);
  // the flood's 50, and the copied cookie's 14 past its own share
  t.regex(
    await bed.registry.metrics(),
    /gateway_ratelimit_refusals_total\{endpoint="chooser",bucket="idp_new_browsers",line="redis"\} 64/,
  );
});

test("a known device past its own share takes from the new browsers' part, never worse off than a new browser", async (t) => {
  // one address: the whole IdP; one device: 2
  const { start } = await deviceLaneBed(t, { perAddressShare: 1, perDevice: { capacity: 2, perSecond: SLOW } });
  // its own two, then two from the new browsers' part
  t.deepEqual(
    (await statuses(4, start(undefined, 'device-x'))).map((a) => a.status),
    [200, 200, 200, 200],
  );
  // which has 68 left for browsers without a cookie
  let fresh = 0;
  for (const answer of await statuses(70, start())) if (answer.status === 200) fresh += 1;
  t.is(fresh, 68);
});

test('failures of one identity empty its failures bucket at that endpoint, from any address; other identities and doors go on', async (t) => {
  const bed = await startRateLimitBed(
    { perIp: LOOSE, failures: LOOSE, perIdentity: LOOSE, identityFailures: { capacity: 2, perSecond: SLOW } },
    [],
  );
  t.teardown(() => bed.stop());
  const webauthn = (identity: string, fail: boolean, from: string) =>
    fetch(`${bed.url}/interaction/abc/webauthn/authenticate?identity=${identity}${fail ? '&fail=1' : ''}`, {
      method: 'POST',
      headers: { accept: 'application/json', 'x-forwarded-for': from },
    });
  t.is((await webauthn('marie', true, '203.0.113.1')).status, 400);
  t.is((await webauthn('marie', true, '203.0.113.2')).status, 400);
  // the next attempt on that identity is refused, even a good one; another identity is not
  t.is((await webauthn('marie', false, '203.0.113.3')).status, 429);
  t.is((await webauthn('jean', false, '203.0.113.3')).status, 200);
  // nor is the same identity at another door: a step-up failed with a stolen IdP password must not lock the person
  // out of every login (the ACS and WebAuthn both count the account)
  t.is((await fetch(`${bed.url}/saml/acs?identity=marie`, { method: 'POST' })).status, 200);
  t.regex(
    await bed.registry.metrics(),
    /gateway_ratelimit_identity_decisions_total\{endpoint="webauthn",outcome="refused",line="redis"\} 1/,
  );
});

test('an identity has its own bucket per endpoint', async (t) => {
  const bed = await startRateLimitBed(
    { perIp: LOOSE, failures: LOOSE, perIdentity: { capacity: 2, perSecond: SLOW }, identityFailures: LOOSE },
    [],
  );
  t.teardown(() => bed.stop());
  const acs = (identity: string) => () => fetch(`${bed.url}/saml/acs?identity=${identity}`, { method: 'POST' });
  t.deepEqual(
    (await statuses(3, acs('idp\nmarie'))).map((a) => a.status),
    [200, 200, 429],
  );
  t.is((await acs('idp\njean')()).status, 200);
});

test('per-IdP rates are validated at boot, naming the field', async (t) => {
  const { parseRateLimit } = await import('../../../gateway/config/ratelimit.ts');
  t.throws(() => parseRateLimit({ perIdp: { min: 10, max: 100, idps: { a: 500 } } }, []), {
    message: /rateLimit\.perIdp\.idps\.a: must lie within min \(10\) and max \(100\)/,
  });
  t.throws(() => parseRateLimit({ perIdp: { min: 10, max: 5 } }, []), { message: /rateLimit\.perIdp\.max/ });
  t.throws(() => parseRateLimit({ perIdentity: { capacity: 0 } }, []), { message: /rateLimit\.perIdentity\.capacity/ });
  t.throws(() => parseRateLimit({ perIdp: { burst: 1 } }, []), { message: /rateLimit\.perIdp\.burst: unknown/ });
});
