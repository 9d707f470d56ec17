/**
 * SAML Single Logout for one IdP (SAML Profiles §4.4, front channel), the `logout` of a SAML adapter:
 *
 * - `startLogout` (SP-initiated): a LogoutRequest with the NameID and SessionIndex of the login, signed in the
 *   HSM, by the binding `logout-binding.ts` chooses from the IdP's current metadata; `null` when it lists no
 *   SingleLogoutService. The request ID is kept under `saml:logout:pending:<id>` for 10 minutes.
 * - `finishLogout`: the IdP's LogoutResponse through `verify-logout/pipeline.ts`, then InResponseTo (our
 *   pending request, taken once) and Success (a verified non-success status: `UnendedLogout`).
 * - `answerLogout` (IdP-initiated): the IdP's LogoutRequest through the same pipeline; the caller ends the
 *   sessions it names (none → `SAML_LOGOUT_UNKNOWN_SESSION`, nothing ended); then a signed LogoutResponse
 *   (Success) to its ResponseLocation, RelayState echoed. A refusal of a verified request meant for us is
 *   answered the same way with a non-success status (`logout-refusal.ts`), thrown as an `AnsweredLogoutRefusal`.
 *   Sessions ended but the answer not signed (the HSM busy): thrown as an `UnansweredLogout`, the answer kept
 *   for the same request sent again, which then gets it signed without ending anything (`logout-retry.ts`).
 */
import {
  AdapterError,
  AnsweredLogoutRefusal,
  type AdapterContext,
  UnansweredLogout,
  UnendedLogout,
  type InboundLogoutMessage,
  type FrontChannel,
  type LogoutAnswer,
  type LogoutAttempt,
  type UpstreamLogout,
  type UpstreamLogoutRequest,
  type UpstreamSessionRef,
} from '../contract.ts';
import type { ResolvedIdpConfig, SamlSpConfig } from './config.ts';
import { samlError } from './errors.ts';
import type { IdpMetadata } from './idp-metadata.ts';
import type { SigningChoice } from './request-signing.ts';
import { chooseLogoutBinding, frontChannel } from './logout-binding.ts';
import { buildLogoutRequest } from './logout-request.ts';
import { refusalStatus } from './logout-refusal.ts';
import {
  keepUnanswered,
  keepUnended,
  keptForAnother,
  requestDigest,
  readUnanswered,
  takeUnanswered,
  takeUnended,
} from './logout-retry.ts';
import { buildLogoutResponse, type LogoutStatus } from './logout-response.ts';
import { STATUS_SUCCESS } from './xml/namespaces.ts';
import { need } from './verify/context.ts';
import type { LogoutMessageKind, LogoutVerifyContext } from './verify-logout/context.ts';
import { checkLogoutIssuer } from './verify-logout/issuer.ts';
import { runLogoutPipeline } from './verify-logout/pipeline.ts';
import {
  checkLogoutStatus,
  logoutReplayKey,
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
  /** The HSM key a logout message to this IdP is signed with (chosen as for AuthnRequests), and its certificate. */
  signing: (metadata: IdpMetadata) => Promise<SigningChoice>;
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
    env: { idp, metadata, sp, sloUrl: sp.sloUrl, state: ctx.state, digestKey: ctx.digestKey, now: ctx.now() },
    expect,
    message,
    passed: [],
  });

  /**
   * The signed LogoutResponse (HSM, the key the IdP's metadata allows now) to a verified request of the IdP: by
   * the binding and to the ResponseLocation its metadata offers now, InResponseTo the request's verified ID, its
   * RelayState echoed; `null` when the metadata lists no SingleLogoutService. Nothing comes from the state store.
   */
  const reply = async (vctx: LogoutVerifyContext, status: LogoutStatus): Promise<FrontChannel | null> => {
    const chosen = chooseLogoutBinding(vctx.env.metadata);
    if (!chosen) return null;
    const destination = chosen.endpoint.responseLocation;
    const { xml } = buildLogoutResponse({
      spEntityId: sp.entityId,
      destination,
      inResponseTo: need(vctx.signed, 'signed').id,
      issueInstant: ctx.now(),
      status,
    });
    const signing = await options.signing(vctx.env.metadata);
    return frontChannel('SAMLResponse', xml, chosen.binding, destination, vctx.message.params['RelayState'], signing);
  };

  /**
   * Signs the Success answer to a request whose `sessions` were ended (`first`: now; `retry`: by its first
   * attempt); when that fails, keeps it for the same request sent again (`logout-retry.ts`) and throws
   * `UnansweredLogout`. `keep` keeps a signed answer that the gateway could not send after all.
   */
  const signOrKeep = async (
    vctx: LogoutVerifyContext,
    sessions: number,
    attempt: LogoutAttempt,
  ): Promise<LogoutAnswer> => {
    // the request's keyed digest (its signed values and RelayState): the same for its retry, only for it
    const retryKey = requestDigest(vctx);
    if (!chooseLogoutBinding(vctx.env.metadata))
      return { reply: null, sessions, attempt, retryKey, keep: async () => false };
    try {
      const back = await reply(vctx, { top: STATUS_SUCCESS });
      return { reply: back, sessions, attempt, retryKey, keep: () => keepUnanswered(vctx, sessions) };
    } catch (error) {
      const failure =
        error instanceof AdapterError
          ? error
          : samlError('SAML_SIGNING_FAILED', { detail: 'the LogoutResponse', cause: error });
      const kept = await keepUnanswered(vctx, sessions);
      throw new UnansweredLogout(failure, { sessions, attempt, kept, retryKey });
    }
  };

  /**
   * Whether a refusal decided before the replay step (`SAML_LOGOUT_EXPIRED`, `SAML_LOGOUT_NOT_YET_VALID`) is the
   * first of that verified message: its ID kept {@link REFUSED_ANSWER_SECONDS} under a key of its own. A refusal
   * after the replay step burnt the ID already (a second copy is `SAML_LOGOUT_REPLAYED`, the page). The store failing:
   * not answered (the page; no signature on a guess).
   */
  const answeredFirstTime = async (vctx: LogoutVerifyContext, code: string): Promise<boolean> => {
    if (vctx.passed.includes('replay')) return true;
    const signed = need(vctx.signed, 'signed');
    return vctx.env.state
      .putIfAbsent(`${logoutReplayKey(signed)}:refused`, code, REFUSED_ANSWER_SECONDS)
      .catch(() => false);
  };

  /** A refusal of a verified request meant for us goes back to the IdP with its status; any other stays as is. */
  const answered = async (vctx: LogoutVerifyContext, error: AdapterError): Promise<AdapterError> => {
    const status = refusalStatus(error.code, {
      verified: vctx.signed !== undefined,
      destinationChecked: vctx.passed.includes('destination'),
    });
    if (status === undefined) return error;
    // a request refused before the replay step (its time window) is answered once: the same message again (an old
    // URL kept in a history or a log, sent in a loop) gets the page, not one HSM signature each
    if (!(await answeredFirstTime(vctx, error.code))) return error;
    // an answer that cannot be signed now (the HSM failing) leaves the refusal page: the refusal stands either way;
    // its once is given back, so that the same message sent again may still get its answer
    const back = await reply(vctx, status).catch(() => null);
    if (back === null && !vctx.passed.includes('replay'))
      await vctx.env.state.take(`${logoutReplayKey(need(vctx.signed, 'signed'))}:refused`).catch(() => null);
    return back === null ? error : new AnsweredLogoutRefusal(error, back);
  };

  return {
    offered: true,
    notOfferedCode: 'SAML_LOGOUT_UNSUPPORTED',

    names(message) {
      if (message.params['SAMLRequest'] === undefined && message.params['SAMLResponse'] === undefined) return false;
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
      const metadata = options.metadata();
      const chosen = chooseLogoutBinding(metadata);
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
        await options.signing(metadata),
      );
      const pending: PendingLogout = { logoutId: request.logoutId, idp: idp.id, issuedAt: issuedAt.toISOString() };
      await ctx.state.put(`saml:logout:pending:${id}`, JSON.stringify(pending), PENDING_LOGOUT_TTL_SECONDS);
      return start;
    },

    async finishLogout(message) {
      const vctx = verifyContext(message, 'LogoutResponse', options.metadata());
      await runLogoutPipeline(vctx);
      const pending = await takePendingLogout(vctx);
      try {
        checkLogoutStatus(vctx, pending.logoutId);
      } catch (error) {
        // verified, and the answer to our request: the IdP says it did not end its session
        if (error instanceof AdapterError) throw new UnendedLogout(error, pending.logoutId);
        throw error;
      }
      return { logoutId: pending.logoutId };
    },

    async answerLogout(
      message,
      end: (request: UpstreamLogoutRequest) => Promise<number>,
      retry?: { takesKeptAnswer(retryKey: string): Promise<boolean> },
    ): Promise<LogoutAnswer> {
      const vctx = verifyContext(message, 'LogoutRequest', options.metadata());
      let sessions: number;
      // the sessions the verified request names, ended by the caller; its failing (some or all not ended) marks
      // the request so that the same request again ends the rest instead of being refused as a replay
      const endNamed = async (): Promise<number> => {
        const signed = need(vctx.signed, 'signed');
        const nameId = need(signed.nameId, 'nameId');
        try {
          return await end({
            idp: idp.id,
            subject: nameId.value,
            nameIdFormat: nameId.format,
            sessionIndexes: signed.sessionIndexes,
          });
        } catch (error) {
          if (!(error instanceof AdapterError)) await keepUnended(vctx);
          throw error;
        }
      };
      const unknownSession = () =>
        samlError('SAML_LOGOUT_UNKNOWN_SESSION', {
          detail: `request ${need(vctx.signed, 'signed').id}: no live session matches`,
        });
      try {
        await runLogoutPipeline(vctx);
        sessions = await endNamed();
        if (sessions === 0) throw unknownSession();
      } catch (error) {
        if (!(error instanceof AdapterError)) throw error;
        // the same request again after ending its sessions failed: the rest ended now (one retry takes the mark)
        if (error.code === 'SAML_LOGOUT_REPLAYED' && (await takeUnended(vctx))) {
          sessions = await endNamed();
          if (sessions === 0) throw await answered(vctx, unknownSession());
          return signOrKeep(vctx, sessions, 'first');
        }
        // the same request again after its answer could not be signed: that answer, signed now; nothing ended. Taken,
        // unless the caller keeps it for another retry (a copy from another browser: read, left in place)
        const ended = error.code === 'SAML_LOGOUT_REPLAYED' ? await keptAnswer(vctx, retry) : undefined;
        if (ended !== undefined) return signOrKeep(vctx, ended, 'retry');
        if (error.code === 'SAML_LOGOUT_REPLAYED' && (await keptForAnother(vctx)))
          throw samlError('SAML_LOGOUT_REPLAYED', {
            detail: `${error.detail ?? ''}: not the request whose unsigned answer is kept (other signed values or RelayState)`,
            cause: error,
          });
        throw await answered(vctx, error);
      }
      return signOrKeep(vctx, sessions, 'first');
    },
  };
}

/**
 * The sessions of the kept answer of a verified request sent again (none kept: undefined): taken, unless the caller
 * keeps it for another retry of the request (`takesKeptAnswer` false: read, left in place). A caller failing to say
 * takes it, as a caller that does not ask.
 */
async function keptAnswer(
  vctx: LogoutVerifyContext,
  retry: { takesKeptAnswer(retryKey: string): Promise<boolean> } | undefined,
): Promise<number | undefined> {
  // a hook that throws, even before its promise, counts as one that says nothing
  const takes =
    retry === undefined
      ? true
      : await Promise.resolve()
          .then(() => retry.takesKeptAnswer(requestDigest(vctx)))
          .catch(() => true);
  return takes ? takeUnanswered(vctx) : readUnanswered(vctx);
}

/**
 * Which message a front-channel logout carries: exactly one of SAMLRequest / SAMLResponse (the SingleLogoutService
 * route's `direction`).
 *
 * @example
 * logoutDirection({ SAMLRequest: '…', RelayState: 'r' }); // 'request'
 */
export function logoutDirection(params: Record<string, string>): 'request' | 'response' {
  const request = params['SAMLRequest'] !== undefined;
  const response = params['SAMLResponse'] !== undefined;
  if (request === response)
    throw samlError('SAML_TRANSPORT_INVALID', { detail: 'a logout carries one SAMLRequest or one SAMLResponse' });
  return request ? 'request' : 'response';
}

/**
 * How long a refused request's ID is kept so that it is answered once (24 h): longer than anyone retries a logout,
 * short enough for the store (one small key per distinct signed request, of an IdP that signed it).
 */
const REFUSED_ANSWER_SECONDS = 86_400;

const kindOf = (message: InboundLogoutMessage): LogoutMessageKind =>
  logoutDirection(message.params) === 'request' ? 'LogoutRequest' : 'LogoutResponse';
