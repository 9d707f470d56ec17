/**
 * The legacy SAML 2.0 adapter (kind `saml-legacy`): one per IdP. It sends signed AuthnRequests over
 * HTTP-POST and accepts a Response only after the whole verification pipeline (`verify/pipeline.ts`).
 *
 * - startLogin: AuthnRequest signed in the HSM (`saml` signer); the pending request is stored under
 *   `saml:pending:<requestId>` for 10 minutes, bound to the login and the browser.
 * - finishLogin: `runPipeline`, then one `UpstreamIdentity` built from signed values only.
 * - metadata: our SP metadata, signed in the HSM.
 */
import { randomBytes } from 'node:crypto';
import type { AdapterContext, InboundMessage, LoginRequest, LoginResult, LoginStart, UpstreamAdapter, UpstreamIdentity } from '../contract.ts';
import { mapAttributes } from './attributes.ts';
import { signedAuthnRequest } from './authn-request.ts';
import { validateIdpConfig, validateSpConfig, type LegacySamlIdpConfig, type ResolvedIdpConfig, type SamlSpConfig } from './config.ts';
import { samlError } from './errors.ts';
import { loadIdpMetadata, type IdpMetadata } from './idp-metadata.ts';
import { isLoaUri, loaRank } from './loa.ts';
import { signedSpMetadata } from './sp-metadata.ts';
import { need, PENDING_TTL_SECONDS, type PendingRequest, type VerifyContext } from './verify/context.ts';
import { runPipeline } from './verify/pipeline.ts';

/** The SAML adapter also names the entity it answers for (the registry routes inbound messages by it). */
export interface LegacySamlAdapter extends UpstreamAdapter {
  readonly entityId: string;
}

/**
 * Builds the adapter for one legacy IdP: validates the config and reads the IdP metadata at boot.
 *
 * @example
 * const adapter = await createLegacySamlAdapter(idpConfig, spConfig, { keys, state, baseUrl, now: () => new Date() });
 * registry.register(adapter, { issuer: adapter.entityId });
 */
export async function createLegacySamlAdapter(idpConfig: LegacySamlIdpConfig, spConfig: SamlSpConfig, ctx: AdapterContext): Promise<LegacySamlAdapter> {
  const idp = validateIdpConfig(idpConfig);
  const sp = validateSpConfig(spConfig);
  const metadata = await loadIdpMetadata(idp.metadataFile);
  const destination = metadata.sso.post;
  if (!destination) throw samlError('SAML_METADATA_INVALID', { detail: `${idp.id}: no HTTP-POST SingleSignOnService` });

  return {
    id: idp.id,
    kind: 'saml-legacy',
    displayName: idp.displayName,
    maxLoa: idp.maxLoa,
    entityId: metadata.entityId,

    async startLogin(request: LoginRequest): Promise<LoginStart> {
      if (!isLoaUri(request.minimumLoa)) throw samlError('SAML_LOA_INVALID', { loginId: request.loginId, detail: 'requested LoA' });
      if (loaRank(request.minimumLoa) > loaRank(idp.maxLoa)) {
        throw samlError('SAML_LOA_UNAVAILABLE', { loginId: request.loginId, detail: `${idp.id} max ${idp.maxLoa}` });
      }
      const issuedAt = ctx.now();
      const { id, xml } = await signedAuthnRequest(
        { spEntityId: sp.entityId, acsUrl: sp.acsUrl, destination, minimumLoa: request.minimumLoa, forceAuthn: request.forceAuthn, issueInstant: issuedAt },
        ctx.keys.activeSigner('saml'),
        sp.signingCertificatePem,
      );
      const pending: PendingRequest = {
        loginId: request.loginId,
        browserBinding: request.browserBinding,
        idp: idp.id,
        minimumLoa: request.minimumLoa,
        issuedAt: issuedAt.toISOString(),
      };
      await ctx.state.put(`saml:pending:${id}`, JSON.stringify(pending), PENDING_TTL_SECONDS);
      return {
        binding: 'post',
        url: destination,
        fields: { SAMLRequest: Buffer.from(xml, 'utf8').toString('base64'), RelayState: randomBytes(24).toString('base64url') },
      };
    },

    async finishLogin(message: InboundMessage): Promise<LoginResult> {
      const vctx: VerifyContext = { env: { idp, metadata, sp, state: ctx.state, now: ctx.now() }, message, signed: { count: 0 } };
      await runPipeline(vctx);
      return { loginId: need(vctx.loginId, 'loginId'), identity: identityOf(vctx, idp, metadata) };
    },

    async metadata(): Promise<string> {
      return signedSpMetadata(sp, ctx.keys.activeSigner('saml'), ctx.now());
    },
  };
}

function identityOf(vctx: VerifyContext, idp: ResolvedIdpConfig, metadata: IdpMetadata): UpstreamIdentity {
  const claims = need(vctx.claims, 'claims');
  const envelope = need(vctx.envelope, 'envelope');
  const sessionIndex = claims.authn.sessionIndex;
  return {
    idp: idp.id,
    subject: claims.nameId.value,
    nameIdFormat: claims.nameId.format,
    attributes: mapAttributes(claims.attributes, idp.attributeNames),
    loa: need(vctx.loa, 'loa'),
    authnInstant: claims.authn.instant,
    ...(sessionIndex === undefined ? {} : { sessionIndex }),
    evidence: {
      responseId: envelope.id,
      assertionId: claims.id,
      inResponseTo: need(vctx.requestId, 'requestId'),
      issuer: metadata.entityId,
      signaturesVerified: vctx.signed.count,
    },
  };
}
