/**
 * Builds one oidc-provider generation from the configuration and the keys active in the HSM.
 *
 * - authorization-code flow only; PKCE (S256, the only method oidc-provider 9 implements) for every client;
 * - `iss` in authorization responses (RFC 9207, oidc-provider's default; a client may have it omitted from
 *   error responses only, for mod_auth_openidc ≤ 2.4.12: error-iss-compat.ts); pairwise `sub` only;
 * - acr values eidas1/2/3; claims = the pivot identity, by FranceConnect's scope conventions (scopes.ts);
 * - every JWS is signed in the HSM through `HsmSigningKey` (features.externalSigningSupport, experimental:
 *   oidc-provider is pinned exactly in package.json);
 * - all state in Redis (no in-memory adapter), so a new generation (key change) loses no login;
 * - an existing session never stands in for the translation point: every request on it is a login of its
 *   own through the risk pipeline and the RP's policy; a higher acr sends the person upstream again
 *   (`session-reuse.ts`);
 * - `jwks.keys` = the active id_token keys (first: oidc-provider signs with the first key matching the
 *   client's algorithm), then the next ones (never selected: no client uses an algorithm without an
 *   active key, and the HSM refuses to sign with them; listed so that discovery announces a new
 *   algorithm for the whole lead time, as RPs reject an ID token whose alg their discovery copy lacks),
 *   then the retired ones still published (verify-only: `id_token_hint` of old sessions); a client's ID-token algorithm may be overridden at run time (`clientAlgorithms`), and a
 *   client whose algorithm has no active key fails the build (the previous generation keeps serving).
 */
import { writeRequestRecordsTogether } from './request-writes-together.ts';
import { acceptHintsOfEarlierAlgorithms } from './id-token-hints.ts';
import { CookieKeys } from '../http/cookie-keys.ts';
import Provider, { type Configuration, type KoaContextWithOIDC, type SigningAlgorithm } from 'oidc-provider';
import type { Redis } from 'ioredis';
import type { KeyStore, Signer } from '../../hsm/signer.ts';
import { GatewayError } from '../errors.ts';
import type { GatewayConfig } from '../config/types.ts';
import { ACR_VALUES } from '../translate/acr.ts';
import { tokenLoginOf, type AccountStore } from './accounts.ts';
import { toClientMetadata } from './clients.ts';
import { SCOPE_CLAIMS, SCOPES } from '../translate/scope-claims.ts';
import { HsmSigningKey } from './hsm-signing-key.ts';
import { pairwiseSub } from './pairwise.ts';
import { redisAdapterFactory } from './redis-adapter.ts';
import {
  AUTHORIZATION_DETAILS_TYPES,
  carriesAuthorizationDetails,
  resourceIndicators,
  richAuthorizationRequests,
} from '../risk/transaction-rar.ts';
import { renderLogoutPage, renderLogoutSuccessPage } from './pages.ts';
import { renderErrorPage } from './error-page.ts';
import { omitIssOnErrors } from './error-iss-compat.ts';
import { trustRewrittenHeaders } from '../http/pin-origin.ts';
import { interactionPolicyWithGatewayLogin, type SsoGate } from './session-reuse.ts';
import { interactionUrl, type ShortCookie } from './interaction-url.ts';
import { claimsWithinClientScopes } from './claims-parameter.ts';
import type { DurableOidcModels } from '../session/oidc-models.ts';
import { refreshPolicy, type RefreshPolicyDeps } from './refresh-policy.ts';
import type { BackchannelLogout } from './backchannel-logout.ts';
import { fetchAllowingRegisteredLoopback, PROVIDER_FETCH_LIMITS } from './provider-fetch.ts';
import { assertionAudienceIsTheIssuer } from './client-assertion-audience.ts';
import { revokesOwnTokensOnly } from './revocation-policy.ts';
import { acceptJwtAtIntrospection, issueJwtAccessTokens, OPAQUE_TOKEN_BITS } from './jwt-access-tokens.ts';
import { accessTokenSigners } from './access-token-signers.ts';
import { AUTHORIZATION_PATH } from './authorization-post.ts';
import { DPOP_ALGORITHMS } from './proof-of-possession.ts';
import { dpopNonces, dpopNonceSecret } from './dpop-nonces.ts';
import { sessionTtl } from '../session/session-life.ts';
import { sessionCookieName } from '../http/cookie-names.ts';
import { introspectionPolicy, resourceServerMetadata } from './introspection-policy.ts';

export interface ProviderDeps {
  config: GatewayConfig;
  keys: KeyStore;
  redis: Redis;
  accounts: AccountStore;
  /** Session, Grant and AccessToken in the two-tier session store (session/). */
  durable: DurableOidcModels;
  /** client_id → ID-token algorithm chosen at run time (overrides the configuration). */
  clientAlgorithms?: ReadonlyMap<string, string>;
  /** Back-channel logout delivery (retries, audit, metrics): oidc/backchannel-logout.ts. */
  backchannel?: BackchannelLogout;
  /** What a refresh re-runs (oidc/refresh-policy.ts). */
  refresh: RefreshPolicyDeps;
  /** Every request on an existing session is a login of its own (oidc/session-reuse.ts, completion/sso.ts). */
  sso: SsoGate;
  /** Told about every error the provider answers (logs, audit of reused artefacts): oidc/error-events.ts. */
  observe?: (provider: Provider) => void;
}

/** A key store that also knows retired keys still published (the lifecycle store). */
type WithRetired = KeyStore & { signersIn?: (purpose: 'id_token', state: 'next' | 'retired') => Signer[] };

export function buildProvider(deps: ProviderDeps): Provider {
  const { config, redis, accounts } = deps;
  const shortCookie: ShortCookie = { httpOnly: true, sameSite: 'lax', secure: config.cookies.secure, signed: true };
  const keys = deps.keys as WithRetired;
  const active = keys.activeSigners('id_token');
  const signers = [
    ...active,
    ...(keys.signersIn?.('id_token', 'next') ?? []),
    ...(keys.signersIn?.('id_token', 'retired') ?? []),
  ];
  const algs = [...new Set(signers.map((s) => s.alg as SigningAlgorithm))];
  const clients = config.clients.map((client) => {
    const alg = deps.clientAlgorithms?.get(client.client_id) ?? client.id_token_signed_response_alg;
    if (!active.some((s) => s.alg === alg)) {
      throw new GatewayError('KEY_SET_INCOMPLETE', 500, `no active ${alg} id_token key for client ${client.client_id}`);
    }
    return toClientMetadata({ ...client, id_token_signed_response_alg: alg });
  });
  const configuration: Configuration = {
    adapter: redisAdapterFactory(redis, deps.durable),
    // resource servers: clients that can only introspect (config/resource-servers.ts)
    clients: [...clients, ...config.resourceServers.map((server) => resourceServerMetadata(server, active[0]!.alg))],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
      subject_type: 'pairwise',
      token_endpoint_auth_method: 'client_secret_basic',
      authorization_details_types: [...AUTHORIZATION_DETAILS_TYPES],
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    acrValues: [...ACR_VALUES],
    claims: Object.fromEntries(Object.entries(SCOPE_CLAIMS).map(([scope, claims]) => [scope, [...claims]])),
    scopes: [...SCOPES],
    subjectTypes: ['pairwise'],
    pairwiseIdentifier: async (_ctx: KoaContextWithOIDC, accountId: string, client) =>
      pairwiseSub(accountId, String(client.sectorIdentifier ?? client.clientId), config.secrets.pairwiseSalt),
    // sector_identifier_uri documents are checked at boot and on refresh by oidc/sector-identifiers.ts
    // (https with the configured CAs); oidc-provider's lazy, once-per-generation fetch is turned off
    sectorIdentifierUriValidate: () => false,
    // the claims of the login behind the token (a code, a refresh token, an access token at userinfo), never those
    // of the person's latest login elsewhere (accounts.ts `ofLogin`)
    findAccount: async (_ctx: KoaContextWithOIDC, sub: string, token?: unknown) =>
      accounts.find(sub, tokenLoginOf(token)),
    jwks: { keys: signers.map((s) => new HsmSigningKey(s)) },
    enabledJWA: {
      idTokenSigningAlgValues: algs,
      userinfoSigningAlgValues: algs,
      introspectionSigningAlgValues: algs,
      authorizationSigningAlgValues: algs,
      clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'],
      dPoPSigningAlgValues: [...DPOP_ALGORITHMS],
    },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    // a client assertion's aud is the issuer, alone (audience injection: client-assertion-audience.ts)
    assertJwtClientAuthClaimsAndHeader: assertionAudienceIsTheIssuer,
    // oidc-provider's default, pinned: an opaque access token's value is its jti of this length, and the adapter's
    // find knows a value by that shape (jwt-access-tokens.ts `opaqueValue`)
    formats: { bitsOfOpaqueRandomness: OPAQUE_TOKEN_BITS },
    features: {
      devInteractions: { enabled: false },
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
      // OIDC Back-Channel Logout 1.0 to every RP of the session (delivery: backchannel-logout.ts)
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: renderLogoutPage,
        postLogoutSuccessSource: renderLogoutSuccessPage,
      },
      // An RP may introspect only tokens issued to itself, a resource server only the access tokens of the RPs
      // it names (oidc-provider's default lets any authenticated client introspect any token).
      introspection: { enabled: true, allowedPolicy: introspectionPolicy(config.resourceServers) },
      // a client revokes its own tokens only; another's is answered as not found (revocation-policy.ts)
      revocation: { enabled: true, allowedPolicy: revokesOwnTokensOnly },
      // server nonces at the token and PAR endpoints (dpop-nonces.ts; `dpop.nonce`, required by default)
      dPoP: { enabled: true, ...dpopNonces(config.dpop.nonce, dpopNonceSecret(config.secrets)) },
      // the claims parameter names only claims of the scopes the client is registered for
      claimsParameter: { enabled: true, assertClaimsParameter: claimsWithinClientScopes(SCOPE_CLAIMS) },
      userinfo: { enabled: true },
      // RFC 9396: what the RP says is at stake (payment_initiation), read by the risk pipeline (issue #5)
      richAuthorizationRequests: richAuthorizationRequests(),
      resourceIndicators: resourceIndicators(config.issuer),
    },
    extraParams: ['idp_hint'],
    // the fraud score of the login behind an access token (issue #5), and that login's acr and auth_time (the
    // code's, or the refresh token's): the JWT access token's claims, and what names its login at userinfo
    extraTokenClaims: async (ctx, token) => {
      if (!('accountId' in token) || typeof token.accountId !== 'string') return undefined;
      const source = ctx?.oidc?.entities.AuthorizationCode ?? ctx?.oidc?.entities.RefreshToken;
      const at = tokenLoginOf(source);
      const login = await accounts.ofLogin(token.accountId, at);
      const acr = source?.acr;
      return login
        ? {
            // a login the person's record no longer keeps has no score of its own: none rather than another's
            ...(login.known ? { fraud_score: login.fraudScore } : {}),
            ...(typeof acr === 'string' ? { acr } : {}),
            ...(at ? { auth_time: at.authTime } : {}),
          }
        : undefined;
    },
    // a session never answers a request by itself: every request on it is a login of its own (session-reuse.ts)
    interactions: {
      policy: interactionPolicyWithGatewayLogin(deps.sso),
      url: interactionUrl(deps.sso, shortCookie) as never,
    },
    cookies: {
      keys: new CookieKeys(config.secrets.cookieKeys) as never, // keygrip's format, one HMAC per check
      // `__Host-_session` in deployments: no sibling subdomain can plant a session of the attacker's
      // (http/cookie-names.ts). The interaction cookies are path-scoped, which `__Host-` forbids.
      names: { session: sessionCookieName(config.cookies.secure) },
      long: { httpOnly: true, sameSite: 'lax', secure: config.cookies.secure, signed: true },
      short: shortCookie,
    },
    ttl: {
      AccessToken: config.ttl.accessToken,
      RefreshToken: config.ttl.refreshToken,
      AuthorizationCode: config.ttl.authorizationCode,
      IdToken: config.ttl.idToken,
      Interaction: config.ttl.interaction,
      // sliding, but never past twice ttl.session after the upstream authentication (session/session-life.ts)
      Session: sessionTtl(config.ttl),
      Grant: config.ttl.grant,
    },
    renderError: renderErrorPage,
    // oidc-provider's SSRF guard stays, but for the loopback back-channel URIs the operator registered
    fetch: fetchAllowingRegisteredLoopback(
      config.clients.flatMap((c) => (c.backchannel_logout_uri === undefined ? [] : [c.backchannel_logout_uri])),
    ) as never,
    // an RP's answer is read up to these sizes, and no redirect is followed (provider-fetch.ts)
    fetchResponseBodyLimits: PROVIDER_FETCH_LIMITS,
    conformIdTokenClaims: false,
    // refresh tokens only to clients registered for the grant; every refresh re-runs the policy and rotates
    rotateRefreshToken: refreshPolicy(deps.refresh),
    issueRefreshToken: async (_ctx, client, source) =>
      client.grantTypeAllowed('refresh_token') && !carriesAuthorizationDetails(source),
  };
  const provider = new Provider(config.issuer, configuration);
  // every code, ID token and access token carries the session's per-RP `sid` (oidc-provider adds it only
  // for back-channel-logout clients): revocation by sid and the token guard rely on it
  (provider.Client.prototype as unknown as { includeSid: () => boolean }).includeSid = () => true;
  bindRefreshTokensToDpopKey(provider);
  // a hint signed under a client's earlier ID-token algorithm (switched while the gateway runs) still names it
  acceptHintsOfEarlierAlgorithms(provider, algs);
  // access tokens are RFC 9068 JWTs signed in the HSM (the active access_token key of the client's
  // access_token_signed_response_alg: access-token-signers.ts), or opaque for a client registered so, stored by jti
  const { signers: atSigners } = accessTokenSigners(config.clients, keys.activeSigners('access_token'), active);
  issueJwtAccessTokens(provider, {
    issuer: config.issuer,
    signer: (clientId) => {
      const signer = atSigners.get(clientId);
      if (!signer) throw new GatewayError('KEY_SET_INCOMPLETE', 500, `no access-token key for client ${clientId}`);
      return signer;
    },
    pairwiseSalt: config.secrets.pairwiseSalt,
    opaqueFor: new Set(config.clients.filter((c) => c.access_token_format === 'opaque').map((c) => c.client_id)),
  });
  acceptJwtAtIntrospection(provider);
  // outside the writes below: an error answered when they fail is rewritten too
  provider.use(
    omitIssOnErrors(
      new Set(config.clients.filter((c) => c.compatibility.errorResponseIss === 'omit').map((c) => c.client_id)),
    ),
  );
  // oidc-provider's default routes.token and routes.authorization (the gateway's one constant for the latter)
  writeRequestRecordsTogether(provider, deps.durable, { token: '/token', authorization: AUTHORIZATION_PATH });
  deps.backchannel?.install(provider);
  // The gateway's edge (http/pin-origin.ts) rewrites host, scheme and client address from configuration.
  trustRewrittenHeaders(provider);
  deps.observe?.(provider);
  return provider;
}

/**
 * A refresh token issued to a request made with a DPoP proof is bound to that key (`jkt`, announced as
 * `cnf.jkt` at introspection), also for a confidential client (oidc-provider binds only public clients'):
 * the refresh grant then requires a proof by the same key ("failed jkt verification"). Rotation copies
 * the binding.
 */
function bindRefreshTokensToDpopKey(provider: Provider): void {
  const prototype = provider.RefreshToken.prototype as unknown as { save: () => Promise<string>; jkt?: string };
  const save = prototype.save;
  prototype.save = function saveBound(this: typeof prototype) {
    const jkt = Provider.ctx?.oidc?.entities.AccessToken?.jkt;
    if (this.jkt === undefined && typeof jkt === 'string') this.jkt = jkt;
    return save.call(this);
  };
}
