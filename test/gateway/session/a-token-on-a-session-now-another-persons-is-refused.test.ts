/**
 * Two people logging in on two tabs of one browser at once leave one session, the last saved person's, and the
 * other person's tokens were issued on it. oidc-provider refuses those that end with the session (their account is
 * not the session's); the token guard refuses the others too (an `offline_access` refresh token, an access token
 * read back through the session store), with `SESSION_OF_ANOTHER_PERSON`, audited. The session's own person's
 * tokens, and tokens of a session that names no person, are untouched: a mismatch as Redis has it is confirmed in
 * PostgreSQL (after a merge Redis may hold the copy that lost for a moment).
 *
 * A refused token's grant ends with it, so that it stays refused once the other person's session is gone. A rotated
 * refresh token of that person's presented again is a reuse that revokes nobody's session: the session it names is
 * another person's.
 */
import test from 'ava';
import { startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(() => fx?.stop());

async function sessionOf(uid: string, accountId: string | undefined): Promise<void> {
  await fx.gateway.services.sessions.store.put({
    kind: 'Session',
    id: uid,
    payload: { uid, kind: 'Session', ...(accountId ? { accountId } : {}), authorizations: {} },
    expiresIn: 60,
    lookupId: `${uid}-cookie`,
    sids: [],
    ...(accountId ? { accountId } : {}),
  });
}

async function tokenOn(
  model: 'AccessToken' | 'RefreshToken',
  id: string,
  sessionUid: string,
  accountId: string,
  { clientId = 'demo-rp', grantId = `${id}-grant` }: { clientId?: string; grantId?: string } = {},
) {
  await fx.gateway.services.sessions.store.put({
    kind: model,
    id,
    payload: { jti: id, kind: model, sessionUid, accountId, clientId, grantId },
    expiresIn: 60,
    grantId,
    accountId,
  });
}

/** The grant and its artefacts still current. */
async function grantLeft(grantId: string): Promise<number> {
  const store = fx.gateway.services.sessions.store;
  const grantKey = store.keys.key('Grant', grantId);
  return (await store.durable.keysOfGrant(grantKey)).length;
}

const grantsEnded = async (cause: string, clientId: string) =>
  (
    await fx.gateway.services.pool.query(
      "select 1 from audit_log where to_state = 'GRANT_ENDED' and error_code = $1 and details->>'clientId' = $2",
      [cause, clientId],
    )
  ).rowCount;

const found = (model: string, id: string) => fx.gateway.services.sessions.models.find(model, id);
const sessionState = async (uid: string) => {
  const store = fx.gateway.services.sessions.store;
  return (await store.durable.get(store.keys.key('Session', uid)))?.state;
};
const reusesOnAnotherPersonsSession = async (clientId: string) =>
  (
    await fx.gateway.services.pool.query(
      `select 1 from audit_log where error_code = 'REFRESH_TOKEN_REUSED' and details->>'clientId' = $1
         and details->>'sessionOfAnotherPerson' = 'true' and details->>'ends' = 'grant'`,
      [clientId],
    )
  ).rowCount;

for (const model of ['AccessToken', 'RefreshToken'] as const) {
  test(`a ${model} of a person whose session is now another person's is refused, audited`, async (t) => {
    await sessionOf(`race-${model}`, 'bob');
    await tokenOn(model, `ann-${model}`, `race-${model}`, 'ann');
    await tokenOn(model, `bob-${model}`, `race-${model}`, 'bob');
    t.is(await found(model, `ann-${model}`), undefined, "ann's token is refused");
    t.truthy(await found(model, `bob-${model}`), "bob's token stands");
    const { rows } = await fx.gateway.services.pool.query<{ model: string }>(
      "select details->>'model' as model from audit_log where to_state = 'TOKEN_REFUSED' and error_code = 'SESSION_OF_ANOTHER_PERSON'",
    );
    t.true(rows.some((r) => r.model === model));
  });
}

test('a token on a session that names no person is left to the other checks', async (t) => {
  await sessionOf('no-person', undefined);
  await tokenOn('AccessToken', 'cy-token', 'no-person', 'cy');
  t.truthy(await found('AccessToken', 'cy-token'));
});

test("the session's own person is not refused while Redis holds the other person's copy for a moment", async (t) => {
  // PostgreSQL: bob's session (the save that won); Redis: ann's copy (the one that lost, not yet evicted)
  await sessionOf('merge-window', 'bob');
  const store = fx.gateway.services.sessions.store;
  const key = store.keys.key('Session', 'merge-window');
  const durable = await store.durable.get(key);
  const annKey = store.keys.key('account', 'ann');
  await fx.gateway.services.sessions.store.hot.put({ ...durable!, accountKey: annKey });
  await tokenOn('RefreshToken', 'bob-window', 'merge-window', 'bob');
  t.truthy(await found('RefreshToken', 'bob-window'), "bob's token stands: PostgreSQL says the session is his");
  // (ann's is taken while Redis holds her copy: the guard reads PostgreSQL only on a mismatch. A merge's own late
  // copy of hers is older than the merged one since 0830, so this is left only when the merged write missed Redis)
});

test("a refused refresh token stays refused once the other person's session is gone (its grant ended)", async (t) => {
  await sessionOf('race-gone', 'bob');
  await tokenOn('RefreshToken', 'ann-gone', 'race-gone', 'ann');
  t.is(await found('RefreshToken', 'ann-gone'), undefined);
  // bob's session ended and its rows gone (as the retention's drop of old partitions leaves it)
  const store = fx.gateway.services.sessions.store;
  const key = store.keys.key('Session', 'race-gone');
  await store.end([key]);
  await fx.gateway.services.pool.query('delete from session_records where record_key = $1', [key]);
  await fx.gateway.services.pool.query('delete from session_record_heads where record_key = $1', [key]);
  t.is(await found('RefreshToken', 'ann-gone'), undefined, 'its grant ended with the refusal');
});

test("a refused token ends its whole grant, audited: the person's other tokens on it too", async (t) => {
  await sessionOf('race-family', 'bob');
  const family = { clientId: 'rp-family', grantId: 'ann-family-grant' };
  await tokenOn('AccessToken', 'ann-family-at', 'race-family', 'ann', family);
  await tokenOn('RefreshToken', 'ann-family-rt', 'race-family', 'ann', family);
  t.is(await grantLeft('ann-family-grant'), 2);
  t.is(await found('AccessToken', 'ann-family-at'), undefined);
  t.is(await grantLeft('ann-family-grant'), 0, 'the refresh token ended with the access token');
  t.is(await grantsEnded('SESSION_OF_ANOTHER_PERSON', 'rp-family'), 1);
  t.is(await found('RefreshToken', 'ann-family-rt'), undefined, 'presented later: not found (invalid_grant)');
  t.is(await sessionState('race-family'), 'active', "bob's session stands");
});

test("a token of a person whose session is now another person's and revoked still ends its grant", async (t) => {
  await sessionOf('race-revoked', 'bob');
  await tokenOn('RefreshToken', 'ann-revoked', 'race-revoked', 'ann', { clientId: 'rp-revoked' });
  await fx.gateway.services.sessions.revoker.revokeSession(
    { uid: 'race-revoked' },
    { actor: 'test', reason: "bob's session revoked" },
  );
  t.is(await found('RefreshToken', 'ann-revoked'), undefined);
  t.is(await grantLeft('ann-revoked-grant'), 0, 'ended: refused after the revoked row is gone too');
  t.is(await grantsEnded('SESSION_OF_ANOTHER_PERSON', 'rp-revoked'), 1);
});

test("a person's rotated refresh token presented again ends its family, not the session now another person's", async (t) => {
  // the reuse raced past the guard (oidc-provider's consume): the family's grant still had its next token
  await sessionOf('race-rotated', 'bob');
  const family = { clientId: 'rp-rotated', grantId: 'ann-rotated-grant' };
  await tokenOn('RefreshToken', 'ann-rotated', 'race-rotated', 'ann', family);
  await tokenOn('RefreshToken', 'ann-rotated-next', 'race-rotated', 'ann', family);
  t.true(await fx.gateway.services.sessions.models.consume('RefreshToken', 'ann-rotated'));
  t.false(await fx.gateway.services.sessions.models.consume('RefreshToken', 'ann-rotated'), 'a reuse');
  t.is(await sessionState('race-rotated'), 'active', "bob's session stands");
  t.is(await reusesOnAnotherPersonsSession('rp-rotated'), 1);
  t.is(await grantLeft('ann-rotated-grant'), 0, "the family's next refresh token ended");
  t.is(await grantsEnded('REFRESH_TOKEN_REUSED', 'rp-rotated'), 1);
});

test("the session's own person's rotated refresh token presented again revokes the session", async (t) => {
  await sessionOf('own-rotated', 'bob');
  await tokenOn('RefreshToken', 'bob-rotated', 'own-rotated', 'bob');
  t.true(await fx.gateway.services.sessions.models.consume('RefreshToken', 'bob-rotated'));
  t.truthy((await found('RefreshToken', 'bob-rotated'))?.consumed);
  t.is(await sessionState('own-rotated'), 'revoked');
});

test("a forged access-token JWT naming such a token's jti is refused before the guard: no grant ends", async (t) => {
  await sessionOf('race-forged', 'bob');
  await tokenOn('AccessToken', 'ann-forged', 'race-forged', 'ann', { clientId: 'rp-forged' });
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const forged = `${b64({ alg: 'RS256', typ: 'at+jwt' })}.${b64({ jti: 'ann-forged' })}.${b64('not a signature')}`;
  const userinfo = fx.rp.serverMetadata().userinfo_endpoint!;
  const response = await fetch(userinfo, { headers: { authorization: `Bearer ${forged}` } });
  t.is(response.status, 401);
  t.is(await grantLeft('ann-forged-grant'), 1, 'its grant stands: the token itself was not presented');
  t.is(await grantsEnded('SESSION_OF_ANOTHER_PERSON', 'rp-forged'), 0);
});
