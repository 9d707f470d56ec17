/**
 * The legacy SAML 2.0 adapter (kind `saml-legacy`): one per IdP, the shared core (`saml-adapter.ts`) with
 * the plain profile — no request extensions, no extra steps, attributes through the IdP's own names then
 * the shared attribute map.
 *
 * - The IdP's metadata comes from a metadata monitor (refresh, rollover, expiry) or, without one, from
 *   its `metadataFile`, read once at boot (`SAML_METADATA_INVALID`).
 * - Per IdP: attribute names, NameID format, required signatures, signature algorithms, encryption
 *   (decrypted through the `KeyTransportDecrypter`, i.e. the HSM), clock skew, allowed LoAs.
 */
import type { AdapterContext } from '../contract.ts';
import { staticMetadata, type MetadataHandle } from './metadata-handle.ts';
import { mapAttributes } from './attributes.ts';
import { validateIdpConfig, validateSpConfig, type LegacySamlIdpConfig, type SamlSpConfig } from './config.ts';
import { samlError } from './errors.ts';
import { loadIdpMetadata } from './idp-metadata.ts';
import { buildSamlAdapter, type SamlAdapter } from './saml-adapter.ts';
import { fixedSigning, type RequestSigning } from './request-signing.ts';
import { signedSpMetadata } from './sp-metadata.ts';
import { need } from './verify/context.ts';
import type { KeyTransportDecrypter } from './xmlenc/decrypter.ts';

/** The legacy SAML adapter is a `SamlAdapter` (it names its entityID). */
export type LegacySamlAdapter = SamlAdapter;

/** Where metadata and decryption come from when the gateway supplies them. */
export interface SamlAdapterExtras {
  metadata?: MetadataHandle;
  /** The IdP's entityID, for an IdP whose metadata is not loaded yet. */
  entityId?: string;
  decrypter?: KeyTransportDecrypter;
  /** Which key signs our messages to this IdP (`request-signing.ts`); default the key store's first `saml` key. */
  signing?: RequestSigning;
}

/**
 * Builds the adapter for one legacy IdP: validates the config and, without a metadata handle, reads the
 * IdP metadata file at boot.
 *
 * @example
 * const adapter = await createLegacySamlAdapter(idpConfig, spConfig, { keys, state, baseUrl, now: () => new Date() });
 * registry.register(adapter, { issuer: adapter.entityId });
 */
export async function createLegacySamlAdapter(
  idpConfig: LegacySamlIdpConfig,
  spConfig: SamlSpConfig,
  ctx: AdapterContext,
  extras: SamlAdapterExtras = {},
): Promise<LegacySamlAdapter> {
  const idp = validateIdpConfig(idpConfig);
  const sp = validateSpConfig(spConfig);
  if (!extras.metadata && !idp.metadataFile)
    throw samlError('SAML_CONFIG_INVALID', { detail: `idp ${idp.id}: metadataFile is required` });
  const metadata = extras.metadata ?? staticMetadata(await loadIdpMetadata(idp.metadataFile!));
  const signing =
    extras.signing ??
    fixedSigning(() => ({ signer: ctx.keys.activeSigner('saml'), certificatePem: sp.signingCertificatePem }));
  if (idp.encryptedAssertions !== 'forbidden' && !extras.decrypter) {
    throw samlError('SAML_CONFIG_INVALID', { detail: `idp ${idp.id}: encrypted assertions need a decryption key` });
  }
  return buildSamlAdapter(
    {
      idp,
      sp,
      ctx,
      metadata,
      ...(extras.entityId ? { entityId: extras.entityId } : {}),
      ...(extras.decrypter ? { decrypter: extras.decrypter } : {}),
    },
    {
      kind: 'saml-legacy',
      profile: 'legacy',
      request: () => ({}),
      steps: [],
      attributes: (vctx) => mapAttributes(need(vctx.claims, 'claims').attributes, idp.attributeNames),
      origin: { kind: 'national' },
      spMetadata: (now) => signedSpMetadata(sp, ctx.keys.activeSigner('saml'), now),
      signing: (md) => signing.forMessage(md),
    },
  );
}
