/**
 * Which HSM key signs each client's JWT access tokens (RFC 9068): the active `id_token` key of the client's
 * `access_token_signed_response_alg` (RS256 unless configured; an ES256 client sets ES256). Those keys are
 * in the gateway's `/jwks` (active, next, retired until their tokens expire), so a data provider verifies
 * any access token offline, and their rotation is the `id_token` keys' rotation.
 *
 * - Resolved once per Provider generation (a key change builds a new generation): a request reads a map.
 * - A client whose algorithm has no active key fails the build (`KEY_SET_INCOMPLETE`; the previous
 *   generation keeps serving); boot refuses it earlier, naming `clients[<id>].access_token_signed_response_alg`.
 * - Among keys of one algorithm, the first in the key store's order (the most recently activated one first
 *   is the store's business, as for ID tokens).
 */
import type { Signer } from '../../hsm/signer.ts';
import type { ClientEntry } from '../config/types.ts';
import { GatewayError } from '../errors.ts';

/**
 * client_id → the signer of its access tokens.
 *
 * @example
 * const signers = accessTokenSigners(config.clients, keys.activeSigners('id_token'));
 * signers.get('demo-rp')!.alg; // 'ES256' for a client with access_token_signed_response_alg: 'ES256'
 */
export function accessTokenSigners(
  clients: readonly Pick<ClientEntry, 'client_id' | 'access_token_signed_response_alg'>[],
  active: readonly Signer[],
): ReadonlyMap<string, Signer> {
  const signers = new Map<string, Signer>();
  for (const client of clients) {
    const signer = active.find((s) => s.alg === client.access_token_signed_response_alg);
    if (!signer)
      throw new GatewayError(
        'KEY_SET_INCOMPLETE',
        500,
        `no active ${client.access_token_signed_response_alg} id_token key for the access tokens of client ${client.client_id}`,
      );
    signers.set(client.client_id, signer);
  }
  return signers;
}
