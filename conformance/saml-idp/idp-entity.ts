/**
 * The demo IdP as a samlify IdentityProvider: entityID `<baseUrl>/metadata`, SSO over HTTP-POST and
 * HTTP-Redirect at `<baseUrl>/sso`, Single Logout over HTTP-POST at `<baseUrl>/slo` (logout messages signed
 * both ways), one signing certificate, persistent NameIDs, signed AuthnRequests required.
 */
import * as samlify from 'samlify';
import { pemBody } from './build-response.ts';
import { installSamlifyXmlGuard } from './xml-guard.ts';

const bindings = {
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
} as const;

/** The IdP entity and the values derived from its base URL. */
export interface IdpEntity {
  entity: samlify.IdentityProviderInstance;
  entityId: string;
  ssoUrl: string;
  sloUrl: string;
  metadataXml: string;
}

/**
 * Builds the IdP entity.
 *
 * @param baseUrl public base URL without trailing slash, e.g. `http://127.0.0.1:7000`.
 * @param keys the IdP's signing key and certificate (PEM).
 * @example const idp = createIdpEntity('http://127.0.0.1:7000', { privateKeyPem, certPem });
 */
export function createIdpEntity(baseUrl: string, keys: { privateKeyPem: string; certPem: string }): IdpEntity {
  installSamlifyXmlGuard();
  const entityId = `${baseUrl}/metadata`;
  const ssoUrl = `${baseUrl}/sso`;
  const sloUrl = `${baseUrl}/slo`;
  const entity = withoutSloWarning(() =>
    samlify.IdentityProvider({
      singleLogoutService: [{ Binding: bindings.post, Location: sloUrl }],
      wantLogoutRequestSigned: true,
      wantLogoutResponseSigned: true,
      entityID: entityId,
      privateKey: keys.privateKeyPem,
      signingCert: pemBody(keys.certPem),
      wantAuthnRequestsSigned: true,
      requestSignatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      nameIDFormat: ['urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'],
      singleSignOnService: [
        { Binding: bindings.post, Location: ssoUrl },
        { Binding: bindings.redirect, Location: ssoUrl },
      ],
    }),
  );
  return { entity, entityId, ssoUrl, sloUrl, metadataXml: entity.getMetadata() };
}

/** samlify console.warns when an entity has no SLO endpoint (kept for IdPs built without one). */
function withoutSloWarning<T>(build: () => T): T {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('missing endpoint of SingleLogoutService')) return;
    warn(...args);
  };
  try {
    return build();
  } finally {
    console.warn = warn;
  }
}
