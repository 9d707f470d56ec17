/**
 * Key separation (seventeenth round): a client's JWT access tokens are signed with the active `access_token` key
 * of its `access_token_signed_response_alg`, never with an ID token's key while one of their own exists. A token
 * initialised before access tokens had keys (no active `access_token` key of the algorithm) signs them with the
 * `id_token` key, as before, and reports the clients concerned (the boot warns, naming the command); neither key
 * is `KEY_SET_INCOMPLETE`. Parametrised over the token algorithms of the registry that clients may choose.
 */
import test from 'ava';
import type { Signer } from '../../../hsm/signer.ts';
import { accessTokenSigners } from '../../../gateway/oidc/access-token-signers.ts';
import { GatewayError } from '../../../gateway/errors.ts';

/** The selection reads a signer's purpose, algorithm and kid only: keys as the store lists them. */
const key = (purpose: 'access_token' | 'id_token', alg: string) =>
  ({ purpose, alg, kid: `${purpose}-${alg}` }) as unknown as Signer;
const client = (alg: string) => ({
  client_id: `rp-${alg}`,
  access_token_format: 'jwt' as const,
  access_token_signed_response_alg: alg,
});

for (const alg of ['RS256', 'ES256', 'PS256', 'EdDSA']) {
  test(`${alg}: the access_token key signs, not the id_token key of the same algorithm`, (t) => {
    const { signers, sharingIdTokenKey } = accessTokenSigners(
      [client(alg)],
      [key('access_token', alg)],
      [key('id_token', alg)],
    );
    t.is(signers.get(`rp-${alg}`)?.kid, `access_token-${alg}`);
    t.is(sharingIdTokenKey.size, 0);
  });

  test(`${alg}: no access_token key of the algorithm: the id_token key signs, reported`, (t) => {
    const { signers, sharingIdTokenKey } = accessTokenSigners(
      [client(alg)],
      [key('access_token', alg === 'ES256' ? 'RS256' : 'ES256')], // another algorithm's key is no substitute
      [key('id_token', alg)],
    );
    t.is(signers.get(`rp-${alg}`)?.kid, `id_token-${alg}`);
    t.deepEqual([...sharingIdTokenKey], [[`rp-${alg}`, alg]]);
  });

  test(`${alg}: neither key: KEY_SET_INCOMPLETE`, (t) => {
    const error = t.throws(() => accessTokenSigners([client(alg)], [], [key('id_token', 'ES384')]));
    t.true(error instanceof GatewayError);
    t.is((error as GatewayError).code, 'KEY_SET_INCOMPLETE');
  });
}

test('a client registered for opaque access tokens needs no access-token key, and gets no signer', (t) => {
  const { signers, sharingIdTokenKey } = accessTokenSigners(
    [{ client_id: 'rp-opaque', access_token_format: 'opaque', access_token_signed_response_alg: 'RS256' }],
    [],
    [],
  );
  t.is(signers.size, 0);
  t.is(sharingIdTokenKey.size, 0);
});
