/**
 * Versioned revocation across instances. Gateway A runs in this process, gateway B as a child process
 * (`node gateway/main.ts`), sharing PostgreSQL, the HSM token and a Redis server of this test's own.
 *
 * - revoking a session on A (by the `sid` its ID token carries) makes B refuse the session's access token
 *   at once, at userinfo (401 invalid_token) and introspection (`active: false`), audited with
 *   `SESSION_REVOKED`; the browser's session no longer answers (`prompt=none` → login_required);
 * - a revocation whose message no instance hears (published on a channel nobody listens to) is still
 *   enforced by B: the version check reads the session's version from the store;
 * - `invalidateTokens` keeps the session but every earlier token is refused (`SESSION_VERSION_STALE`);
 *   the session answers again and its new token is honoured;
 * - with Redis down, a revocation still lands in PostgreSQL (B, reading PostgreSQL, refuses meanwhile),
 *   and once Redis is back an instance applies the outbox and B still refuses;
 * - a revocation made by an instance that cannot reach Redis (while Redis and the others run, so Redis
 *   still says "active") reaches Redis through the outbox, applied by the instances' sync timers.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import * as oidc from 'openid-client';
import { pino } from 'pino';
import type { Deployment } from '../harness/deployment.ts';
import { freePort } from '../harness/services/free-port.ts';
import { type RedisHandle, startRedis, startRedisOnFreePort } from '../harness/services/redis.ts';
import { eventually, eventuallyOrThrow } from '../helpers/eventually.ts';
import { authorizationRequest, RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { startTwoGateways, type TwoGateways } from '../helpers/two-gateways.ts';
import { introspect, logIn, redeem, userinfo } from '../gateway/session/session-bed.ts';
import { LocalRevocations, RevocationFeed } from '../../gateway/session/revocation-feed.ts';
import { SessionRevoker } from '../../gateway/session/revocation.ts';
import { SessionStore } from '../../gateway/session/session-store.ts';
import { DurableTier } from '../../gateway/session/durable-tier.ts';
import { HotTier } from '../../gateway/session/hot-tier.ts';
import { RecordCipher } from '../../gateway/session/record-cipher.ts';
import type { KeyHierarchy } from '../../hsm/hierarchy/key-hierarchy.ts';

const cipherOf = (hierarchy: KeyHierarchy) => new RecordCipher(hierarchy);

const dir = mkdtempSync(join(tmpdir(), 'gw-revoke-'));
let redis: RedisHandle;
let redisPort: number;
let pair: TwoGateways<'in-process'>;
let deployment: Deployment;
let a: TwoGateways<'in-process'>['a'];
let b: TwoGateways<'in-process'>['b'];
let rp: oidc.Configuration;
let bedA: { url: string; deployment: Deployment; rp: oidc.Configuration };

test.before(async () => {
  redis = await startRedisOnFreePort(join(dir, 'redis'));
  redisPort = redis.port;
  pair = await startTwoGateways({
    name: 'gw-revoke-',
    dir,
    first: 'in-process',
    balanced: false,
    redis: { url: redis.url, keyPrefix: 'gw:' },
    rpRedirectUri: RP_REDIRECT,
    logLevel: 'silent',
  });
  ({ deployment, a, b } = pair);
  rp = await oidc.discovery(new URL(a.url), deployment.client.client_id, deployment.client.client_secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  bedA = { url: a.url, deployment, rp };
});
test.after.always(async () => {
  await pair?.stop();
  await redis?.stop();
});

/** B answers only for the issuer's host (as behind the deployment's load balancer). */
const issuerHost = () => new URL(deployment.gatewayUrl).host;

async function refusals(code: string): Promise<number> {
  const {
    rows: [row],
  } = await a.gateway.services.pool.query<{ n: string }>(
    "select count(*) as n from audit_log where to_state = 'TOKEN_REFUSED' and error_code = $1",
    [code],
  );
  return Number(row!.n);
}

async function silently(
  browser: Awaited<ReturnType<typeof logIn>>['browser'],
): Promise<{ url: URL; verifier: string }> {
  const request = await authorizationRequest(rp, { prompt: 'none' });
  const hop = await browser.follow(request.url, {}, (u) => u.toString().startsWith(RP_REDIRECT));
  await hop.response.body?.cancel();
  return { url: hop.url, verifier: request.verifier };
}

test.serial('a session revoked on A is refused on B at once, at userinfo and introspection', async (t) => {
  const person = await logIn(bedA);
  t.is((await userinfo(b.url, person.accessToken, issuerHost())).status, 200, 'B honours the token before');
  t.true(await introspect(b.url, deployment, person.accessToken, issuerHost()));
  const before = await refusals('SESSION_REVOKED');

  const result = await a.gateway.services.sessions.revoker.revokeSession(
    { sid: person.sid },
    { actor: 'operator:test', reason: 'test' },
  );
  t.like(result, { sessions: 1, propagated: true });

  const refused = await userinfo(b.url, person.accessToken, issuerHost());
  t.is(refused.status, 401);
  t.regex(refused.wwwAuthenticate ?? '', /invalid_token/);
  t.false(await introspect(b.url, deployment, person.accessToken, issuerHost()));
  t.is((await userinfo(a.url, person.accessToken)).status, 401, 'and on A');
  t.true((await refusals('SESSION_REVOKED')) >= before + 3, 'each refusal audited with its code');
  const { rows } = await a.gateway.services.pool.query(
    "select count(*) as n from audit_log where to_state = 'SESSION_REVOKED' and component = 'session'",
  );
  t.true(Number(rows[0].n) >= 1, 'the revocation is audited');
  t.is(
    (await silently(person.browser)).url.searchParams.get('error'),
    'login_required',
    'the browser session no longer answers',
  );
});

test.serial('a revocation nobody heard is caught by the version check', async (t) => {
  const person = await logIn(bedA);
  const sessions = a.gateway.services.sessions;
  // a revoker whose messages no gateway listens to: only the stores carry the news
  const client = new Redis(redis.url, { keyPrefix: 'gw:' });
  t.teardown(() => client.disconnect());
  const deaf = await RevocationFeed.start(
    client,
    'nobody-listens',
    new LocalRevocations(10, 60_000),
    pino({ level: 'silent' }),
  );
  t.teardown(() => deaf.close());
  const revoker = new SessionRevoker({
    store: sessions.store,
    feed: deaf,
    audit: a.gateway.services.audit,
    metrics: NO_METRICS,
  });

  const staleBefore = await refusals('SESSION_VERSION_STALE');
  t.like(await revoker.invalidateTokens({ sid: person.sid }, { actor: 'fraud', reason: 'late verdict' }), {
    sessions: 1,
  });
  t.is((await userinfo(b.url, person.accessToken, issuerHost())).status, 401, 'the token from before is stale');
  t.is(await refusals('SESSION_VERSION_STALE'), staleBefore + 1);
  // the session itself goes on: a new token, issued under the new version, is honoured
  const again = await silently(person.browser);
  t.truthy(again.url.searchParams.get('code'), `SSO after invalidateTokens: ${again.url}`);
  const fresh = await redeem(bedA, again.url.searchParams.get('code')!, again.verifier);
  t.is((await userinfo(b.url, fresh.access_token, issuerHost())).status, 200);

  t.like(await revoker.revokeSession({ sid: person.sid }, { actor: 'operator:test', reason: 'test' }), { sessions: 1 });
  t.is((await userinfo(b.url, fresh.access_token, issuerHost())).status, 401, 'revoked without a message');
});

test.serial(
  'with Redis down a revocation lands in PostgreSQL, is enforced meanwhile and after Redis returns',
  async (t) => {
    const person = await logIn(bedA);
    t.is((await userinfo(b.url, person.accessToken, issuerHost())).status, 200);
    const uid = await uidOf(person.sid);
    await redis.stop();
    const result = await a.gateway.services.sessions.revoker.revokeSession(
      { uid },
      { actor: 'operator:test', reason: 'redis down' },
    );
    t.like(result, { sessions: 1, propagated: false });
    const {
      rows: [pending],
    } = await a.gateway.services.pool.query<{ synced_at: Date | null }>(
      'select synced_at from session_revocations where id = $1',
      [result.id],
    );
    t.is(pending!.synced_at, null, 'not in Redis yet');
    t.is(
      (await userinfo(b.url, person.accessToken, issuerHost())).status,
      401,
      'B, reading PostgreSQL, refuses during the outage',
    );

    redis = await startRedis(join(dir, 'redis'), redisPort);
    t.true(await syncedEventually(result.id), 'an instance applied the outbox once Redis answered');
    t.is((await userinfo(b.url, person.accessToken, issuerHost())).status, 401, 'B refuses after');
    t.false(await introspect(b.url, deployment, person.accessToken, issuerHost()));
  },
);

test.serial('a revocation made while its instance cannot reach Redis reaches Redis through the outbox', async (t) => {
  // after the restart above: Redis commands fail fast while a client reconnects (FLOW_STORE_UNAVAILABLE), so
  // the login below waits for A's client to be back
  await eventuallyOrThrow(() => a.gateway.services.redis.status === 'ready', "A's Redis client to reconnect");
  const person = await logIn(bedA);
  const uid = await uidOf(person.sid);
  // a revoker cut off from Redis (a dead port) while Redis and the other instances run: Redis keeps the
  // session active until the outbox is applied by an instance's sync timer
  const sessions = a.gateway.services.sessions;
  const cutOff = new Redis(`redis://127.0.0.1:${await freePort()}`, {
    keyPrefix: 'gw:',
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    lazyConnect: true,
  });
  cutOff.on('error', () => undefined);
  t.teardown(() => cutOff.disconnect());
  const store = new SessionStore({
    keys: sessions.store.keys,
    hot: new HotTier(cutOff, 100),
    durable: new DurableTier(a.gateway.services.pool), // a tier of its own: a durable tier serves one store
    cipher: cipherOf(sessions.hierarchy),
    logger: pino({ level: 'silent' }),
    metrics: NO_METRICS,
  });
  const client = new Redis(redis.url, { keyPrefix: 'gw:' });
  t.teardown(() => client.disconnect());
  const feed = await RevocationFeed.start(
    client,
    'nobody-listens',
    new LocalRevocations(10, 60_000),
    pino({ level: 'silent' }),
  );
  t.teardown(() => feed.close());
  const revoker = new SessionRevoker({ store, feed, audit: a.gateway.services.audit, metrics: NO_METRICS });

  const result = await revoker.revokeSession({ uid }, { actor: 'operator:test', reason: 'partition' });
  t.like(result, { sessions: 1, propagated: false });
  t.true(await syncedEventually(result.id), 'applied by an instance that reaches Redis');
  const held = await client.hmget(`s2:${sessions.store.keys.hex('Session', uid)}`, 'v', 'st');
  t.deepEqual(held, ['2', 'revoked'], 'Redis has the revocation');
  t.is((await userinfo(b.url, person.accessToken, issuerHost())).status, 401);
});

const NO_METRICS = {
  read: () => undefined,
  refused: () => undefined,
  revoked: () => undefined,
  merged: () => undefined,
};

async function syncedEventually(id: string): Promise<boolean> {
  return eventually(async () => {
    const {
      rows: [row],
    } = await a.gateway.services.pool.query<{ synced_at: Date | null }>(
      'select synced_at from session_revocations where id = $1',
      [id],
    );
    return Boolean(row?.synced_at);
  });
}

/** The session uid behind a sid (what an operator finds from the sid an RP reports). */
async function uidOf(sid: string): Promise<string> {
  const found = await a.gateway.services.sessions.store.findSession<{ uid: string }>('sid', sid);
  if (!found) throw new Error('no session for this sid');
  return found.payload.uid;
}
