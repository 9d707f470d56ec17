/**
 * Every client's signing algorithms have an active key at boot: its ID token's, and its JWT access token's (signed
 * with the active `id_token` key of that algorithm, oidc/access-token-signers.ts). A missing one stops the boot
 * with a `ConfigError` naming the client's field and the command that makes the key.
 */
import type { LifecycleKeyStore } from '../../hsm/lifecycle/lifecycle-keystore.ts';
import type { GatewayConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';

/**
 * Throws when a client names an algorithm the HSM holds no active `id_token` key of.
 *
 * @example
 * requireClientKeys(config.clients, keys);
 */
export function requireClientKeys(clients: GatewayConfig['clients'], keys: LifecycleKeyStore): void {
  for (const client of clients) {
    if (!keys.activeSigners('id_token').some((s) => s.alg === client.id_token_signed_response_alg)) {
      throw new ConfigError(
        `clients[${client.client_id}].id_token_signed_response_alg`,
        `no active ${client.id_token_signed_response_alg} id_token key in the HSM (run: node hsm/cli.ts init)`,
      );
    }
    // the JWT access token is signed with the active id_token key of its algorithm (oidc/access-token-signers.ts)
    if (!keys.activeSigners('id_token').some((s) => s.alg === client.access_token_signed_response_alg)) {
      throw new ConfigError(
        `clients[${client.client_id}].access_token_signed_response_alg`,
        `no active ${client.access_token_signed_response_alg} id_token key in the HSM (run: node hsm/cli.ts generate id_token ${client.access_token_signed_response_alg})`,
      );
    }
  }
}
