/**
 * Issue #12 item 7: Shared Signals. The demo RP registers a receiver (`ssf: { endpoint, events }`); a real
 * receiver (an HTTP server in this test) verifies every SET with jose against the gateway's `/jwks`
 * (found through `/.well-known/ssf-configuration`), as an RP would:
 *
 * - `typ: secevent+jwt`, `iss` = the issuer, `aud` = the RP's client_id, `jti`, `iat`, no `sub`, one event;
 *   `sub_id` is the RP's view: its pairwise `sub` (the ID token's) and its `sid`;
 * - CAEP `session-revoked` on an operator revocation (`initiating_entity: admin`), a refresh-token reuse
 *   (`system`), a late-verdict-style policy revocation (`policy`) and an RP-initiated logout (`user`);
 * - CAEP `assurance-level-change` when a login in the same session, by the same person, changes its `acr`
 *   (oidc-provider's `Session#loginAccount` on the running provider; see the note on that test);
 * - delivery per RFC 8935: `application/secevent+jwt`, 202 expected; a 503 is retried (delivered on the
 *   second attempt); a 400 `{ "err": "invalid_audience" }` is not retried and is audited with its `err`;
 *   each outcome audited and counted in `gateway_ssf_deliveries_total`;
 * - the SETs one occurrence sends to the RPs of a session each have their own `txn`: a shared one let two RPs join
 *   their pairwise subjects on it.
 */
import test from 'ava';
import { createServer, type Server } from 'node:http';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { freePort } from '../../harness/services/free-port.ts';
import { eventually } from '../../helpers/eventually.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { logIn, logOutAtTheRp, startSessionBed, type SessionBed } from '../session/session-bed.ts';

const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const ASSURANCE = 'https://schemas.openid.net/secevent/caep/event-type/assurance-level-change';
/** A second RP with the same receiver: in a session only when a test adds it there. */
const OTHER_RP = 'rp-other';

let bed: SessionBed;
let receiver: Server;
/** Verified SETs, in arrival order. */
const received: JWTPayload[] = [];
/** Requests as they arrived (content type, accept). */
const requests: Array<{ type: string | undefined; accept: string | undefined }> = [];
/** The answers of the next deliveries (default 202). */
const answers: Array<{ status: number; body?: string }> = [];

test.before(async () => {
  const port = await freePort();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ type: req.headers['content-type'], accept: req.headers.accept });
      const answer = answers.shift() ?? { status: 202 };
      if (answer.status !== 202) {
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body ?? '');
        return;
      }
      verified(Buffer.concat(chunks).toString('utf8')).then(
        (payload) => {
          received.push(payload);
          res.writeHead(202).end();
        },
        () => res.writeHead(400, { 'content-type': 'application/json' }).end('{"err":"invalid_key"}'),
      );
    });
  });
  await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
  bed = await startSessionBed({
    rpSsf: { endpoint: `http://127.0.0.1:${port}/caep`, events: [SESSION_REVOKED, ASSURANCE] },
    moreClients: [{ client_id: OTHER_RP }],
  });
});
test.after.always(async () => {
  await bed?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
async function verified(jwt: string): Promise<JWTPayload> {
  if (!jwks) {
    const config = (await (await fetch(`${bed.url}/.well-known/ssf-configuration`)).json()) as { jwks_uri: string };
    jwks = createRemoteJWKSet(new URL(config.jwks_uri));
  }
  if (decodeProtectedHeader(jwt).typ !== 'secevent+jwt') throw new Error('not a SET');
  const { payload } = await jwtVerify(jwt, jwks, {
    issuer: bed.deployment.rawConfig.issuer as string,
    audience: [bed.deployment.client.client_id, OTHER_RP],
    typ: 'secevent+jwt',
  });
  return payload;
}

function event(set: JWTPayload): { type: string; claims: Record<string, unknown> } {
  const events = set.events as Record<string, Record<string, unknown>>;
  const types = Object.keys(events);
  if (types.length !== 1) throw new Error(`a SET with ${types.length} events`);
  return { type: types[0]!, claims: events[types[0]!]! };
}

async function counted(outcome: string): Promise<number> {
  const text = await bed.gateway.services.metrics.registry.getSingleMetricAsString('gateway_ssf_deliveries_total');
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.includes('client="demo-rp"') && l.includes('event="session-revoked"') && l.includes(`outcome="${outcome}"`),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

test.serial(
  'the transmitter configuration names the issuer, the JWKS, push delivery and the CAEP events',
  async (t) => {
    const response = await fetch(`${bed.url}/.well-known/ssf-configuration`);
    t.is(response.status, 200);
    t.like(await response.json(), {
      spec_version: '1_0',
      issuer: bed.deployment.rawConfig.issuer,
      jwks_uri: `${bed.deployment.rawConfig.issuer as string}/jwks`,
      delivery_methods_supported: ['urn:ietf:rfc:8935'],
      events_supported: [SESSION_REVOKED, ASSURANCE],
    });
  },
);

test.serial('an operator revocation sends session-revoked, signed, with the RP’s sub and sid', async (t) => {
  const person = await logIn(bed);
  received.length = 0;
  requests.length = 0;
  const before = await counted('delivered');
  await bed.gateway.services.sessions.revoker.revokeSession(
    { sid: person.sid },
    { actor: 'operator:alice', reason: 'stolen laptop' },
  );
  t.is(received.length, 1, 'delivered before the revocation call returned');
  const set = received[0]!;
  t.is(set.sub, undefined, 'SSF: no sub claim');
  t.is(typeof set.jti, 'string');
  t.is(typeof set.iat, 'number');
  t.is(set.exp, undefined);
  t.deepEqual(set.sub_id, {
    format: 'complex',
    user: { format: 'iss_sub', iss: bed.deployment.rawConfig.issuer, sub: person.sub },
    session: { format: 'opaque', id: person.sid },
  });
  const { type, claims } = event(set);
  t.is(type, SESSION_REVOKED);
  t.is(claims.initiating_entity, 'admin');
  t.is(typeof claims.event_timestamp, 'number');
  t.false(JSON.stringify(set).includes('stolen laptop'), 'the operator’s reason stays with us');
  t.deepEqual(requests, [{ type: 'application/secevent+jwt', accept: 'application/json' }]);
  t.is(await counted('delivered'), before + 1);
  const { rows } = await bed.gateway.services.pool.query<{ details: { jti: string; attempts: number } }>(
    "select details from audit_log where to_state = 'SSF_EVENT_DELIVERED' order by id desc limit 1",
  );
  t.like(rows[0]?.details, { jti: set.jti, attempts: 1 });
});

test.serial('a reused refresh token and a policy revocation send session-revoked too', async (t) => {
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  const { client_id, client_secret } = bed.deployment.client;
  const token = async (body: Record<string, string>) =>
    (await (
      await fetch(`${bed.url}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`,
        },
        body: new URLSearchParams(body),
      })
    ).json()) as Record<string, string>;
  const first = await token({
    grant_type: 'authorization_code',
    code: journey.url.searchParams.get('code')!,
    redirect_uri: RP_REDIRECT,
    code_verifier: request.verifier,
  });
  received.length = 0;
  await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! });
  await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! }); // the reuse
  t.true(await eventually(() => received.length === 1));
  t.like(event(received[0]!), { type: SESSION_REVOKED, claims: { initiating_entity: 'system' } });

  const person = await logIn(bed);
  received.length = 0;
  await bed.gateway.services.sessions.revoker.revokeSession({ sid: person.sid }, { actor: 'fraud', reason: 'late' });
  t.like(event(received[0]!), { type: SESSION_REVOKED, claims: { initiating_entity: 'policy' } });
});

test.serial('RP-initiated logout sends session-revoked (initiating_entity user)', async (t) => {
  const session = await logIn(bed);
  received.length = 0;
  const { url, atPlru } = await logOutAtTheRp(bed, session);
  t.true(atPlru, `ended at ${url}`);
  t.true(await eventually(() => received.length === 1));
  const set = received[0]!;
  t.like(event(set), { type: SESSION_REVOKED, claims: { initiating_entity: 'user' } });
  t.like(set.sub_id, { user: { sub: session.sub }, session: { id: session.sid } });
});

test.serial('a login in the same session at another acr sends assurance-level-change', async (t) => {
  // The demo IdP asserts one fixed LoA per person, so no end-to-end login here can change a session's acr;
  // the running provider's Session#loginAccount (what oidc-provider calls when a login in an existing
  // session completes) is driven directly, on a session of a real login.
  const person = await logIn(bed);
  const provider = bed.gateway.services.holder.provider;
  const found = await bed.gateway.services.sessions.store.findSession<{ jti: string }>('sid', person.sid);
  const session = (await provider.Session.find(found!.payload.jti))!;
  t.is(session.acr, 'eidas3');
  received.length = 0;
  session.loginAccount({ accountId: session.accountId!, acr: 'eidas2', loginTs: Math.floor(Date.now() / 1000) });
  t.true(await eventually(() => received.length === 1));
  const set = received[0]!;
  t.like(event(set), {
    type: ASSURANCE,
    claims: {
      namespace: 'eIDAS',
      current_level: 'eidas2',
      previous_level: 'eidas3',
      change_direction: 'decrease',
      initiating_entity: 'user',
    },
  });
  t.like(set.sub_id, { user: { sub: person.sub }, session: { id: person.sid } });
  received.length = 0;
  session.loginAccount({ accountId: session.accountId!, acr: 'eidas2', loginTs: Math.floor(Date.now() / 1000) });
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.is(received.length, 0, 'the same acr again is no change');
});

test.serial('a 503 is retried; a 400 with err is not retried, and is audited with its err', async (t) => {
  const person = await logIn(bed);
  received.length = 0;
  requests.length = 0;
  answers.push({ status: 503 });
  await bed.gateway.services.sessions.revoker.revokeSession({ sid: person.sid }, { actor: 'operator:a', reason: 'r' });
  t.is(requests.length, 2);
  t.is(received.length, 1, 'delivered on the second attempt');

  const next = await logIn(bed);
  requests.length = 0;
  const rejected = await counted('rejected');
  answers.push({ status: 400, body: '{"err":"invalid_audience","description":"not for us"}' });
  await bed.gateway.services.sessions.revoker.revokeSession({ sid: next.sid }, { actor: 'operator:a', reason: 'r' });
  t.is(requests.length, 1, 'a refused SET is not sent again');
  t.is(await counted('rejected'), rejected + 1);
  const { rows } = await bed.gateway.services.pool.query<{ error_code: string; details: Record<string, unknown> }>(
    "select error_code, details from audit_log where to_state = 'SSF_EVENT_FAILED' order by id desc limit 1",
  );
  t.is(rows[0]?.error_code, 'SSF_EVENT_REJECTED');
  t.like(rows[0]?.details, { status: 400, err: 'invalid_audience', attempts: 1 });
});

test.serial('each RP of a session gets its own txn: two RPs cannot join their pairwise subjects on it', async (t) => {
  const person = await logIn(bed);
  // the session gains a second RP, as an SSO to it would: its grant and its sid
  const { store, models, revoker } = bed.gateway.services.sessions;
  type Stored = { jti: string; accountId: string; authorizations: Record<string, unknown> };
  await runWithRequestMemo(async () => {
    const found = await store.findSession<Stored>('sid', person.sid);
    const current = (await models.find('Session', found!.payload.jti)) as Stored;
    const grant = `grant-other-${Date.now()}`;
    await models.upsert(
      'Grant',
      grant,
      { jti: grant, kind: 'Grant', accountId: current.accountId, clientId: OTHER_RP },
      3600,
    );
    const authorizations = { ...current.authorizations, [OTHER_RP]: { sid: 'sid-other', grantId: grant } };
    await models.upsert('Session', current.jti, { ...current, authorizations }, 3600);
  });
  received.length = 0;
  await revoker.revokeSession({ sid: person.sid }, { actor: 'operator:alice', reason: 'two rps' });
  t.true(await eventually(() => received.length === 2), `${received.length} SETs`);
  t.deepEqual(received.map((set) => set.aud).sort(), [bed.deployment.client.client_id, OTHER_RP].sort());
  const [first, second] = received.map((set) => set.txn);
  t.regex(String(first), /^[A-Za-z0-9_-]{22}$/);
  t.regex(String(second), /^[A-Za-z0-9_-]{22}$/);
  t.not(first, second, 'no value common to both RPs');
});
