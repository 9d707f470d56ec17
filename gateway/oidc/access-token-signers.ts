/**
 * Which HSM key signs each client's JWT access tokens (RFC 9068): the active `access_token` key of the client's
 * `access_token_signed_response_alg` (RS256 unless configured; an ES256 client sets ES256), a key of its own, so
 * that no access token is signed by an ID token's key (key separation: a verifier of one never accepts the
 * other by its key). Those keys are in the gateway's `/jwks` (active, next, retired until their tokens
 * expire), so a data provider verifies any access token offline; they rotate on their own schedule
 * (`hsm/lifecycle/rotation-plan.ts`).
 *
 * - A token initialised before access tokens had keys of their own (no active `access_token` key of the
 *   algorithm) signs them with the active `id_token` key of that algorithm, as before; the gateway warns at
 *   boot and names the command that makes the key (`node hsm/cli.ts init`).
 * - Resolved once per Provider generation (a key change builds a new generation): a request reads a map.
 * - A client whose algorithm has neither key fails the build (`KEY_SET_INCOMPLETE`; the previous generation
 *   keeps serving); boot refuses it earlier, naming `clients[<id>].access_token_signed_response_alg`.
 * - Among keys of one algorithm, the first in the key store's order.
 */
import type { Signer } from '../../hsm/signer.ts';
import type { ClientEntry } from '../config/types.ts';
import { GatewayError } from '../errors.ts';

/** Each client's access-token signer, and the clients whose tokens fall back to an `id_token` key. */
export interface AccessTokenSigners {
  signers: ReadonlyMap<string, Signer>;
  /** client_id → the algorithm whose `access_token` key is missing (its tokens signed with the id_token key). */
  sharingIdTokenKey: ReadonlyMap<string, string>;
}

/**
 * client_id → the signer of its access tokens.
 *
 * @example
 * const { signers } = accessTokenSigners(config.clients, keys.activeSigners('access_token'), keys.activeSigners('id_token'));
 * signers.get('demo-rp')!.alg; // 'ES256' for a client with access_token_signed_response_alg: 'ES256'
 */
export function accessTokenSigners(
  clients: readonly Pick<ClientEntry, 'client_id' | 'access_token_format' | 'access_token_signed_response_alg'>[],
  accessTokenKeys: readonly Signer[],
  idTokenKeys: readonly Signer[],
): AccessTokenSigners {
  const signers = new Map<string, Signer>();
  const sharingIdTokenKey = new Map<string, string>();
  for (const client of clients) {
    // an opaque token is not signed: no key for it
    if (client.access_token_format === 'opaque') continue;
    const alg = client.access_token_signed_response_alg;
    const own = accessTokenKeys.find((s) => s.alg === alg);
    const shared = own ? undefined : idTokenKeys.find((s) => s.alg === alg);
    const signer = own ?? shared;
    if (!signer)
      throw new GatewayError(
        'KEY_SET_INCOMPLETE',
        500,
        `no active ${alg} access_token (nor id_token) key for the access tokens of client ${client.client_id}`,
      );
    if (shared) sharingIdTokenKey.set(client.client_id, alg);
    signers.set(client.client_id, signer);
  }
  return { signers, sharingIdTokenKey };
}
