/**
 * SAML Single Logout for one IdP (SAML Profiles §4.4, front channel), the `logout` of a SAML adapter:
 *
 * - `startLogout` (SP-initiated): a LogoutRequest with the NameID and SessionIndex of the login, signed in the
 *   HSM, by the binding `logout-binding.ts` chooses from the IdP's current metadata; `null` when it lists no
 *   SingleLogoutService. The request ID is kept under `saml:logout:pending:<id>` for 10 minutes.
 * - `finishLogout`: the IdP's LogoutResponse through `verify-logout/pipeline.ts`, then InResponseTo (our
 *   pending request, taken once) and Success.
 * - `answerLogout` (IdP-initiated): the IdP's LogoutRequest through the same pipeline; the caller ends the
 *   sessions it names (none → `SAML_LOGOUT_UNKNOWN_SESSION`, nothing ended); then a signed LogoutResponse
 *   (Success) to its ResponseLocation, RelayState echoed.
 */
import type {
  AdapterContext,
  InboundLogoutMessage,
  FrontChannel,
  UpstreamLogout,
  UpstreamLogoutRequest,
  UpstreamSessionRef,
} from '../contract.ts';
import type { Signer } from '../../hsm/signer.ts';
import type { ResolvedIdpConfig, SamlSpConfig } from './config.ts';
import { samlError } from './errors.ts';
import type { IdpMetadata } from './idp-metadata.ts';
import { chooseLogoutBinding, frontChannel } from './logout-binding.ts';
import { buildLogoutRequest } from './logout-request.ts';
import { buildLogoutResponse } from './logout-response.ts';
import { need } from './verify/context.ts';
import type { LogoutMessageKind, LogoutVerifyContext } from './verify-logout/context.ts';
import { checkLogoutIssuer } from './verify-logout/issuer.ts';
import { runLogoutPipeline } from './verify-logout/pipeline.ts';
import {
  checkLogoutStatus,
  PENDING_LOGOUT_TTL_SECONDS,
  takePendingLogout,
  type PendingLogout,
} from './verify-logout/protocol.ts';
import { checkLogoutStructure } from './verify-logout/structure.ts';
import { checkLogoutTransport } from './verify-logout/transport.ts';

export interface SamlLogoutOptions {
  idp: ResolvedIdpConfig;
  sp: SamlSpConfig & { sloUrl: string };
  ctx: AdapterContext;
  /** The IdP's metadata to trust now (throws `SAML_IDP_UNAVAILABLE` when there is none). */
  metadata: () => IdpMetadata;
  /** The HSM key logout messages are signed with (the profile's AuthnRequest key), and its certificate. */
  signing: () => { signer: Signer; certificatePem: string };
}

/**
 * Builds the Single Logout of one SAML IdP.
 *
 * @example
 * const logout = buildSamlLogout({ idp, sp, ctx, metadata: () => handle.current()!, signing: profile.signing });
 */
export function buildSamlLogout(options: SamlLogoutOptions): UpstreamLogout {
  const { idp, sp, ctx } = options;
  const verifyContext = (
    message: InboundLogoutMessage,
    expect: LogoutMessageKind,
    metadata: IdpMetadata,
  ): LogoutVerifyContext => ({
    env: { idp, metadata, sp, sloUrl: sp.sloUrl, state: ctx.state, now: ctx.now() },
    expect,
    message,
  });

  return {
    names(message) {
      let metadata: IdpMetadata;
      try {
        metadata = options.metadata();
      } catch {
        return false; // an IdP without valid metadata names nothing (the others are still asked)
      }
      const vctx = verifyContext(message, kindOf(message), metadata);
      checkLogoutTransport(vctx);
      checkLogoutStructure(vctx);
      try {
        checkLogoutIssuer(vctx);
        return true;
      } catch {
        return false;
      }
    },

    async startLogout(request: { logoutId: string; relayState: string; session: UpstreamSessionRef }) {
      const chosen = chooseLogoutBinding(options.metadata());
      if (!chosen) return null;
      const issuedAt = ctx.now();
      const { id, xml } = buildLogoutRequest({
        spEntityId: sp.entityId,
        destination: chosen.endpoint.location,
        issueInstant: issuedAt,
        nameId: { value: request.session.subject, format: request.session.nameIdFormat },
        ...(request.session.sessionIndex === undefined ? {} : { sessionIndex: request.session.sessionIndex }),
      });
      const start = await frontChannel(
        'SAMLRequest',
        xml,
        chosen.binding,
        chosen.endpoint.location,
        request.relayState,
        options.signing(),
      );
      const pending: PendingLogout = { logoutId: request.logoutId, idp: idp.id, issuedAt: issuedAt.toISOString() };
      await ctx.state.put(`saml:logout:pending:${id}`, JSON.stringify(pending), PENDING_LOGOUT_TTL_SECONDS);
      return start;
    },

    async finishLogout(message) {
      const vctx = verifyContext(message, 'LogoutResponse', options.metadata());
      await runLogoutPipeline(vctx);
      const pending = await takePendingLogout(vctx);
      checkLogoutStatus(vctx, pending.logoutId);
      return { logoutId: pending.logoutId };
    },

    async answerLogout(
      message,
      end: (request: UpstreamLogoutRequest) => Promise<number>,
    ): Promise<FrontChannel | null> {
      const vctx = verifyContext(message, 'LogoutRequest', options.metadata());
      await runLogoutPipeline(vctx);
      const signed = need(vctx.signed, 'signed');
      const nameId = need(signed.nameId, 'nameId');
      const ended = await end({
        idp: idp.id,
        subject: nameId.value,
        nameIdFormat: nameId.format,
        sessionIndexes: signed.sessionIndexes,
      });
      if (ended === 0)
        throw samlError('SAML_LOGOUT_UNKNOWN_SESSION', { detail: `request ${signed.id}: no live session matches` });
      const chosen = chooseLogoutBinding(vctx.env.metadata);
      if (!chosen) return null;
      const { xml } = buildLogoutResponse({
        spEntityId: sp.entityId,
        destination: chosen.endpoint.responseLocation,
        inResponseTo: signed.id,
        issueInstant: ctx.now(),
      });
      return frontChannel(
        'SAMLResponse',
        xml,
        chosen.binding,
        chosen.endpoint.responseLocation,
        message.params['RelayState'],
        options.signing(),
      );
    },
  };
}

/** Which message a front-channel logout carries: exactly one of SAMLRequest / SAMLResponse. */
function kindOf(message: InboundLogoutMessage): LogoutMessageKind {
  const request = message.params['SAMLRequest'] !== undefined;
  const response = message.params['SAMLResponse'] !== undefined;
  if (request === response)
    throw samlError('SAML_TRANSPORT_INVALID', { detail: 'a logout carries one SAMLRequest or one SAMLResponse' });
  return request ? 'LogoutRequest' : 'LogoutResponse';
}
