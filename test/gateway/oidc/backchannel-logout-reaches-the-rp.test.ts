/**
 * Issue #12 item 6 (first half): OpenID Connect Back-Channel Logout 1.0. When a session is revoked, every RP
 * of the session with a registered `backchannel_logout_uri` receives a logout token signed by a key of the
 * gateway's JWKS (events, sid, pairwise sub, aud = client_id, no nonce); a failing endpoint is retried with
 * backoff; every outcome is audited.
 */
import test from 'ava';
import { createServer, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { eventually } from '../../helpers/eventually.ts';
import { freePort } from '../../harness/services/free-port.ts';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { logIn, logOutAtTheRp, startSessionBed, type SessionBed } from '../session/session-bed.ts';

/** A second RP with the same back-channel URI (the RP another tab logs in to while a logout runs). */
const LATE_RP = 'rp-late';
let bed: SessionBed;
let receiver: Server;
const received: string[] = [];
/** How many of the next deliveries the RP answers 503 (the retry test). */
let failNext = 0;

test.before(async () => {
  const port = await freePort();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failNext > 0) {
        failNext -= 1;
        res.writeHead(503).end();
        return;
      }
      const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('logout_token');
      if (token) received.push(token);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
  bed = await startSessionBed({
    rpBackchannelLogoutUri: `http://127.0.0.1:${port}/backchannel`,
    moreClients: [{ client_id: LATE_RP }],
  });
});
test.after.always(async () => {
  await bed?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

async function verified(token: string, audience = bed.deployment.client.client_id): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${bed.url}/jwks`)), {
    issuer: bed.deployment.rawConfig.issuer as string,
    audience,
    typ: 'logout+jwt',
  });
  return payload;
}

test.serial('discovery advertises back-channel logout with sid', async (t) => {
  const d = bed.rp.serverMetadata();
  t.is(d.backchannel_logout_supported, true);
  t.is(d.backchannel_logout_session_supported, true);
});

test.serial('revoking a session sends the RP a signed logout token naming the session', async (t) => {
  const session = await logIn(bed);
  received.length = 0;
  await bed.gateway.services.sessions.revoker.revokeSession(
    { sid: session.sid },
    { actor: 'test', reason: 'back-channel' },
  );
  t.is(received.length, 1);
  const claims = await verified(received[0]!);
  t.is(claims.sid, session.sid);
  t.is(claims.sub, session.sub);
  t.deepEqual(claims.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
  t.is(claims.nonce, undefined);
  t.is(typeof claims.jti, 'string');
  const audited = await bed.gateway.services.pool.query<{ details: { clientId: string; attempts: number } }>(
    "select details from audit_log where to_state = 'BACKCHANNEL_LOGOUT_DELIVERED' order by id desc limit 1",
  );
  t.is(audited.rows[0]?.details.attempts, 1);
});

test.serial('a failing back-channel endpoint is retried, and the outcome audited', async (t) => {
  const session = await logIn(bed);
  received.length = 0;
  failNext = 1;
  await bed.gateway.services.sessions.revoker.revokeSession({ sid: session.sid }, { actor: 'test', reason: 'retry' });
  t.is(received.length, 1);
  t.is((await verified(received[0]!)).sid, session.sid);
  const audited = await bed.gateway.services.pool.query<{ details: { attempts: number } }>(
    "select details from audit_log where to_state = 'BACKCHANNEL_LOGOUT_DELIVERED' order by id desc limit 1",
  );
  t.is(audited.rows[0]?.details.attempts, 2);

  const next = await logIn(bed);
  failNext = 10;
  await bed.gateway.services.sessions.revoker.revokeSession({ sid: next.sid }, { actor: 'test', reason: 'down' });
  failNext = 0;
  const failed = await bed.gateway.services.pool.query<{ n: string }>(
    "select count(*) as n from audit_log where error_code = 'BACKCHANNEL_LOGOUT_FAILED'",
  );
  t.is(Number(failed.rows[0]!.n), 1);
});

test.serial('RP-initiated logout sends the RP a logout token for the session', async (t) => {
  const session = await logIn(bed);
  received.length = 0;
  const { url, atPlru } = await logOutAtTheRp(bed, session);
  t.true(atPlru, `ended at ${url}`);
  t.is(received.length, 1);
  const claims = await verified(received[0]!);
  t.is(claims.sid, session.sid);
  t.is(claims.sub, session.sub);
});

test.serial('RP-initiated logout also tells an RP another request added to the session while it ran', async (t) => {
  const session = await logIn(bed);
  const { store, models } = bed.gateway.services.sessions;
  type Stored = { uid: string; jti: string; authorizations: Record<string, unknown> };
  const found = await runWithRequestMemo(() => store.findSession<Stored>('sid', session.sid));
  const { uid, jti } = found!.payload;
  const sessionKey = store.keys.key('Session', uid);
  // an SSO to another RP in another tab commits after the logout read the session, just before its end of it
  const end = store.end.bind(store);
  const lateGrant = `grant-late-${Date.now()}`;
  let added = false;
  store.end = async (recordKeys, lookups) => {
    if (!added && recordKeys.some((k) => k.equals(sessionKey))) {
      added = true;
      await runWithRequestMemo(async () => {
        const current = (await models.find('Session', jti)) as Stored;
        const accountId = (current as Stored & { accountId: string }).accountId;
        await models.upsert('Grant', lateGrant, { jti: lateGrant, kind: 'Grant', accountId, clientId: LATE_RP }, 3600);
        const authorizations = { ...current.authorizations, [LATE_RP]: { sid: 'sid-late', grantId: lateGrant } };
        await models.upsert('Session', jti, { ...current, authorizations }, 3600);
      });
    }
    return end(recordKeys, lookups);
  };
  received.length = 0;
  try {
    const { url, atPlru } = await logOutAtTheRp(bed, session);
    t.true(atPlru, `ended at ${url}`);
  } finally {
    store.end = end;
  }
  t.true(added, 'the other request saved the session before the logout ended it');
  t.is(received.length, 2, 'a logout token for the RP the logout read, and one for the RP added meanwhile');
  const claims: Array<JWTPayload & { late?: true }> = await Promise.all(
    received.map((token) =>
      verified(token).catch(() => verified(token, LATE_RP).then((payload) => ({ ...payload, late: true as const }))),
    ),
  );
  const late = claims.find((c) => c.late);
  t.is(late?.sid, 'sid-late');
  t.is(late?.sub, session.sub, 'the person of the ended session (the same pairwise sector)');
  t.truthy(claims.find((c) => !c.late && c.sid === session.sid));
  const audited = await bed.gateway.services.pool.query<{ n: string }>(
    "select count(*) as n from audit_log where to_state = 'BACKCHANNEL_LOGOUT_DELIVERED' and details->>'clientId' = $1",
    [LATE_RP],
  );
  t.is(Number(audited.rows[0]!.n), 1);
  // its grant revoked, as the logout revoked the grants of the RPs it read
  t.is(await runWithRequestMemo(() => models.find('Grant', lateGrant)), undefined);
});

const SESSION_CLI = fileURLToPath(new URL('../../../gateway/session/cli.ts', import.meta.url));

test.serial('a revocation made with the session CLI reaches the RP: a running gateway tells it', async (t) => {
  const session = await logIn(bed);
  received.length = 0;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [SESSION_CLI, '--config', bed.deployment.configFile, '--reason', 'compromised', 'revoke', 'sid', session.sid],
    { env: { ...process.env, ...bed.deployment.env } },
  );
  t.like(JSON.parse(stdout), { sessions: 1, rps: 'queued' }, 'the CLI has no RP to tell: it leaves them queued');
  t.true(await eventually(() => received.length === 1), 'the gateway told the RP');
  t.is((await verified(received[0]!)).sid, session.sid);
  // marked told once the delivery's outcome is audited, a moment after the RP received it (a loaded machine: later)
  const waiting = async () =>
    (
      await bed.gateway.services.pool.query<{ waiting: number }>(
        'select count(*)::int as waiting from session_revocations where notified_at is null',
      )
    ).rows[0]!.waiting;
  t.true(await eventually(async () => (await waiting()) === 0), 'and marked told');
});

test.serial(
  'a revocation whose gateway stopped before telling its RPs is told by another once its lease ran out',
  async (t) => {
    const session = await logIn(bed);
    const { id } = await bed.gateway.services.sessions.revoker.revokeSession(
      { sid: session.sid },
      { actor: 'test', reason: 'lease' },
    );
    received.length = 0;
    // as a gateway leaves it that stopped midway: not told, its lease over
    await bed.gateway.services.pool.query(
      "update session_revocations set notified_at = null, notify_claimed_until = clock_timestamp() - interval '1 second' where id = $1",
      [id],
    );
    t.true(await eventually(() => received.length === 1), 'told by the sweeper');
    t.is((await verified(received[0]!)).sid, session.sid);
  },
);

test.serial('a revoked session that expired before its RPs were told is told all the same', async (t) => {
  const session = await logIn(bed);
  const { pool } = bed.gateway.services;
  const { id } = await bed.gateway.services.sessions.revoker.revokeSession(
    { sid: session.sid },
    { actor: 'test', reason: 'expired meanwhile' },
  );
  received.length = 0;
  // its gateway stopped before telling, and the session's own life ended since (the RP's may go on)
  const { rows: keys } = await pool.query<{ key: Buffer }>(
    `update session_records set expires_at = clock_timestamp() - interval '1 second'
     where record_key in (select unnest(record_keys) from session_revocations where id = $1) and valid_to is null
     returning record_key as key`,
    [id],
  );
  // and Redis no longer holds it (expired there too)
  for (const { key } of keys) await bed.gateway.services.redis.del(`s2:${key.toString('hex')}`);
  await pool.query(
    "update session_revocations set notified_at = null, notify_claimed_until = clock_timestamp() - interval '1 second' where id = $1",
    [id],
  );
  t.true(await eventually(() => received.length === 1), 'told by the sweeper');
  t.is((await verified(received[0]!)).sid, session.sid);
});

/** The account a session (by a sid it handed out) is of. */
async function accountOf(sid: string): Promise<string> {
  const { store } = bed.gateway.services.sessions;
  const found = await store.findSession('sid', sid);
  return (await store.open<{ accountId: string }>(found!.record)).accountId;
}

test.serial(
  'a revocation whose sessions could not be opened is not marked told: taken again later, only them',
  async (t) => {
    const first = await logIn(bed);
    const second = await logIn(bed);
    const { pool } = bed.gateway.services;
    t.not(first.sid, second.sid);
    // jean's two sessions, revoked together
    const { id } = await bed.gateway.services.sessions.revoker.revokeAllOfAccount(await accountOf(first.sid), {
      actor: 'test',
      reason: 'unreadable',
    });
    const { rows: keys } = await pool.query<{ key: Buffer; sid: string }>(
      'select record_key as key from session_records where record_key in (select unnest(record_keys) from session_revocations where id = $1) and valid_to is null',
      [id],
    );
    t.true(keys.length >= 2);
    const broken = keys[0]!.key;
    // one record the gateway cannot open (an error of ours, not the RP's), left by a gateway that stopped midway
    await pool.query(
      `update session_records set sealed = 'not a sealed record' where record_key = $1 and valid_to is null`,
      [broken],
    );
    await pool.query(
      `update session_revocations set notified_at = null, notify_attempts = 0, notify_claimed_by = null,
       notify_claimed_until = clock_timestamp() - interval '1 second' where id = $1`,
      [id],
    );
    type Row = { attempts: number; holder: string | null; told: Date | null; pending: Buffer[] | null; later: boolean };
    const row = async () =>
      (
        await pool.query<Row>(
          `select notify_attempts as attempts, notify_claimed_by as holder, notified_at as told,
           notify_pending as pending, notify_claimed_until > clock_timestamp() + interval '30 seconds' as later
         from session_revocations where id = $1`,
          [id],
        )
      ).rows[0]!;
    t.true(await eventually(async () => (await row()).pending !== null), 'taken by a sweeper, and it failed');
    const after = await row();
    t.is(after.attempts, 1);
    t.truthy(after.holder);
    t.is(after.told, null, 'not marked told');
    t.deepEqual(after.pending, [broken], 'only the session not told is left to tell');
    t.true(after.later, 'taken again after a backoff (a minute), not at once');
    // out of the way of the tests after it
    await pool.query('update session_revocations set notified_at = clock_timestamp() where id = $1', [id]);
  },
);

test.serial('a revocation of a whole scope answers before its RPs are told, and they are told after', async (t) => {
  const session = await logIn(bed);
  received.length = 0;
  failNext = 1; // the RP's first answer is a 503: its delivery is retried after a backoff
  const result = await bed.gateway.services.sessions.revoker.revokeAllOfIdp('demo-idp', {
    actor: 'test',
    reason: 'idp compromised',
  });
  t.like(result, { rps: 'telling' });
  t.true(result.sessions >= 1);
  t.is(received.length, 0, 'the call did not wait for the RP');
  t.true(await eventually(() => received.some((token) => decodeJwt(token).sid === session.sid)));
  failNext = 0;
});
