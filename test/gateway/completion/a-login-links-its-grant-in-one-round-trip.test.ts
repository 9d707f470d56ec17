/**
 * Issue #14 (Redis round trips): a login that makes a grant links it to the login for the risk side
 * (`risk:grant:<grantId>` → login, `risk:login-grant:<loginId>` → grant) in one round trip, not two: the two
 * SETs leave in one socket write. Whole logins through the real gateway (a first login, an SSO login,
 * a `prompt=none` login), real Redis; each batch ioredis sends is recorded (the commands of one socket write,
 * `redis-socket-batches.ts`). Before: `await set; await set`, two round trips each time. The links still
 * lead where they did (the values are read back).
 */
import test, { type ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { commandKey, onRedisBatch } from '../../helpers/redis-socket-batches.ts';
import { logIn, startSessionBed, type SessionBed } from '../session/session-bed.ts';

let batches: string[][] | undefined;
onRedisBatch((batch) => batches?.push(batch.map(commandKey)));

let bed: SessionBed;
let redis: Redis;
test.before(async () => {
  bed = await startSessionBed({ bootOptions: { fraud: { checkpointMs: 0 } } });
  redis = new Redis(bed.redis.url);
});
test.after.always(async () => {
  redis?.disconnect();
  await bed?.stop();
});

/** The batches that carried a grant link, and the grant ids linked. */
function grantLinks(seen: string[][]): { batches: string[][]; grantIds: string[] } {
  const carrying = seen.filter((b) => b.some((c) => /^SET \S*risk:(login-)?grant:/.test(c)));
  const grantIds = carrying.flat().flatMap((c) => /^SET \S*risk:grant:(\S+)$/.exec(c)?.[1] ?? []);
  return { batches: carrying.map((b) => b.filter((c) => /risk:(login-)?grant:/.test(c))), grantIds };
}

async function checkOneRoundTrip(t: ExecutionContext, login: () => Promise<unknown>) {
  batches = [];
  await login();
  const seen = batches;
  batches = undefined;
  const links = grantLinks(seen);
  t.is(links.batches.length, 1, `both links in one round trip: ${JSON.stringify(links.batches)}`);
  t.is(links.batches[0]!.length, 2);
  t.is(links.grantIds.length, 1);
  // the links lead where they did: grant → login → grant
  const loginId = await redis.get(`gw:risk:grant:${links.grantIds[0]}`);
  t.truthy(loginId);
  t.is(await redis.get(`gw:risk:login-grant:${loginId}`), links.grantIds[0]!);
}

test.serial(
  'a first login, an SSO login and a prompt=none login each link their grant in one round trip',
  async (t) => {
    let browser: Awaited<ReturnType<typeof logIn>>['browser'] | undefined;
    await checkOneRoundTrip(t, async () => {
      browser = (await logIn(bed)).browser;
    });
    for (const prompt of [undefined, 'none'] as const) {
      await checkOneRoundTrip(t, async () => {
        const request = await authorizationRequest(bed.rp, prompt ? { prompt } : {});
        const landing = await browser!.follow(request.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
        await landing.response.body?.cancel();
        t.truthy(landing.url.searchParams.get('code'), `${prompt ?? 'sso'}: a code`);
      });
    }
  },
);
