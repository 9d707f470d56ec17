/**
 * `dpop.nonce: offered` (oidc/dpop-nonces.ts): the token endpoint answers a fresh proof without a nonce (held to
 * oidc-provider's iat window instead), and still refuses a nonce it never issued. The default, `required`:
 * the-token-endpoint-asks-for-its-dpop-nonce.test.ts. The real gateway, Redis, PostgreSQL and HSM.
 */
import test from 'ava';
import { generateKeyPair } from 'jose';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { dpopProof } from '../../helpers/dpop-proof.ts';
import { redeem, startSessionBed, type SessionBed } from '../session/session-bed.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed({ config: { dpop: { nonce: 'offered' } } });
});
test.after.always(async () => {
  await bed?.stop();
});

test('a proof without a nonce is answered at once; one with a made-up nonce is not', async (t) => {
  const key = await generateKeyPair('ES256');
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  const code = journey.url.searchParams.get('code')!;
  const made = await redeem(bed, code, request.verifier, () =>
    dpopProof(key, 'ES256', 'POST', `${bed.url}/token`, undefined, 'made-up-nonce'),
  ).catch((error: unknown) => String(error));
  t.regex(String(made), /400.*use_dpop_nonce/);
  const asked: Array<string | undefined> = [];
  const tokens = await redeem(bed, code, request.verifier, (nonce) => {
    asked.push(nonce);
    return dpopProof(key, 'ES256', 'POST', `${bed.url}/token`, undefined, nonce);
  });
  t.is(tokens.token_type, 'DPoP');
  t.deepEqual(asked, [undefined], 'sent once, without a nonce');
});
