/**
 * SP-initiated Single Logout (an RP's logout sent on to the IdP, the IdP's LogoutResponse back at our `logout`
 * route) meeting a fault, through the whole gateway with the demo IdP of `make run`:
 *
 * - the way back (`slo:return:<relay>`) unreadable — Redis failing as it is read: the registry's 503
 *   `FLOW_STORE_UNAVAILABLE`; a value the gateway never wrote: 500 `INTERNAL` — each audited
 *   `UPSTREAM_LOGOUT_FAILED` with its code (it was an unaudited 500);
 * - the adapter's pending request unreadable (its value rewritten): `SAML_INTERNAL_ERROR` audited
 *   `UPSTREAM_LOGOUT_FAILED`, the browser still goes where oidc-provider sent it (the local logout stands);
 * - our LogoutRequest the HSM cannot sign now (its only session held, no caller may wait): the IdP skipped,
 *   audited `UPSTREAM_LOGOUT_SKIPPED` with `HSM_BUSY`, not the adapter's `SAML_SIGNING_FAILED` above it.
 */
import test from 'ava';
import type { Pkcs11Token } from '../../../hsm/pkcs11/token.ts';
import { formsIn, type Form } from '../../helpers/browser.ts';
import { startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';
import { logIn, type LoggedIn } from './session-bed.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture({
    rawConfig: (raw) => {
      raw.hsm = { ...(raw.hsm as object), poolSize: 1, maxWaiting: 0 };
    },
  });
});
test.after.always(async () => {
  await fx?.stop();
});

const plru = () => new URL('/', fx.deployment.client.redirect_uri).toString();
const atPlru = (u: URL) => u.href.startsWith(plru());

/** The RP's logout confirmed: where the gateway sends the browser (the IdP's form, or the RP). */
async function confirmLogout(session: LoggedIn, during: <T>(act: () => Promise<T>) => Promise<T> = (a) => a()) {
  const endpoint = new URL(String(fx.rp.serverMetadata().end_session_endpoint));
  endpoint.searchParams.set('id_token_hint', session.idToken);
  endpoint.searchParams.set('post_logout_redirect_uri', plru());
  const page = await session.browser.follow(endpoint, {}, atPlru);
  const confirm = formsIn(await page.response.text()).find((f) => f.action.includes('session/end'));
  if (!confirm) throw new Error('no logout confirmation form');
  return during(() => session.browser.submit(confirm, page.url, { logout: 'yes' }, atPlru));
}

/** RP-initiated logout up to the IdP's LogoutResponse, on its way back to our `logout` route (not sent). */
async function idpAnswer(session: LoggedIn): Promise<{ answer: Form; relay: string }> {
  const toIdp = await confirmLogout(session);
  const request = formsIn(await toIdp.response.text()).find((f) => f.fields.SAMLRequest !== undefined);
  if (!request) throw new Error(`not sent to the IdP: ${toIdp.url}`);
  const back = await session.browser.submit(request, toIdp.url, {}, atPlru);
  const answer = formsIn(await back.response.text()).find((f) => f.fields.SAMLResponse !== undefined);
  if (!answer) throw new Error(`the IdP did not answer: ${back.url}`);
  return { answer, relay: request.fields.RelayState! };
}

async function lastAudit(to: string) {
  const { rows } = await fx.gateway.services.pool.query<{ error_code: string | null }>(
    'select error_code from audit_log where to_state = $1 order by id desc limit 1',
    [to],
  );
  return rows[0];
}

const deliver = (answer: Form) =>
  fetch(answer.action, { method: 'POST', body: new URLSearchParams(answer.fields), redirect: 'manual' });

test.serial('Redis failing as the way back is read: 503 FLOW_STORE_UNAVAILABLE, audited', async (t) => {
  const { answer } = await idpAnswer(await logIn(fx));
  const redis = fx.gateway.services.redis;
  const get = redis.get;
  // the way back's read fails (read, not taken: it is taken once the answer is verified)
  redis.get = (async (...args: Parameters<typeof get>) => {
    if (String(args[0]).startsWith('slo:return:')) throw new Error('Connection is closed.');
    return get.apply(redis, args);
  }) as typeof get;
  let response: Response;
  try {
    response = await deliver(answer);
  } finally {
    redis.get = get;
  }
  await response.body?.cancel();
  t.is(response.status, 503);
  t.is((await lastAudit('UPSTREAM_LOGOUT_FAILED'))?.error_code, 'FLOW_STORE_UNAVAILABLE');
});

test.serial('a way back the gateway never wrote: 500 INTERNAL, audited', async (t) => {
  const { answer, relay } = await idpAnswer(await logIn(fx));
  const redis = fx.gateway.services.redis;
  t.not(await redis.get(`slo:return:${relay}`), null, 'the key the gateway reads');
  await redis.set(`slo:return:${relay}`, '{"returnTo": "https://evil.example/"', 'KEEPTTL');
  const response = await deliver(answer);
  await response.body?.cancel();
  t.is(response.status, 500);
  t.is((await lastAudit('UPSTREAM_LOGOUT_FAILED'))?.error_code, 'INTERNAL');
});

test.serial(
  'a pending request rewritten in the adapter’s store: SAML_INTERNAL_ERROR audited, on to the RP',
  async (t) => {
    const { answer } = await idpAnswer(await logIn(fx));
    const redis = fx.gateway.services.redis;
    const inResponseTo = /InResponseTo="([^"]+)"/.exec(
      Buffer.from(answer.fields.SAMLResponse!, 'base64').toString(),
    )?.[1];
    const key = `adapter:saml:logout:pending:${inResponseTo}`;
    t.not(await redis.get(key), null, 'the key the adapter reads');
    await redis.set(key, 'not json', 'KEEPTTL');
    const response = await deliver(answer);
    await response.body?.cancel();
    t.is(response.status, 303);
    t.true(atPlru(new URL(response.headers.get('location')!, fx.url)), 'the local logout stands: on to the RP');
    t.is((await lastAudit('UPSTREAM_LOGOUT_FAILED'))?.error_code, 'SAML_INTERNAL_ERROR');
  },
);

test.serial('our LogoutRequest the HSM cannot sign now: the IdP skipped, audited HSM_BUSY', async (t) => {
  const session = await logIn(fx);
  const token = (fx.gateway.services.keys as unknown as { tokens: { token: Pkcs11Token } }).tokens.token;
  const landed = await confirmLogout(session, async (act) => {
    let release!: () => void;
    const holding = token.run(() => new Promise<void>((resolve) => (release = resolve)));
    try {
      return await act();
    } finally {
      release();
      await holding;
    }
  });
  t.true(atPlru(landed.url), `on to the RP: ${landed.url}`);
  t.is((await lastAudit('UPSTREAM_LOGOUT_SKIPPED'))?.error_code, 'HSM_BUSY');
});
