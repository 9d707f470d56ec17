/**
 * Builds the upstream IdPs of a gateway from its configuration: one metadata monitor for all of them
 * (refresh, rollover, expiry, per-IdP "unavailable" state), one adapter per IdP (legacy or eIDAS), and
 * the SP description our metadata publishes (every active and next `saml` signing key, the decryption
 * certificate, the eIDAS extensions when an eIDAS IdP is configured).
 *
 * - An IdP whose metadata cannot be loaded at boot is registered but `unavailable` (logged); the
 *   gateway and the other IdPs start normally.
 * - eIDAS requests are signed with an active `saml` key of an eIDAS algorithm (PS256, ES256, ES384);
 *   without one the boot fails naming the IdP.
 * - Our SP metadata is served by an `SpMetadataPublisher` (validUntil/cacheDuration from `saml.spMetadata`,
 *   re-signed well before expiry).
 * - Monitor events are logged and counted (`metadataEvents`, and `gateway_idp_metadata_events_total` when
 *   given the gateway's metrics).
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { AdapterContext, InternalAttribute } from '../../adapters/contract.ts';
import { createEidasAdapter } from '../../adapters/eidas/eidas-adapter.ts';
import { eidasSpMetadataOptions } from '../../adapters/eidas/sp-metadata.ts';
import { MetadataMonitor, type MetadataEvent } from '../../adapters/metadata/monitor.ts';
import { adapterKind } from '../../adapters/kinds.ts';
import type { KeyStrengthRule } from '../../adapters/saml/key-strength.ts';
import { AdapterRegistry } from '../../adapters/registry.ts';
import type { SamlSpConfig } from '../../adapters/saml/config.ts';
import { createLegacySamlAdapter } from '../../adapters/saml/legacy-adapter.ts';
import { SpMetadataPublisher } from '../../adapters/saml/sp-metadata-publisher.ts';
import type { KeyTransportDecrypter } from '../../adapters/saml/xmlenc/decrypter.ts';
import { EIDAS_SIGNATURE_METHODS } from '../../adapters/saml/xmldsig.ts';
import { xmlDsigAlgorithm } from '../../hsm/algorithms.ts';
import type { Signer } from '../../hsm/signer.ts';
import type { GatewayConfig, SamlIdpEntry } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import type { GatewayMetrics } from '../observability/gateway-metrics.ts';

export interface IdpKeys {
  activeSigners(purpose: 'saml'): Signer[];
  /** Next keys, published ahead of rotation (optional: a store without lifecycle has none). */
  signersIn?(purpose: 'saml', state: 'next'): Signer[];
}

export interface BuiltIdps {
  adapters: AdapterRegistry;
  monitor: MetadataMonitor;
  sp: SamlSpConfig;
  /** Counts of monitor events by `type:idp[:code]`. */
  metadataEvents: Map<string, number>;
  /** The key that signs our SP metadata: an RSA-PSS/ECDSA one when eIDAS IdPs are configured (EID-M1). */
  metadataSigner: () => Signer;
  /** The SP description as published, whose KeyInfo certificate is the metadata signer's. */
  metadataSp: SamlSpConfig;
  /** Our SP metadata as served: signed in the HSM and signed again well before it expires (`start()` it). */
  spMetadata: SpMetadataPublisher;
}

/**
 * @example
 * const { adapters, monitor, sp } = await buildIdps({ config, keys, sp, context, logger, certificateOf });
 */
export async function buildIdps(input: {
  config: GatewayConfig;
  keys: IdpKeys;
  sp: SamlSpConfig;
  context: AdapterContext;
  logger: Logger;
  certificateOf: (signer: Signer) => Promise<string>;
  decrypter?: KeyTransportDecrypter;
  metrics?: GatewayMetrics;
}): Promise<BuiltIdps> {
  const { config, keys, context, logger, decrypter } = input;
  const metadataEvents = new Map<string, number>();
  const onEvent = (event: MetadataEvent) => {
    const key =
      event.type === 'refresh_failed'
        ? `${event.type}:${event.idp}:${event.code}`
        : `${event.type}:${event.idp}${event.type === 'availability' ? `:${event.availability}` : ''}`;
    metadataEvents.set(key, (metadataEvents.get(key) ?? 0) + 1);
    input.metrics?.metadataEvent(event);
    if (event.type === 'refresh_failed')
      logger.warn({ idp: event.idp, code: event.code, detail: event.detail }, 'idp metadata refresh failed');
    else if (event.type === 'weak_keys')
      logger.warn(
        { idp: event.idp, keys: event.keys },
        'idp metadata lists keys too weak for its kind: they are not trusted',
      );
    else if (event.type === 'expiring')
      logger.warn(
        { idp: event.idp, validUntil: event.validUntil, remainingSeconds: event.remainingSeconds },
        'idp metadata expires soon: the IdP becomes unavailable at validUntil unless its metadata is refreshed',
      );
    else if (event.type === 'availability')
      logger[event.availability === 'available' ? 'info' : 'warn'](
        { idp: event.idp, availability: event.availability },
        'idp availability changed',
      );
    else logger.info({ idp: event.idp, keysChanged: event.keysChanged }, 'idp metadata refreshed');
  };
  const monitor = new MetadataMonitor({ now: context.now, onEvent });
  const eidasSigner = keys
    .activeSigners('saml')
    .find((s) => EIDAS_SIGNATURE_METHODS.includes(xmlDsigAlgorithm(s.alg).xmlDsig.signatureMethod));
  const signers = [...keys.activeSigners('saml'), ...(keys.signersIn?.('saml', 'next') ?? [])];
  const certificates = await Promise.all(signers.map((s) => input.certificateOf(s)));
  const hasEidas = config.saml.idps.some((idp) => adapterKind(idp.kind).extendsPublishedMetadata);
  const sp: SamlSpConfig = {
    ...input.sp,
    ...(decrypter ? { encryptionCertificatePem: decrypter.certificatePem } : {}),
    metadataOptions: {
      nextSigningCertificates: certificates.filter((pem) => pem !== input.sp.signingCertificatePem),
      ...(hasEidas
        ? eidasSpMetadataOptions({
            signingMethods: signers.map((s) => xmlDsigAlgorithm(s.alg).xmlDsig.signatureMethod),
            applicationId: 'identity-federation-gateway',
          })
        : {}),
    },
  };

  const adapters = new AdapterRegistry();
  adapters.monitor = monitor;
  const built = [];
  for (const [i, entry] of config.saml.idps.entries()) {
    const handle = monitor.register({
      id: entry.id,
      source: entry.metadataFile !== undefined ? { file: entry.metadataFile } : { url: entry.metadataUrl! },
      ...(entry.entityId === undefined ? {} : { entityId: entry.entityId }),
      trustAnchors: entry.metadata.trustAnchorFiles.map((file) => readFileSync(file, 'utf8')),
      requireValidUntil: entry.metadata.requireValidUntil,
      policy: {
        refreshSeconds: entry.metadata.refreshSeconds,
        minSeconds: entry.metadata.minRefreshSeconds,
        maxBackoffSeconds: entry.metadata.maxBackoffSeconds,
      },
      keyRule: keyRuleOf(entry),
      expiryWarningSeconds: entry.metadata.expiryWarningSeconds,
    });
    if (!entry.enabled) monitor.disable(entry.id);
    const extras = {
      metadata: handle,
      ...(entry.entityId === undefined ? {} : { entityId: entry.entityId }),
      ...(decrypter ? { decrypter } : {}),
    };
    const idpConfig = adapterConfig(entry);
    if (entry.kind === 'eidas') {
      if (!eidasSigner)
        throw new ConfigError(
          `saml.idps[${i}]`,
          'eIDAS requests need an active saml key of PS256, ES256 or ES384 in the HSM',
        );
      const certificatePem = await input.certificateOf(eidasSigner);
      built.push(
        await createEidasAdapter(
          {
            ...idpConfig,
            ...entry.eidas,
            requestedAttributes: entry.eidas?.requestedAttributes?.map((r) => ({
              name: r.name as InternalAttribute,
              required: r.required,
            })),
          },
          sp,
          context,
          { ...extras, signing: { signer: eidasSigner, certificatePem } },
        ),
      );
    } else {
      built.push(await createLegacySamlAdapter(idpConfig, sp, context, extras));
    }
  }
  await monitor.start();
  // Several registry entries may share one entity (e.g. natural- and legal-person logins at one node):
  // the first names the issuer; the ACS routes by RelayState, not by issuer.
  for (const adapter of built)
    adapters.register(adapter, adapters.byIssuer(adapter.entityId) ? {} : { issuer: adapter.entityId });
  const metadataSigner = () => {
    if (!hasEidas) {
      const first = keys.activeSigners('saml')[0];
      if (!first) throw new ConfigError('hsm', 'no active saml signing key in the HSM');
      return first;
    }
    const signer = keys
      .activeSigners('saml')
      .find((s) => EIDAS_SIGNATURE_METHODS.includes(xmlDsigAlgorithm(s.alg).xmlDsig.signatureMethod));
    if (!signer)
      throw new ConfigError('saml.idps', 'eIDAS metadata needs an active saml key of PS256, ES256 or ES384 in the HSM');
    return signer;
  };
  let metadataSp = sp;
  if (hasEidas) {
    const signerCertificate = await input.certificateOf(metadataSigner());
    metadataSp = {
      ...sp,
      signingCertificatePem: signerCertificate,
      metadataOptions: {
        ...sp.metadataOptions,
        nextSigningCertificates: certificates.filter((pem) => pem !== signerCertificate),
      },
    };
  }
  const spMetadata = new SpMetadataPublisher({
    sp: metadataSp,
    signer: metadataSigner,
    times: {
      validitySeconds: config.saml.spMetadata.validitySeconds,
      cacheDurationSeconds: config.saml.spMetadata.cacheDurationSeconds,
    },
    expiryWarningSeconds: config.saml.spMetadata.expiryWarningSeconds,
    now: context.now,
    onEvent: (event) => {
      if (event.type === 'resign_failed')
        logger.error(
          { error: event.error },
          'sp metadata could not be signed again: the previous document is served while it is valid',
        );
      else
        logger.warn(
          { validUntil: event.validUntil, remainingSeconds: event.remainingSeconds },
          'sp metadata served expires soon: IdPs will refuse logins once it has expired',
        );
    },
  });
  return { adapters, monitor, sp, metadataEvents, metadataSigner, metadataSp, spMetadata };
}

function adapterConfig(entry: SamlIdpEntry) {
  return {
    id: entry.id,
    displayName: entry.displayName,
    maxLoa: entry.maxLoa,
    clockSkewSeconds: entry.clockSkewSeconds,
    maxAuthenticationAgeSeconds: entry.maxAuthenticationAgeSeconds,
    requiredSignatures: entry.requiredSignatures,
    authnRequestBinding: entry.authnRequestBinding,
    ...(entry.allowedLoas ? { allowedLoas: entry.allowedLoas } : {}),
    ...(entry.signatureAlgorithms ? { signatureAlgorithms: entry.signatureAlgorithms } : {}),
    ...(entry.encryptedAssertions ? { encryptedAssertions: entry.encryptedAssertions } : {}),
    ...(entry.nameIdFormat ? { nameIdFormat: entry.nameIdFormat } : {}),
    ...(entry.attributeNames ? { attributeNames: entry.attributeNames as Record<string, InternalAttribute> } : {}),
  };
}

/** The signing-key minimum of an IdP's kind, as its kind declares it (`adapters/kinds.ts`); an unknown kind throws. */
export function keyRuleOf(entry: SamlIdpEntry): KeyStrengthRule {
  return adapterKind(entry.kind).keyRule({ minimumRsaKeyBits: entry.minimumRsaKeyBits });
}
