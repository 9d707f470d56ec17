/**
 * A client's ID-token algorithm can be switched while the gateway runs (`KeyLifecycle.setClientAlgorithm`, the
 * earlier key kept published). The ID token the RP holds from before the switch is the `id_token_hint` of its
 * person's logout: oidc-provider checked it against the new algorithm only and refused the logout
 * (`invalid_request`), leaving the gateway session alive (reviewer finding, twenty-seventh round). Now:
 * - the RP-initiated logout with the earlier hint ends the session (the browser ends at the RP, the access token is
 *   refused at userinfo);
 * - a hint under an algorithm the gateway does not sign ID tokens with is still refused.
 */
import test from 'ava';
import { decodeProtectedHeader } from 'jose';
import { logIn, logOutAtTheRp, startSessionBed, userinfo, type SessionBed } from '../session/session-bed.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

test.serial("the logout hint of the client's earlier ID-token algorithm still logs the person out", async (t) => {
  const session = await logIn(bed);
  t.is(decodeProtectedHeader(session.idToken).alg, 'RS256');
  const { lifecycle, holder } = bed.gateway.services;
  const before = holder.provider;
  await lifecycle.setClientAlgorithm(bed.deployment.client.client_id, 'ES256');
  for (let i = 0; i < 100 && holder.provider === before; i++) await new Promise((r) => setTimeout(r, 50));
  t.not(holder.provider, before, 'the provider was rebuilt with the client on ES256');
  const { atPlru, url } = await logOutAtTheRp(bed, session);
  t.true(atPlru, `the browser ends at the RP: ${url.href}`);
  t.is((await userinfo(bed.url, session.accessToken)).status, 401, 'the session is ended');
});

test.serial('a hint under an algorithm the gateway does not sign ID tokens with is refused', async (t) => {
  const session = await logIn(bed);
  const [header, payload] = session.idToken.split('.');
  const forged = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(header!, 'base64url').toString()), alg: 'HS256' })).toString('base64url')}.${payload}.c2lnbmF0dXJl`;
  const { atPlru } = await logOutAtTheRp(bed, { ...session, idToken: forged });
  t.false(atPlru, 'refused: not at the RP');
  t.is((await userinfo(bed.url, session.accessToken)).status, 200, 'the session stands');
});
