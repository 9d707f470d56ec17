/**
 * A person who clicks the IdP twice (or reloads while the first request is being signed) is sent upstream by
 * both requests, as before the AUTHENTICATING claim went ahead of the signature (issue #14): the second request
 * meets the first one's claim (BUSY), signs its own AuthnRequest, and moves the login once the first has
 * committed — never a 409 page. Each move is audited once. Real HSM (its only session held, so that both
 * requests wait for it together), Redis and PostgreSQL.
 */
import test from 'ava';
import type { Pkcs11Token } from '../../../hsm/pkcs11/token.ts';
import { recordKey } from '../../../gateway/flow/login-record.ts';
import { authorizationRequest, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { Browser, formsIn } from '../../helpers/browser.ts';

test('two clicks on the IdP while the first is being signed: both post an AuthnRequest, both audited', async (t) => {
  const fx = await startGatewayFixture({
    boot: { fraud: { checkpointMs: 0 } },
    rawConfig: (raw) => {
      raw.hsm = { ...(raw.hsm as object), poolSize: 1 };
    },
  });
  let release: (() => void) | undefined;
  t.teardown(async () => {
    release?.();
    await fx.stop();
  });
  const browser = new Browser();
  const request = await authorizationRequest(fx.rp);
  const chooserStep = await browser.follow(request.url, {}, () => false);
  const chooser = formsIn(await chooserStep.response.text()).find((f) => f.action.endsWith('/idp'))!;
  const loginId = chooserStep.url.pathname.split('/')[2]!;

  // the HSM's only session held: the first click claims the login, then waits to be signed
  const token = (fx.gateway.services.keys as unknown as { tokens: { token: Pkcs11Token } }).tokens.token;
  const holding = token.run(() => new Promise<void>((resolve) => (release = resolve)));
  const first = browser.submit(chooser, chooserStep.url, { idp: 'demo-idp' }, () => false);
  const redis = fx.gateway.services.redis;
  for (let i = 0; i < 400 && !(await redis.hget(recordKey(loginId), 'pending')); i++)
    await new Promise((resolve) => setTimeout(resolve, 5));
  t.truthy(await redis.hget(recordKey(loginId), 'pending'), 'the first click holds the login');
  const second = browser.submit(chooser, chooserStep.url, { idp: 'demo-idp' }, () => false);
  await new Promise((resolve) => setTimeout(resolve, 100)); // the second click meets the claim
  release!();
  await holding;

  for (const step of await Promise.all([first, second])) {
    const html = await step.response.text();
    t.is(step.response.status, 200, html.slice(0, 300));
    t.true(
      formsIn(html).some((f) => f.fields.SAMLRequest !== undefined),
      'posts the AuthnRequest to the IdP',
    );
  }
  t.is((await fx.gateway.services.flow.get(loginId))?.state, 'AUTHENTICATING');
  const { rows } = await fx.gateway.services.pool.query<{ from_state: string | null; to_state: string }>(
    'select from_state, to_state from audit_log where session_id = $1 order by id',
    [loginId],
  );
  t.deepEqual(
    rows.map((r) => [r.from_state, r.to_state]),
    [
      [null, 'INITIATED'],
      ['INITIATED', 'AUTHENTICATING'],
      ['AUTHENTICATING', 'AUTHENTICATING'],
    ],
  );
});

test('a click that never gets the login (another request holds it throughout) keeps no pending request', async (t) => {
  const fx = await startGatewayFixture({ boot: { fraud: { checkpointMs: 0 } } });
  t.teardown(() => fx.stop());
  const browser = new Browser();
  const request = await authorizationRequest(fx.rp);
  const chooserStep = await browser.follow(request.url, {}, () => false);
  const chooser = formsIn(await chooserStep.response.text()).find((f) => f.action.endsWith('/idp'))!;
  const loginId = chooserStep.url.pathname.split('/')[2]!;
  const held = await fx.gateway.services.flow.claim(loginId, 'AUTHENTICATING'); // held past the click's patience
  const click = await browser.submit(chooser, chooserStep.url, { idp: 'demo-idp' }, () => false);
  const html = await click.response.text();
  await fx.gateway.services.flow.release(loginId, held);
  t.is(click.response.status, 409, html.slice(0, 300));
  t.false(
    formsIn(html).some((f) => f.fields.SAMLRequest !== undefined),
    'no AuthnRequest handed out',
  );
  // KEYS takes the whole name: ioredis does not prefix a pattern
  const pending = `${fx.gateway.services.config.redis.keyPrefix}adapter:saml:pending:*`;
  const kept = await fx.gateway.services.redis.keys(pending);
  t.deepEqual(kept, [], 'the signed request was never kept: its answer could not be bound to the login');
  t.is((await fx.gateway.services.flow.get(loginId))?.state, 'INITIATED');
  // the same click once the login is free: its request is kept (the pattern above finds it)
  const again = await browser.submit(chooser, chooserStep.url, { idp: 'demo-idp' }, () => false);
  await again.response.body?.cancel();
  t.is(again.response.status, 200);
  t.is((await fx.gateway.services.redis.keys(pending)).length, 1);
});
