/**
 * The SAML Web Browser SSO adapter core, shared by the legacy and eIDAS profiles. A profile supplies
 * what differs (request extensions, extra verification steps, how attributes map, SP metadata);
 * everything else is one code path.
 *
 * - startLogin: refuses an unavailable IdP (`SAML_IDP_UNAVAILABLE`) or an LoA above its maximum
 *   (`SAML_LOA_UNAVAILABLE`); an AuthnRequest signed in the HSM (the `saml` key `request-signing.ts` chooses
 *   for this IdP from its current metadata: ECDSA for an IdP that declares it), sent by HTTP-POST
 *   (enveloped signature) or HTTP-Redirect (signed query string) as `request-binding.ts` chooses from
 *   the IdP's current metadata (`SAML_BINDING_UNAVAILABLE` when it offers none that fits); the pending request is
 *   stored under `saml:pending:<requestId>` for 10 minutes, bound to the login and the browser.
 * - finishLogin: the IdP's *current* metadata (a refreshed key is used at once), `runPipeline` with the
 *   profile's steps, then one `UpstreamIdentity` built from signed values only.
 * - logout: Single Logout with this IdP (`saml-logout.ts`), when our SP has a SingleLogoutService URL.
 */
import { randomBytes } from 'node:crypto';
import type {
  AdapterContext,
  IdpAvailability,
  InboundMessage,
  LoaUri,
  LoginRequest,
  LoginResult,
  LoginStart,
  UpstreamAdapter,
  IdentityOrigin,
  UpstreamIdentity,
  UpstreamLogoutCapability,
} from '../contract.ts';
import type { IdpMetadata } from './idp-metadata.ts';
import type { MetadataHandle } from './metadata-handle.ts';
import type { SigningChoice } from './request-signing.ts';
import { buildAuthnRequest, signedAuthnRequest, type AuthnRequestInput } from './authn-request.ts';
import type { ResolvedIdpConfig, SamlSpConfig } from './config.ts';
import { samlError } from './errors.ts';
import { isLoaUri, loaRank } from './loa.ts';
import { redirectBindingUrl } from './redirect-binding.ts';
import { buildSamlLogout } from './saml-logout.ts';
import { chooseRequestBinding } from './request-binding.ts';
import { need, PENDING_TTL_SECONDS, type PendingRequest, type VerifyContext } from './verify/context.ts';
import { PIPELINE, runPipeline, type Pipeline } from './verify/pipeline.ts';
import type { KeyTransportDecrypter } from './xmlenc/decrypter.ts';

/** A SAML adapter also names the entity it answers for (the registry routes inbound messages by it). */
export interface SamlAdapter extends UpstreamAdapter {
  readonly entityId: string;
  availability(): IdpAvailability;
}

/** What a profile adds to the core. */
export interface SamlProfile {
  kind: string;
  profile: 'legacy' | 'eidas';
  /** Extra AuthnRequest fields (extensions, ForceAuthn policy, NameID format). */
  request(request: LoginRequest): Partial<AuthnRequestInput>;
  /** Steps run after the common `PIPELINE`. */
  steps: Pipeline;
  /** Attributes by internal name, from the verified context. */
  attributes(vctx: VerifyContext): UpstreamIdentity['attributes'];
  /** What kind of IdP this entry is (eIDAS node or national), from its configuration. */
  origin: IdentityOrigin;
  /** Our SP metadata, signed in the HSM. */
  spMetadata(now: Date): Promise<string>;
  /** The HSM key a message to this IdP is signed with, chosen from its current metadata (`request-signing.ts`). */
  signing(metadata: IdpMetadata): Promise<SigningChoice>;
}

export interface SamlAdapterOptions {
  idp: ResolvedIdpConfig;
  sp: SamlSpConfig;
  ctx: AdapterContext;
  metadata: MetadataHandle;
  /** The entityID while no metadata is loaded (an IdP whose first fetch failed); '' when unknown. */
  entityId?: string;
  decrypter?: KeyTransportDecrypter;
}

/**
 * Builds the adapter for one IdP and one profile.
 *
 * @example
 * const adapter = buildSamlAdapter({ idp, sp, ctx, metadata: staticMetadata(md) }, legacyProfile(idp, sp, ctx));
 */
export function buildSamlAdapter(options: SamlAdapterOptions, profile: SamlProfile): SamlAdapter {
  const { idp, sp, ctx, metadata } = options;

  const usable = (loginId?: string) => {
    const current = metadata.current();
    if (metadata.availability() !== 'available' || !current) {
      throw samlError('SAML_IDP_UNAVAILABLE', { loginId, detail: `${idp.id} is ${metadata.availability()}` });
    }
    return current;
  };

  const sloUrl = sp.sloUrl;
  const logout: UpstreamLogoutCapability =
    sloUrl === undefined
      ? { offered: false, notOfferedCode: 'SAML_LOGOUT_UNSUPPORTED', reason: 'our SP has no SingleLogoutService URL' }
      : buildSamlLogout({
          idp,
          sp: { ...sp, sloUrl },
          ctx,
          metadata: () => usable(),
          signing: (md) => profile.signing(md),
        });

  return {
    logout,
    id: idp.id,
    kind: profile.kind,
    displayName: idp.displayName,
    maxLoa: idp.maxLoa,
    ...(idp.onlyClients === undefined ? {} : { onlyClients: idp.onlyClients }),
    get entityId() {
      return metadata.current()?.entityId ?? options.entityId ?? '';
    },
    availability: () => metadata.availability(),

    async startLogin(request: LoginRequest): Promise<LoginStart> {
      if (!isLoaUri(request.minimumLoa))
        throw samlError('SAML_LOA_INVALID', { loginId: request.loginId, detail: 'requested LoA' });
      if (loaRank(request.minimumLoa) > loaRank(idp.maxLoa)) {
        throw samlError('SAML_LOA_UNAVAILABLE', { loginId: request.loginId, detail: `${idp.id} max ${idp.maxLoa}` });
      }
      const current = usable(request.loginId);
      const { binding, url: destination } = chooseRequestBinding(
        current.sso,
        idp.authnRequestBinding,
        idp.id,
        request.loginId,
      );
      const issuedAt = ctx.now();
      const input: AuthnRequestInput = {
        spEntityId: sp.entityId,
        acsUrl: sp.acsUrl,
        destination,
        minimumLoa: request.minimumLoa,
        forceAuthn: request.forceAuthn,
        issueInstant: issuedAt,
        nameIdFormat: idp.nameIdFormat,
        ...profile.request(request),
      };
      const { signer, certificatePem } = await profile.signing(current);
      const relayState = randomBytes(24).toString('base64url');
      // HTTP-Redirect: the query string is signed, not the XML (Bindings §3.4.4.1)
      const { id, xml } =
        binding === 'post' ? await signedAuthnRequest(input, signer, certificatePem) : buildAuthnRequest(input);
      const pending: PendingRequest = {
        loginId: request.loginId,
        browserBinding: request.browserBinding,
        idp: idp.id,
        minimumLoa: request.minimumLoa,
        issuedAt: issuedAt.toISOString(),
        forceAuthn: input.forceAuthn,
        ...(request.maxAuthenticationAgeSeconds === undefined
          ? {}
          : { maxAuthenticationAgeSeconds: request.maxAuthenticationAgeSeconds }),
      };
      const start: LoginStart =
        binding === 'post'
          ? {
              binding: 'post',
              correlation: relayState,
              request: id,
              url: destination,
              fields: { SAMLRequest: Buffer.from(xml, 'utf8').toString('base64'), RelayState: relayState },
            }
          : {
              binding: 'redirect',
              correlation: relayState,
              request: id,
              url: (await redirectBindingUrl(xml, relayState, destination, signer)).url,
            };
      await ctx.state.put(`saml:pending:${id}`, JSON.stringify(pending), PENDING_TTL_SECONDS);
      return start;
    },

    async finishLogin(message: InboundMessage): Promise<LoginResult> {
      const current = usable();
      const vctx: VerifyContext = {
        env: {
          profile: profile.profile,
          idp,
          metadata: current,
          sp,
          state: ctx.state,
          now: ctx.now(),
          ...(options.decrypter ? { decrypter: options.decrypter } : {}),
        },
        message,
        signed: { count: 0 },
      };
      await runPipeline(vctx, [...PIPELINE, ...profile.steps]);
      return {
        loginId: need(vctx.loginId, 'loginId'),
        identity: identityOf(vctx, idp.id, current.entityId, profile),
      };
    },

    metadata: () => profile.spMetadata(ctx.now()),
  };
}

function identityOf(vctx: VerifyContext, idpId: string, issuer: string, profile: SamlProfile): UpstreamIdentity {
  const claims = need(vctx.claims, 'claims');
  const envelope = need(vctx.envelope, 'envelope');
  const sessionIndex = claims.authn.sessionIndex;
  const loa: LoaUri = need(vctx.loa, 'loa');
  return {
    idp: idpId,
    origin: profile.origin,
    subject: claims.nameId.value,
    nameIdFormat: claims.nameId.format,
    attributes: profile.attributes(vctx),
    loa,
    authnInstant: claims.authn.instant,
    ...(sessionIndex === undefined ? {} : { sessionIndex }),
    ...(claims.authn.sessionNotOnOrAfter === undefined
      ? {}
      : { sessionNotOnOrAfter: claims.authn.sessionNotOnOrAfter }),
    evidence: {
      responseId: envelope.id,
      assertionId: claims.id,
      inResponseTo: need(vctx.requestId, 'requestId'),
      issuer,
      signaturesVerified: vctx.signed.count,
      oneTimeUse: claims.conditions.oneTimeUse,
      ...(claims.conditions.proxyRestriction?.audiences.length
        ? { onwardAudiences: claims.conditions.proxyRestriction.audiences }
        : {}),
    },
  };
}
