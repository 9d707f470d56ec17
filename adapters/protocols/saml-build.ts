/**
 * Builds the SAML IdPs of a deployment from its `saml` section: one metadata monitor for all of them
 * (refresh, rollover, expiry, per-IdP "unavailable" state), one adapter per IdP (legacy or eIDAS), and
 * the SP description our metadata publishes (every active and next `saml` signing key, the decryption
 * certificate, the eIDAS extensions when an eIDAS IdP is configured).
 *
 * - An IdP whose metadata cannot be loaded at boot is registered but `unavailable` (logged); the
 *   gateway and the other IdPs start normally.
 * - eIDAS requests are signed with an active `saml` key of an eIDAS algorithm (PS256, ES256, ES384);
 *   without one the boot fails naming the IdP.
 * - Each IdP's messages are signed with the key its `requestSigningAlgorithm` chooses, per message
 *   (`request-signing.ts`: ECDSA for an IdP that declares it in its metadata or is configured so); an
 *   algorithm named in the configuration without an active `saml` key fails the boot naming
 *   `idps[i].requestSigningAlgorithm`. Our metadata publishes every active and next `saml` key, so an IdP
 *   knows each key we may sign with.
 * - Our SP metadata is served by an `SpMetadataPublisher` (validUntil/cacheDuration from `saml.spMetadata`,
 *   re-signed well before expiry, and at once when the set of active and next `saml` keys changes: every key
 *   we may sign with is published, the new ones for the lifecycle's lead time before they sign).
 * - Monitor events are logged and counted (`metadataEvents`, and handed to `onMetadataEvent`: the gateway
 *   counts them in `gateway_idp_metadata_events_total`).
 * - A configuration the HSM cannot serve (no eIDAS-capable key) throws `SAML_CONFIG_INVALID`, its `detail` the
 *   path in the section (`idps[2]`).
 */
import { readFileSync } from 'node:fs';
import { AdapterError, type AdapterContext, type InternalAttribute } from '../contract.ts';
import { createEidasAdapter } from '../eidas/eidas-adapter.ts';
import { eidasSpMetadataOptions } from '../eidas/sp-metadata.ts';
import { MetadataMonitor, type MetadataEvent } from '../metadata/monitor.ts';
import { supersededIn } from '../metadata/superseded-issues.ts';
import { adapterKind } from '../kinds.ts';
import type { SamlSpConfig } from '../saml/config.ts';
import { createLegacySamlAdapter } from '../saml/legacy-adapter.ts';
import { SpMetadataPublisher } from '../saml/sp-metadata-publisher.ts';
import type { KeyTransportDecrypter } from '../saml/xmlenc/decrypter.ts';
import { DEFAULT_SIGNATURE_METHODS, EIDAS_SIGNATURE_METHODS } from '../saml/xmldsig.ts';
import { legacyFallback, requestSigning } from '../saml/request-signing.ts';
import { xmlDsigAlgorithm } from '../../hsm/algorithms.ts';
import type { Signer } from '../../hsm/signer.ts';
import type { UpstreamAdapter } from '../contract.ts';
import type { UpstreamLogger } from './protocol.ts';
import type { SamlIdpEntry, SamlSection } from './saml-config.ts';
import { keyMisfit, keyRuleOf, unanchoredMetadata, unpinnedEntity } from './saml-entry-fit.ts';

/** A configuration the HSM cannot serve, named by its path in the `saml` section. */
function configError(path: string, message: string): AdapterError {
  return new AdapterError('SAML_CONFIG_INVALID', message, { detail: path });
}

export interface IdpKeys {
  activeSigners(purpose: 'saml'): Signer[];
  /** Next keys, published ahead of rotation (optional: a store without lifecycle has none). */
  signersIn?(purpose: 'saml', state: 'next'): Signer[];
}

export interface BuiltIdps {
  /** The adapters in configuration order, each with the issuer it answers for (the first of an entity). */
  adapters: Array<{ adapter: UpstreamAdapter; issuer?: string }>;
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
 * const { adapters, monitor, sp } = await buildSamlIdps({ section, keys, sp, context, logger, certificateOf });
 */
export async function buildSamlIdps(input: {
  section: SamlSection;
  keys: IdpKeys;
  sp: SamlSpConfig;
  context: AdapterContext;
  logger: UpstreamLogger;
  certificateOf: (signer: Signer) => Promise<string>;
  decrypter?: KeyTransportDecrypter;
  onMetadataEvent?: (event: MetadataEvent) => void;
}): Promise<BuiltIdps> {
  const { section, keys, context, logger, decrypter } = input;
  const metadataEvents = new Map<string, number>();
  const onEvent = (event: MetadataEvent) => {
    const key =
      event.type === 'refresh_failed'
        ? `${event.type}:${event.idp}:${event.code}`
        : `${event.type}:${event.idp}${event.type === 'availability' ? `:${event.availability}` : ''}`;
    metadataEvents.set(key, (metadataEvents.get(key) ?? 0) + 1);
    input.onMetadataEvent?.(event);
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
      (event.availability === 'available' ? logger.info : logger.warn).call(
        logger,
        { idp: event.idp, availability: event.availability },
        'idp availability changed',
      );
    else logger.info({ idp: event.idp, keysChanged: event.keysChanged }, 'idp metadata refreshed');
  };
  // a replaced issue is remembered in the shared state: every instance, and a restarted one, refuses its replay
  const monitor = new MetadataMonitor({ now: context.now, onEvent, superseded: supersededIn(context.state) });
  const eidasSigner = keys
    .activeSigners('saml')
    .find((s) => EIDAS_SIGNATURE_METHODS.includes(xmlDsigAlgorithm(s.alg).xmlDsig.signatureMethod));
  const signers = [...keys.activeSigners('saml'), ...(keys.signersIn?.('saml', 'next') ?? [])];
  const certificates = await Promise.all(signers.map((s) => input.certificateOf(s)));
  const hasEidas = section.idps.some((idp) => adapterKind(idp.kind).extendsPublishedMetadata);
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

  const built = [];
  for (const [i, entry] of section.idps.entries()) {
    const misfit = keyMisfit(entry, keys.activeSigners('saml'), decrypter !== undefined);
    if (misfit !== undefined) throw configError(`idps[${i}]${misfit.path ? `.${misfit.path}` : ''}`, misfit.why);
    const unanchored = unanchoredMetadata(entry);
    if (unanchored !== undefined)
      logger.warn({ code: 'SAML_METADATA_UNANCHORED', idp: entry.id, url: entry.metadataUrl }, unanchored);
    const unpinned = unpinnedEntity(entry);
    if (unpinned !== undefined)
      logger.warn({ code: 'SAML_METADATA_ENTITY_UNPINNED', idp: entry.id, url: entry.metadataUrl }, unpinned);
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
      // an eIDAS node's metadata is signed as its Responses are: RSASSA-PSS or ECDSA, never PKCS#1 v1.5
      ...(entry.kind === 'eidas' ? { signatureAlgorithms: EIDAS_SIGNATURE_METHODS } : {}),
      expiryWarningSeconds: entry.metadata.expiryWarningSeconds,
    });
    if (!entry.enabled) monitor.disable(entry.id);
    const extras = {
      metadata: handle,
      ...(entry.entityId === undefined ? {} : { entityId: entry.entityId }),
      ...(decrypter ? { decrypter } : {}),
    };
    const idpConfig = adapterConfig(entry);
    const allowed = entry.kind === 'eidas' ? EIDAS_SIGNATURE_METHODS : DEFAULT_SIGNATURE_METHODS;
    const signing = requestSigning({
      idp: entry.id,
      setting: entry.requestSigningAlgorithm,
      allowed,
      keys,
      // nothing usable declared in the metadata: legacy RSA (RS256 first), eIDAS the first PSS/ECDSA key
      fallback: (usable) => (entry.kind === 'eidas' ? usable[0] : legacyFallback(usable)),
      certificateOf: (signer) => input.certificateOf(signer),
    });
    if (entry.kind === 'eidas') {
      if (!eidasSigner) throw new Error('unreachable: keyMisfit checks the eIDAS signer');
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
          { ...extras, signing: { signer: eidasSigner, certificatePem }, requestSigning: signing },
        ),
      );
    } else {
      built.push(await createLegacySamlAdapter(idpConfig, sp, context, { ...extras, signing }));
    }
  }
  await monitor.start();
  // Several registry entries may share one entity (e.g. natural- and legal-person logins at one node):
  // the first names the issuer; the ACS routes by RelayState, not by issuer.
  const issuers = new Set<string>();
  const adapters = built.map((adapter) => {
    const first = adapter.entityId !== '' && !issuers.has(adapter.entityId);
    issuers.add(adapter.entityId);
    return first ? { adapter, issuer: adapter.entityId } : { adapter };
  });
  const metadataSigner = () => {
    if (!hasEidas) {
      const first = keys.activeSigners('saml')[0];
      if (!first) throw configError('(hsm)', 'no active saml signing key in the HSM');
      return first;
    }
    const signer = keys
      .activeSigners('saml')
      .find((s) => EIDAS_SIGNATURE_METHODS.includes(xmlDsigAlgorithm(s.alg).xmlDsig.signatureMethod));
    if (!signer)
      throw configError('idps', 'eIDAS metadata needs an active saml key of PS256, ES256 or ES384 in the HSM');
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
  // every active and next saml key, read again at each re-signing (a key generated or rotated while running
  // is published before it signs anything: the lead time of the lifecycle)
  const published = () => [...keys.activeSigners('saml'), ...(keys.signersIn?.('saml', 'next') ?? [])];
  const describe = async (signer: Signer): Promise<SamlSpConfig> => {
    const all = published();
    const own = await input.certificateOf(signer);
    const pems = await Promise.all(all.map((s) => input.certificateOf(s)));
    return {
      ...sp,
      signingCertificatePem: own,
      metadataOptions: {
        ...sp.metadataOptions,
        nextSigningCertificates: pems.filter((pem) => pem !== own),
        ...(hasEidas
          ? eidasSpMetadataOptions({
              signingMethods: all.map((s) => xmlDsigAlgorithm(s.alg).xmlDsig.signatureMethod),
              applicationId: 'identity-federation-gateway',
            })
          : {}),
      },
    };
  };
  const spMetadata = new SpMetadataPublisher({
    sp: metadataSp,
    signer: metadataSigner,
    keys: {
      version: () =>
        published()
          .map((s) => s.kid)
          .join(' '),
      describe,
    },
    times: {
      validitySeconds: section.spMetadata.validitySeconds,
      cacheDurationSeconds: section.spMetadata.cacheDurationSeconds,
    },
    expiryWarningSeconds: section.spMetadata.expiryWarningSeconds,
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
    ...(entry.onlyClients ? { onlyClients: entry.onlyClients } : {}),
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
