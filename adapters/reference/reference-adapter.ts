/**
 * The reference adapter: a minimal upstream protocol written only against the contract, and the template for
 * the next adapter kind. The IdP receives the browser at its `authorizeUrl` with our audience, a `state` (the
 * correlation value) and a `nonce`; it answers by POSTing to our `login-response` route a compact JWS
 * (`typ: ref-assertion+jwt`) signed with its key, whose claims say who the person is (`claims.ts`). The
 * answer is verified by one table of steps (`verify.ts`), each failure one code (`errors/reference-codes.ts`).
 *
 * - startLogin: refuses a level above the IdP's maximum (`REF_LOA_UNAVAILABLE`); keeps the pending login in
 *   the shared state store (`pending.ts`) for 10 minutes.
 * - finishLogin: `verify.ts`, then an `UpstreamIdentity` of verified values only.
 * - metadata: a JSON document telling the IdP our audience and where to answer.
 * - logout: none, declared (`REF_LOGOUT_UNSUPPORTED`): the protocol has no single logout, so a person's logout
 *   ends the gateway session only and the audit says the IdP was skipped.
 */
import { randomBytes } from 'node:crypto';
import { importJWK, type CryptoKey, type JWK, type KeyObject } from 'jose';
import {
  AdapterError,
  type AdapterContext,
  type InboundMessage,
  type LoginRequest,
  type LoginResult,
  type LoginStart,
  type UpstreamAdapter,
} from '../contract.ts';
import { loaRank } from '../contract/vocabulary.ts';
import type { ReferenceIdpEntry } from './config.ts';
import { savePending } from './pending.ts';
import { verifyAnswer } from './verify.ts';

export const REFERENCE_KIND = 'reference';

export interface ReferenceEndpoints {
  /** Our identifier, the `aud` of every assertion. */
  audience: string;
  /** Where the IdP POSTs its answer (our `login-response` route, absolute). */
  responseUrl: string;
}

/**
 * @example
 * const adapter = await createReferenceAdapter(entry, jwk, { audience, responseUrl }, ctx);
 */
export async function createReferenceAdapter(
  idp: ReferenceIdpEntry,
  jwk: JWK,
  endpoints: ReferenceEndpoints,
  ctx: AdapterContext,
): Promise<UpstreamAdapter> {
  let key: CryptoKey | KeyObject | Uint8Array;
  try {
    key = await importJWK(jwk, idp.algorithm);
  } catch (error) {
    throw new AdapterError('REF_CONFIG_INVALID', 'The identity provider key cannot be used.', {
      detail: `${idp.id}: ${(error as Error).message}`,
      cause: error,
    });
  }
  if (key instanceof Uint8Array || jwk.d !== undefined)
    throw new AdapterError('REF_CONFIG_INVALID', 'The identity provider key must be a public key.', { detail: idp.id });
  const publicKey = key;
  return {
    id: idp.id,
    kind: REFERENCE_KIND,
    displayName: idp.displayName,
    maxLoa: idp.maxLoa,
    logout: {
      offered: false,
      notOfferedCode: 'REF_LOGOUT_UNSUPPORTED',
      reason: 'the reference protocol has no single logout',
    },

    async startLogin(request: LoginRequest): Promise<LoginStart> {
      if (loaRank(request.minimumLoa) < 0 || loaRank(request.minimumLoa) > loaRank(idp.maxLoa))
        throw new AdapterError('REF_LOA_UNAVAILABLE', 'This identity provider cannot reach the level required.', {
          loginId: request.loginId,
          detail: `${idp.id} max ${idp.maxLoa}`,
        });
      const state = randomBytes(24).toString('base64url');
      const nonce = randomBytes(24).toString('base64url');
      await savePending(ctx.state, state, {
        loginId: request.loginId,
        idp: idp.id,
        browserBinding: request.browserBinding,
        nonce,
        minimumLoa: request.minimumLoa,
        forceAuthn: request.forceAuthn,
        ...(request.maxAuthenticationAgeSeconds === undefined
          ? {}
          : { maxAuthenticationAgeSeconds: request.maxAuthenticationAgeSeconds }),
        issuedAt: Math.floor(ctx.now().getTime() / 1000),
      });
      const url = new URL(idp.authorizeUrl);
      url.searchParams.set('audience', endpoints.audience);
      url.searchParams.set('response_uri', endpoints.responseUrl);
      url.searchParams.set('state', state);
      url.searchParams.set('nonce', nonce);
      url.searchParams.set('loa', request.minimumLoa);
      if (request.forceAuthn) url.searchParams.set('prompt', 'login');
      return { binding: 'redirect', correlation: state, request: nonce, url: url.href };
    },

    async finishLogin(message: InboundMessage): Promise<LoginResult> {
      const { claims, pending, loa } = await verifyAnswer({
        idp,
        key: publicKey,
        audience: endpoints.audience,
        state: ctx.state,
        now: ctx.now(),
        message,
      });
      return {
        loginId: pending.loginId,
        identity: {
          idp: idp.id,
          origin: { kind: 'national' },
          subject: claims.sub,
          nameIdFormat: `${REFERENCE_KIND}:sub`,
          attributes: claims.attributes,
          loa,
          authnInstant: new Date(claims.auth_time * 1000).toISOString(),
          evidence: {
            responseId: claims.jti,
            assertionId: claims.jti,
            inResponseTo: claims.nonce,
            issuer: claims.iss,
            signaturesVerified: 1,
            oneTimeUse: false,
          },
        },
      };
    },

    metadata: async () =>
      JSON.stringify({ audience: endpoints.audience, response_uri: endpoints.responseUrl, methods: ['POST'] }),
  };
}
