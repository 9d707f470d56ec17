/**
 * Redis is the hot tier only: a FLUSHALL (or a restart that lost its data) in the middle of a session
 * loses nothing. After the flush, the person's access token still answers at userinfo, and the same
 * browser still gets a code from its gateway session (SSO, `prompt=none`): both are read back from
 * PostgreSQL (`source: db`, counted in gateway_session_reads_total) and Redis is warmed again, so the next
 * read is a cache hit. Also measured (logged, not asserted): Redis bytes per live session.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { eventually } from '../../helpers/eventually.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { logIn, redeem, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

async function reads(source: 'cache' | 'db', kind: string): Promise<number> {
  const text = await (
    await fetch(`${bed.opsUrl}/metrics`, {
      headers: { authorization: `Bearer ${bed.deployment.operatorTokens.alice}` },
    })
  ).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`gateway_session_reads_total{kind="${kind}",source="${source}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function settle(redis: Redis, pattern: string): Promise<string[]> {
  // the re-warm is asynchronous (not awaited by the read): wait until the keys are back
  let keys: string[] = [];
  await eventually(async () => (keys = await redis.keys(pattern)).length > 0);
  return keys;
}

test.serial('after FLUSHALL the access token still answers at userinfo and the browser still gets SSO', async (t) => {
  const redis = new Redis(bed.redis.url);
  t.teardown(() => redis.disconnect());
  const person = await logIn(bed);
  t.is((await userinfo(bed.url, person.accessToken)).claims?.given_name, 'Jean Pierre');

  // measured: what one live session costs in Redis (the records of the session store, by kind)
  let bytes = 0;
  const sizes: Record<string, number> = {};
  for (const key of await redis.keys('gw:s2*')) {
    const used = Number(await redis.memory('USAGE', key));
    const kind = key.startsWith('gw:s2:') ? ((await redis.hget(key, 'k')) ?? '?') : key.slice(3, 6);
    sizes[kind] = (sizes[kind] ?? 0) + used;
    bytes += used;
  }
  let all = 0;
  for (const key of await redis.keys('gw:*')) all += Number(await redis.memory('USAGE', key));
  t.log(
    `Redis bytes for one person's session: ${bytes} in the session store (${JSON.stringify(sizes)}); ${all} for every key of the deployment`,
  );

  // one transaction: a background writer of the gateway (the IdP status, every 30 s) cannot land in between
  t.deepEqual(await redis.multi().flushall().keys('*').exec(), [
    [null, 'OK'],
    [null, []],
  ]);
  const dbReadsBefore = await reads('db', 'AccessToken');

  const after = await userinfo(bed.url, person.accessToken);
  t.is(after.status, 200, `userinfo after the flush: ${after.wwwAuthenticate}`);
  t.is(after.claims?.given_name, 'Jean Pierre');
  t.is(after.claims?.birthdate, '1962-11-03');
  t.true((await reads('db', 'AccessToken')) > dbReadsBefore, 'the token was read from PostgreSQL');
  t.true((await settle(redis, 'gw:s2:*')).length > 0, 'Redis was warmed again');
  const cacheBefore = await reads('cache', 'AccessToken');
  t.is((await userinfo(bed.url, person.accessToken)).status, 200);
  t.true((await reads('cache', 'AccessToken')) > cacheBefore, 'the next read is a cache hit');

  // the same browser, the same RP, silently: the gateway session answers (read back from PostgreSQL)
  await redis.flushall();
  const request = await authorizationRequest(bed.rp, { prompt: 'none' });
  const hop = await person.browser.follow(request.url, {}, (u) => u.toString().startsWith(RP_REDIRECT));
  await hop.response.body?.cancel();
  const code = hop.url.searchParams.get('code');
  t.truthy(code, `SSO after the flush: ${hop.url}`);
  const tokens = await redeem(bed, code!, request.verifier);
  t.is((await userinfo(bed.url, tokens.access_token)).claims?.given_name, 'Jean Pierre');
});

test.serial('expired partitions of the durable tier are dropped by the retention function', async (t) => {
  const sessions = bed.gateway.services.sessions;
  const {
    rows: [before],
  } = await bed.gateway.services.pool.query<{ n: string }>(
    "select count(*) as n from pg_inherits where inhparent = 'session_records'::regclass",
  );
  t.true(Number(before!.n) > 2, 'daily partitions were made at boot');
  // 40 days on, every partition made today has expired longer than the retention ago
  const dropped = await sessions.maintain(new Date(Date.now() + 40 * 86_400_000));
  t.true(dropped.length > 0);
  for (const name of dropped) t.regex(name, /^session_records_\d{8}$/);
  const {
    rows: [left],
  } = await bed.gateway.services.pool.query<{ n: string }>('select count(*) as n from session_records');
  t.is(Number(left!.n), 0);
});
