/**
 * The SAML 2.0 protocol (kinds `legacy` and `eidas`) as an upstream protocol module: its configuration section
 * (`saml`, `saml-config.ts`), what it builds at boot and the routes it serves. The gateway never writes one of
 * these paths itself.
 *
 * | method | path            | kind             | what |
 * |--------|-----------------|------------------|------|
 * | POST   | /saml/acs       | login-response   | the one Assertion Consumer Service; RelayState (opaque, ≤ 80 characters) names the login |
 * | GET    | /saml/metadata  | document         | our SP metadata, signed in the HSM and signed again well before it expires |
 * | GET    | /saml/slo       | logout           | SingleLogoutService, HTTP-Redirect: the IdP's LogoutRequest or its LogoutResponse to ours |
 * | POST   | /saml/slo       | logout           | SingleLogoutService, HTTP-POST: the same |
 *
 * At start: the SP identity (entityID, ACS and metadata URLs, the certificate of the active `saml` key made in
 * the HSM), the HSM decrypter for EncryptedAssertions when the token holds a `saml_decryption` key, the IdPs
 * and their metadata monitor (`saml-build.ts`), and the publisher of our metadata.
 */
import type { SamlSpConfig } from '../saml/config.ts';
import { hsmSamlDecrypter } from '../saml/xmlenc/hsm-decrypter.ts';
import type { SectionContext } from '../contract/config-schema.ts';
import type { AdapterRoute } from '../contract/routes.ts';
import type { SpMetadataPublisher } from '../saml/sp-metadata-publisher.ts';
import type { RunningUpstream, UpstreamDeps, UpstreamProtocol } from './protocol.ts';
import { logoutDirection } from '../saml/saml-logout.ts';
import { buildSamlIdps } from './saml-build.ts';
import { samlSectionSchema, type SamlSection } from './saml-config.ts';

/** The largest ACS body read (the adapter refuses a SAMLResponse over 256 KiB again, with its own code). */
const ACS_BODY_LIMIT = 512 * 1024;
const RELAY_STATE = /^[A-Za-z0-9_-]{1,80}$/;

export const ACS_PATH = '/saml/acs';
export const METADATA_PATH = '/saml/metadata';
/** SAML Single Logout (a `logout` route; listed in our metadata). */
export const SLO_PATH = '/saml/slo';
/** The largest logout body read (the adapter refuses a message over 64 KiB again, with its own code). */
const SLO_BODY_LIMIT = 128 * 1024;

/**
 * @example
 * const running = await samlProtocol.start(samlProtocol.configSchema({ baseDir, issuer }).parse(raw.saml), deps);
 */
export const samlProtocol = {
  name: 'saml',
  configKey: 'saml',
  required: true,
  configSchema: (context: SectionContext) => samlSectionSchema(context),
  start: startSaml,
} as const satisfies UpstreamProtocol<SamlSection>;

async function startSaml(section: SamlSection, deps: UpstreamDeps): Promise<RunningUpstream> {
  const { context, tokens } = deps;
  const host = new URL(context.baseUrl).hostname;
  const signer = context.keys.activeSigner('saml');
  const sp: SamlSpConfig = {
    entityId: section.entityId,
    acsUrl: `${context.baseUrl}${ACS_PATH}`,
    metadataUrl: `${context.baseUrl}${METADATA_PATH}`,
    sloUrl: `${context.baseUrl}${SLO_PATH}`,
    signingCertificatePem: await deps.certificateOf(signer, `CN=${host} SAML signing`),
  };
  const decrypter = await hsmSamlDecrypter(tokens, signer, `CN=${host} SAML decryption`);
  const built = await buildSamlIdps({
    section,
    keys: context.keys,
    sp,
    context,
    logger: deps.logger,
    certificateOf: (s) => deps.certificateOf(s, `CN=${host} SAML signing`),
    ...(decrypter ? { decrypter } : {}),
    ...(deps.onMetadataEvent ? { onMetadataEvent: deps.onMetadataEvent } : {}),
  });
  built.spMetadata.start();
  return {
    adapters: built.adapters,
    routes: samlRoutes(built.spMetadata),
    monitor: built.monitor,
    publishedValidUntil: () => built.spMetadata.validUntil(),
    async stop() {
      built.monitor.stop();
      built.spMetadata.stop();
    },
  };
}

/** The routes of the SAML SP: the ACS, our metadata, the SingleLogoutService (both bindings). */
export function samlRoutes(publisher: SpMetadataPublisher): AdapterRoute[] {
  return [
    {
      kind: 'login-response',
      method: 'POST',
      path: ACS_PATH,
      maxBodyBytes: ACS_BODY_LIMIT,
      correlation: (params) => {
        const relay = params.RelayState ?? '';
        return RELAY_STATE.test(relay) ? relay : undefined;
      },
      codes: {
        correlationInvalid: 'SAML_RELAYSTATE_INVALID',
        loginMismatch: 'SAML_INRESPONSETO_MISMATCH',
        replayed: 'SAML_REPLAY',
      },
    },
    {
      kind: 'document',
      method: 'GET',
      path: METADATA_PATH,
      // the publisher's document: concurrent requests share one signature (the route is public: an HSM
      // signature per request would let anyone load the token)
      serve: async () => {
        const document = await publisher.document();
        return {
          status: 200,
          contentType: 'application/samlmetadata+xml',
          headers: { 'Cache-Control': `public, max-age=${publisher.maxAgeSeconds}` },
          body: document.xml,
        };
      },
    },
    ...(['GET', 'POST'] as const).map((method): AdapterRoute => ({
      kind: 'logout',
      method,
      path: SLO_PATH,
      maxBodyBytes: SLO_BODY_LIMIT,
      direction: logoutDirection,
      correlation: (params) => {
        const relay = params.RelayState ?? '';
        return RELAY_STATE.test(relay) ? relay : undefined;
      },
      codes: { issuerUnknown: 'SAML_LOGOUT_ISSUER_UNKNOWN' },
    })),
  ];
}
