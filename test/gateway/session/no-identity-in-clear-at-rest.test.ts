/**
 * Session data is sealed at rest: after a person's login (code redeemed, userinfo read), neither Redis nor
 * any PostgreSQL table holds their given name, birthdate or e-mail address in clear (nor as hex, as a
 * bytea column would show it). The scanner is first shown to find a planted value in both stores.
 *
 * And the DEK under which sessions are sealed rotates after 24 hours without logging anyone out: the
 * records sealed before still open (the retired DEK is kept), new records are sealed under the new one.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import pg from 'pg';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { logIn, redeem, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';

const SECRETS = ['Jean Pierre', '1962-11-03', 'jean.martin@example.org'];

let bed: SessionBed;
let redis: Redis;
let db: pg.Client;
test.before(async () => {
  bed = await startSessionBed();
  redis = new Redis(bed.redis.url);
  db = new pg.Client({ connectionString: bed.pgUrl });
  await db.connect();
});
test.after.always(async () => {
  redis?.disconnect();
  await db?.end();
  await bed?.stop();
});

/** Every value Redis holds, as text. */
async function redisText(): Promise<string> {
  const parts: string[] = [];
  for (const key of await redis.keys('*')) {
    const type = await redis.type(key);
    if (type === 'string') parts.push(key, (await redis.get(key)) ?? '');
    else if (type === 'hash') parts.push(key, JSON.stringify(await redis.hgetall(key)));
    else if (type === 'list') parts.push(key, ...(await redis.lrange(key, 0, -1)));
    else if (type === 'set') parts.push(key, ...(await redis.smembers(key)));
    else if (type === 'zset') parts.push(key, ...(await redis.zrange(key, 0, -1)));
    else if (type === 'stream') parts.push(key, JSON.stringify(await redis.xrange(key, '-', '+')));
    else throw new Error(`unscanned Redis type ${type} of ${key}`);
  }
  return parts.join('\n');
}

/** Every row of every table of the database, as text. */
async function postgresText(): Promise<string> {
  const { rows: tables } = await db.query<{ name: string }>(
    "select quote_ident(table_name) as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'",
  );
  const parts: string[] = [];
  for (const { name } of tables) {
    const { rows } = await db.query<{ row: string }>(`select t::text as row from ${name} t`);
    parts.push(...rows.map((r) => r.row));
  }
  return parts.join('\n');
}

function found(text: string): string[] {
  const lower = text.toLowerCase();
  return SECRETS.filter((s) => lower.includes(s.toLowerCase()) || lower.includes(Buffer.from(s).toString('hex')));
}

test.serial('the scanner finds a planted identity in Redis and in PostgreSQL', async (t) => {
  await redis.set('probe', JSON.stringify({ given_name: SECRETS[0] }));
  t.deepEqual(found(await redisText()), [SECRETS[0]]);
  await redis.del('probe');
  await db.query('create table probe (b bytea)');
  await db.query('insert into probe values ($1)', [Buffer.from(SECRETS[1]!)]);
  t.deepEqual(found(await postgresText()), [SECRETS[1]]);
  await db.query('drop table probe');
});

test.serial(
  'after a login, no given name, birthdate or e-mail address is in Redis or PostgreSQL in clear',
  async (t) => {
    const person = await logIn(bed);
    const claims = (await userinfo(bed.url, person.accessToken)).claims;
    t.is(claims?.given_name, SECRETS[0], 'the RP does get the identity');
    t.is(claims?.birthdate, SECRETS[1]);
    const text = await redisText();
    if (found(text).length)
      t.log(
        text
          .split('\n')
          .filter((l, i, all) => found(l).length || found(all[i + 1] ?? '').length)
          .join('\n')
          .slice(0, 3000),
      );
    t.deepEqual(found(text), [], 'Redis');
    t.deepEqual(found(await postgresText()), [], 'PostgreSQL');
    const { rows } = await db.query<{ sealed: string }>("select sealed from session_records where kind = 'Identity'");
    t.true(rows.length > 0 && rows.every((r) => /^s1\.\d+\./.test(r.sealed)), 'the identity is stored, sealed');
  },
);

test.serial('the session DEK rotates after 24 hours and nobody is logged out', async (t) => {
  const person = await logIn(bed);
  const { rotation, hierarchy } = bed.gateway.services.sessions;
  const first = hierarchy.activeVersion;
  t.is(await rotation.check(), null, 'a fresh DEK is not rotated');
  const rotated = await rotation.check(new Date(Date.now() + 25 * 3600_000));
  t.is(rotated, first + 1);
  t.is(hierarchy.activeVersion, first + 1);
  const { rows: deks } = await db.query<{ version: number; state: string; kek_id: string }>(
    "select version, state, kek_id from dek_records where domain = 'gateway' order by version",
  );
  t.deepEqual(
    deks.map((d) => d.state),
    [...deks.slice(0, -1).map(() => 'retired'), 'active'],
    'the old DEK is kept, retired',
  );

  // records sealed under the old DEK still open, also when they come from PostgreSQL
  await redis.flushall();
  t.is((await userinfo(bed.url, person.accessToken)).claims?.given_name, SECRETS[0]);
  // the session goes on (SSO) and what is written now is sealed under the new DEK
  const request = await authorizationRequest(bed.rp, { prompt: 'none' });
  const hop = await person.browser.follow(request.url, {}, (u) => u.toString().startsWith(RP_REDIRECT));
  await hop.response.body?.cancel();
  const code = hop.url.searchParams.get('code');
  t.truthy(code, `SSO after the rotation: ${hop.url}`);
  const tokens = await redeem(bed, code!, request.verifier);
  t.is((await userinfo(bed.url, tokens.access_token)).claims?.given_name, SECRETS[0]);
  const { rows } = await db.query<{ dek_version: number }>(
    "select distinct dek_version from session_records where valid_to is null and kind in ('Session', 'AccessToken') order by 1",
  );
  t.deepEqual(
    rows.map((r) => r.dek_version),
    [first, first + 1],
  );
});
