/**
 * The durable registry's IdPs that do not fit this deployment, left out at boot (start-idps.ts) rather than stopping
 * it: a row added with the IdP CLI naming a client the deployment does not have, needing a key its HSM lacks, or
 * holding a trust anchor that cannot be read or is too weak. The same checks stop the boot for an entry of the
 * configuration file (the operator's file is wrong; `adapters/protocols/saml-entry-fit.ts`).
 */
import type { Logger } from 'pino';
import type { SamlIdpEntry } from '../../adapters/protocols/saml-config.ts';
import { anchorMisfit, keyMisfit } from '../../adapters/protocols/saml-entry-fit.ts';
import type { UpstreamDeps } from '../../adapters/protocols/protocol.ts';
import type { GatewayConfig } from '../config/types.ts';
import { unknownClientIn } from './idp-clients.ts';
import type { RegistryRow } from './registry-store.ts';

/**
 * The configuration without the IdPs of the durable registry that do not fit this deployment, each logged at error
 * level (`IDP_REGISTRY_ENTRY_UNUSABLE`, naming the setting): an `onlyClients` naming no configured client, a key the
 * HSM lacks, a trust anchor unreadable or too weak. Entries of the configuration file are left to the boot's checks.
 */
export function leaveOutMisfits(
  config: GatewayConfig,
  rows: readonly RegistryRow[],
  deps: UpstreamDeps,
  logger: Logger,
  leftOut: (entry: SamlIdpEntry) => void,
): GatewayConfig {
  const fromRegistry = new Set(rows.filter((r) => r.entry !== null && r.state !== 'removed').map((r) => r.id));
  if (fromRegistry.size === 0) return config;
  const clientIds = config.clients.map((c) => c.client_id);
  const activeSaml = deps.context.keys.activeSigners('saml');
  const hasDecryptionKey = deps.tokens.activeSigners('saml_decryption').length > 0;
  const idps = config.saml.idps.filter((entry) => {
    if (!fromRegistry.has(entry.id)) return true;
    const unknownClient = unknownClientIn(entry.onlyClients, clientIds);
    const misfit =
      unknownClient !== undefined
        ? { path: 'onlyClients', why: `names ${unknownClient}, which is not a configured client` }
        : (keyMisfit(entry, activeSaml, hasDecryptionKey) ?? anchorMisfit(entry));
    if (misfit === undefined) return true;
    leftOut(entry);
    logger.error(
      { code: 'IDP_REGISTRY_ENTRY_UNUSABLE', idp: entry.id, setting: misfit.path, reason: misfit.why },
      'an IdP of the durable registry is not offered: it does not fit this deployment (fix it with the IdP CLI)',
    );
    return false;
  });
  return { ...config, saml: { ...config.saml, idps } };
}
