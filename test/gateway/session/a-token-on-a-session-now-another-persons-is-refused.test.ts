/**
 * Two people logging in on two tabs of one browser at once leave one session, the last saved person's, and the
 * other person's tokens were issued on it. oidc-provider refuses those that end with the session (their account is
 * not the session's); the token guard refuses the others too (an `offline_access` refresh token, an access token
 * read back through the session store), with `SESSION_OF_ANOTHER_PERSON`, audited. The session's own person's
 * tokens, and tokens of a session that names no person, are untouched: a mismatch as Redis has it is confirmed in
 * PostgreSQL (after a merge Redis may hold the copy that lost for a moment).
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

async function tokenOn(model: 'AccessToken' | 'RefreshToken', id: string, sessionUid: string, accountId: string) {
  await fx.gateway.services.sessions.store.put({
    kind: model,
    id,
    payload: { jti: id, kind: model, sessionUid, accountId, clientId: 'demo-rp', grantId: `${id}-grant` },
    expiresIn: 60,
    grantId: `${id}-grant`,
    accountId,
  });
}

const found = (model: string, id: string) => fx.gateway.services.sessions.models.find(model, id);

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
  // (ann's is taken for the moment Redis holds her copy: the guard reads PostgreSQL only on a mismatch)
});
