/**
 * The eIDAS adapter (kind `saml-eidas`): the SAML core with the eIDAS profile (security-conformance.md §5).
 *
 * - Request: signed with an eIDAS SignatureMethod (RSA-PSS or ECDSA key in the HSM, EID-R6), with
 *   `eidas:SPType` and `eidas:RequestedAttributes` (each with isRequired), the NameIDPolicy format,
 *   RequestedAuthnContext `minimum` with the LoA URI, IsPassive="false", ForceAuthn when the policy asks
 *   (or always, when configured).
 * - Response: the whole common pipeline (with the eIDAS algorithm allow-list, Response signature and
 *   encryption required by default), then `PIPELINE_EIDAS`: LoA at least the requested one, then the
 *   attribute rules (minimum data sets, formats, identifiers).
 */
import type { Signer } from '../../hsm/signer.ts';
import { xmlDsigAlgorithm } from '../../hsm/algorithms.ts';
import type { AdapterContext, UpstreamIdentity } from '../contract.ts';
import { staticMetadata, type MetadataHandle } from '../saml/metadata-handle.ts';
import { validateSpConfig, type SamlSpConfig } from '../saml/config.ts';
import { samlError } from '../saml/errors.ts';
import { loadIdpMetadata } from '../saml/idp-metadata.ts';
import { buildSamlAdapter, type SamlAdapter } from '../saml/saml-adapter.ts';
import { fixedSigning, type RequestSigning } from '../saml/request-signing.ts';
import { signedSpMetadata } from '../saml/sp-metadata.ts';
import type { VerifyContext } from '../saml/verify/context.ts';
import type { Pipeline } from '../saml/verify/pipeline.ts';
import type { KeyTransportDecrypter } from '../saml/xmlenc/decrypter.ts';
import { EIDAS_SIGNATURE_METHODS } from '../saml/xmldsig.ts';
import { validateEidasConfig, type EidasIdpConfig } from './config.ts';
import { buildEidasExtensions } from './request-extensions.ts';
import { checkEidasAttributes } from './verify/attributes.ts';
import { checkLoaMinimum } from './verify/loa-minimum.ts';

export interface EidasAdapterOptions {
  /** The HSM key (PS256, ES256, ES384 …) eIDAS requests are signed with, and its certificate. */
  signing: { signer: Signer; certificatePem: string };
  /**
   * Which key signs each message to this node (`request-signing.ts`, restricted to PSS and ECDSA); default
   * `signing` for every message.
   */
  requestSigning?: RequestSigning;
  /** Unwraps the EncryptedKey with our decryption key (the HSM). Required unless encryption is off. */
  decrypter?: KeyTransportDecrypter;
  metadata?: MetadataHandle;
  entityId?: string;
}

/**
 * Builds the adapter for one eIDAS node.
 *
 * @example
 * const adapter = await createEidasAdapter(config, sp, ctx, { signing: { signer: keys.activeSigner('saml', 'PS256'), certificatePem }, decrypter });
 */
export async function createEidasAdapter(
  config: EidasIdpConfig,
  spConfig: SamlSpConfig,
  ctx: AdapterContext,
  options: EidasAdapterOptions,
): Promise<SamlAdapter> {
  const idp = validateEidasConfig(config);
  const sp = validateSpConfig(spConfig);
  const signatureMethod = xmlDsigAlgorithm(options.signing.signer.alg).xmlDsig.signatureMethod;
  if (!EIDAS_SIGNATURE_METHODS.includes(signatureMethod)) {
    throw samlError('EIDAS_CONFIG_INVALID', {
      detail: `requests would be signed with ${options.signing.signer.alg}, not PSS or ECDSA`,
    });
  }
  if (idp.encryptedAssertions !== 'forbidden' && !options.decrypter) {
    throw samlError('EIDAS_CONFIG_INVALID', { detail: `idp ${idp.id}: encrypted assertions need a decryption key` });
  }
  if (!options.metadata && !idp.metadataFile)
    throw samlError('EIDAS_CONFIG_INVALID', { detail: `idp ${idp.id}: metadataFile is required` });
  const metadata = options.metadata ?? staticMetadata(await loadIdpMetadata(idp.metadataFile!));

  const requestSigning = options.requestSigning ?? fixedSigning(() => options.signing);
  const verified = new WeakMap<VerifyContext, UpstreamIdentity['attributes']>();
  const steps: Pipeline = [
    ['eidas-loa-minimum', checkLoaMinimum], // LoA ≥ requested
    ['eidas-attributes', (vctx) => void verified.set(vctx, checkEidasAttributes(vctx, idp))], // data sets, formats, identifiers
  ];
  const extensionsXml = buildEidasExtensions(idp);
  return buildSamlAdapter(
    {
      idp,
      sp,
      ctx,
      metadata,
      ...(options.entityId ? { entityId: options.entityId } : {}),
      ...(options.decrypter ? { decrypter: options.decrypter } : {}),
    },
    {
      kind: 'saml-eidas',
      profile: 'eidas',
      request: () => ({
        extensionsXml,
        explicitNotPassive: true,
        forceAuthn: true, // EID-R1: every eIDAS request forces a fresh authentication (not configurable)
      }),
      steps,
      attributes: (vctx) => verified.get(vctx) ?? {},
      origin: { kind: 'eidas-node', country: idp.country, legalPerson: idp.legalPerson },
      spMetadata: (now) =>
        signedSpMetadata({ ...sp, signingCertificatePem: options.signing.certificatePem }, options.signing.signer, now), // EID-M1: RSA-PSS or ECDSA
      signing: (md) => requestSigning.forMessage(md),
    },
  );
}
