/**
 * An `id_token_hint` (RP-initiated logout, an authorization request) signed under a client's earlier ID-token
 * algorithm is accepted (reviewer finding, twenty-seventh round). oidc-provider checks a hint against the client's
 * *current* algorithm only, and the gateway changes a client's algorithm while it runs (`keys/key-lifecycle.ts`
 * `setClientAlgorithm`) and keeps the earlier keys published for exactly these hints: without this, the person's
 * logout at that RP failed with `invalid_request` after a switch, leaving the gateway session (and SSO to every RP)
 * alive on a shared computer.
 *
 * A hint oidc-provider refuses is checked again, the same way (our issuer, this client as audience, a key of the
 * provider's key set: signature, kid), under the algorithm its header names, when that algorithm is one the gateway
 * signs ID tokens with (a key of it active, next or retired-but-published) and never a symmetric one. Anything else
 * keeps oidc-provider's refusal.
 */
import { decodeProtectedHeader } from 'jose';
import type { Provider } from 'oidc-provider';

type Validate = (jwt: string, client: { idTokenSignedResponseAlg: string }) => Promise<unknown>;

/**
 * @example
 * acceptHintsOfEarlierAlgorithms(provider, ['RS256', 'ES256']);
 */
export function acceptHintsOfEarlierAlgorithms(provider: Provider, algorithms: readonly string[]): void {
  const IdToken = provider.IdToken as unknown as { validate: Validate };
  const validate = IdToken.validate.bind(IdToken);
  IdToken.validate = async (jwt, client) => {
    try {
      return await validate(jwt, client);
    } catch (error) {
      const alg = algorithmOf(jwt);
      if (alg === undefined || alg === client.idTokenSignedResponseAlg || alg.startsWith('HS')) throw error;
      if (!algorithms.includes(alg)) throw error;
      // the client as oidc-provider knows it, but for the algorithm the hint was signed with
      return validate(jwt, Object.create(client, { idTokenSignedResponseAlg: { value: alg } }) as typeof client);
    }
  };
}

function algorithmOf(jwt: string): string | undefined {
  try {
    const { alg } = decodeProtectedHeader(jwt);
    return typeof alg === 'string' ? alg : undefined;
  } catch {
    return undefined;
  }
}
