/**
 * Every client's signing algorithms have an active key at boot: its ID token's, and its JWT access token's (the
 * active `access_token` key of that algorithm, else, for a token initialised before access tokens had keys of
 * their own, the `id_token` key: oidc/access-token-signers.ts). A missing one stops the boot with a
 * `ConfigError` naming the client's field and the command that makes the key; an access token signed with the
 * ID token's key is a warning naming the command that separates them.
 */
import type { Logger } from 'pino';
import type { LifecycleKeyStore } from '../../hsm/lifecycle/lifecycle-keystore.ts';
import type { GatewayConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { accessTokenSigners } from '../oidc/access-token-signers.ts';

/**
 * Throws when a client names an algorithm the HSM holds no active key of; warns when a client's access tokens
 * would be signed with the ID token's key.
 *
 * @example
 * requireClientKeys(config.clients, keys, logger);
 */
export function requireClientKeys(clients: GatewayConfig['clients'], keys: LifecycleKeyStore, logger: Logger): void {
  for (const client of clients) {
    if (!keys.activeSigners('id_token').some((s) => s.alg === client.id_token_signed_response_alg)) {
      throw new ConfigError(
        `clients[${client.client_id}].id_token_signed_response_alg`,
        `no active ${client.id_token_signed_response_alg} id_token key in the HSM (run: node hsm/cli.ts init)`,
      );
    }
    const alg = client.access_token_signed_response_alg;
    if (
      client.access_token_format === 'jwt' &&
      ![...keys.activeSigners('access_token'), ...keys.activeSigners('id_token')].some((s) => s.alg === alg)
    ) {
      throw new ConfigError(
        `clients[${client.client_id}].access_token_signed_response_alg`,
        `no active ${alg} access_token (nor id_token) key in the HSM (run: node hsm/cli.ts generate access_token ${alg}, then activate it)`,
      );
    }
  }
  warnOfSharedAccessTokenKeys(clients, keys, logger);
}

/**
 * Warns (`ACCESS_TOKEN_KEY_SHARED`) when a client's access tokens are signed with the ID token's key (no active
 * `access_token` key of their algorithm): at boot, and at every key-set change (a retired `access_token` key with
 * no successor brings the fallback back).
 */
export function warnOfSharedAccessTokenKeys(
  clients: GatewayConfig['clients'],
  keys: LifecycleKeyStore,
  logger: Logger,
): void {
  let sharingIdTokenKey: ReadonlyMap<string, string>;
  try {
    ({ sharingIdTokenKey } = accessTokenSigners(
      clients,
      keys.activeSigners('access_token'),
      keys.activeSigners('id_token'),
    ));
  } catch {
    return; // no key at all for a client: the provider's build refuses it (KEY_SET_INCOMPLETE), logged there
  }
  for (const alg of new Set(sharingIdTokenKey.values()))
    logger.warn(
      {
        code: 'ACCESS_TOKEN_KEY_SHARED',
        alg,
        clients: [...sharingIdTokenKey].filter(([, a]) => a === alg).map(([id]) => id),
        fix: `node hsm/cli.ts generate access_token ${alg}, then node hsm/cli.ts activate <kid> after the lead time`,
      },
      'access tokens are signed with the ID token key: no active access_token key of their algorithm',
    );
}
