/**
 * GET /interaction/:uid — where oidc-provider sends the browser. A login prompt starts the gateway's
 * login (INITIATED) and either honours `idp_hint`, or goes straight to the one IdP able to serve it, or
 * returns to the RP when none can (eligible-idps.ts), or shows the chooser. A request on an existing gateway
 * session (prompt `sso`) is a login of its own decided on the session (completion/sso.ts), or, when the
 * session can no longer stand for it, an upstream login like the first. A consent prompt on its own is
 * refused (`CONSENT_WITHOUT_LOGIN`): the grant is made only by a login of this request.
 */
import type { Context } from 'koa';
import { GatewayError } from '../errors.ts';
import type { Services } from '../services.ts';
import { INITIAL_STATE, stateRow } from '../flow/states.ts';
import type { LoginContext } from '../session/login-context.ts';
import { assertSelectable, renderChooser } from './chooser.ts';
import { refuseConsent } from '../completion/grant-consent.ts';
import { ssoInteraction } from '../completion/sso.ts';
import { minimumAcrOf, requestedAcrValues, requiredAcr } from '../translation/required-acr.ts';
import { startUpstream, stepUpPending } from './start-upstream.ts';
import { eligibleIdps, endUnmet } from './eligible-idps.ts';
import { requestParams } from './translate-and-decide.ts';

/** OIDC `max_age` (seconds, a non-negative integer; oidc-provider has already validated the syntax). */
function maxAgeOf(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0)
    throw new GatewayError('REQUEST_INVALID', 400, 'max_age must be a non-negative integer');
  return seconds;
}

/**
 * Whether a context with no login record is one whose start's commit was lost: no IdP chosen yet, and saved
 * within INITIATED's timeout (a context saved before `startedAt` existed is never started again).
 */
function startLost(login: LoginContext): boolean {
  const window = stateRow(INITIAL_STATE).timeoutSeconds! * 1000;
  return login.idp === undefined && login.startedAt !== undefined && Date.now() - login.startedAt < window;
}

/** The login id reserved for its start (`LoginFlow.tryClaimStart`), while this request may start it. */
interface Reservation {
  /** `undefined` once given back (the request goes another way). */
  answer: ReturnType<Services['flow']['tryClaimStart']> | undefined;
  used: boolean;
}

export async function showInteraction(ctx: Context, services: Services, uid: string): Promise<void> {
  // The login's id reserved for its start with the interaction's read (one round trip, issue #14): a login
  // that exists already answers no, and a request that does not start the login gives it back (a request on a
  // session, a uid that is not this browser's interaction, a refusal), so it never blocks anyone longer than
  // this request. Nothing is audited or kept until the start itself.
  const reservation: Reservation = { answer: services.flow.tryClaimStart(uid), used: false };
  try {
    await showReserved(ctx, services, uid, reservation);
  } finally {
    if (!reservation.used) await giveBack(services, uid, reservation);
  }
}

async function giveBack(services: Services, uid: string, reservation: Reservation): Promise<void> {
  const answer = await reservation.answer;
  reservation.answer = undefined;
  if (answer && 'held' in answer) await services.flow.releaseStart(uid, answer.held);
}

async function showReserved(ctx: Context, services: Services, uid: string, reservation: Reservation): Promise<void> {
  const provider = services.holder.provider;
  services.logins.prefetch(uid); // with the interaction's read: one round trip (used once the uid is checked)
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) throw new GatewayError('INTERACTION_INVALID', 400, 'interaction mismatch');
  if (details.prompt.name === 'consent') {
    await refuseConsent(ctx, services, details);
    return;
  }
  // a request on an existing session: its own login, decided on the session (completion/sso.ts), which starts
  // the login itself: the reservation is given back first
  if (details.prompt.name === 'sso') {
    await giveBack(services, uid, reservation);
    if (await ssoInteraction(ctx, services, details)) return;
  }
  if (details.prompt.name !== 'login' && details.prompt.name !== 'sso') {
    throw new GatewayError('INTERACTION_INVALID', 400, 'unsupported interaction prompt', {
      detail: details.prompt.name,
    });
  }
  const clientId = String(details.params.client_id);
  const client = services.config.clients.find((c) => c.client_id === clientId);
  if (!client) throw new GatewayError('INTERACTION_INVALID', 400, 'unknown client');
  let login = await services.logins.load(uid);
  // A context whose start never committed (its write went with a commit that then failed) is started now: the
  // reservation answered that no login of this id exists, and the context was never moved on (no IdP chosen) and
  // is younger than INITIATED's timeout (a login that did start has a record for at least that long: its
  // terminal record outlives it). Any other context without a login (timed out, ended, its record gone since)
  // is a sign-in that expired: it is never started again, whatever the interaction's lifetime.
  const reserved = await reservation.answer;
  if (login && reserved && 'held' in reserved) {
    if (!startLost(login)) {
      throw new GatewayError('LOGIN_STATE_INVALID', 400, 'this sign-in has expired; start again from the service');
    }
    reservation.used = true;
    const context = login;
    await services.flow.start(
      uid,
      { clientId: context.clientId, requestId: ctx.state.requestId as string, acrValues: [context.requiredAcr] },
      { held: reserved.held, alongCommit: () => services.logins.save(context) },
    );
  }
  if (!login) {
    const acr = requiredAcr(
      requestedAcrValues(details.params),
      client.default_acr_values,
      minimumAcrOf(services.config.federation.minimumAcr, client.minimum_acr),
    );
    const maxAge = maxAgeOf(details.params.max_age);
    const freshAuthRequired = details.prompt.reasons.includes('login_prompt') || maxAge !== undefined;
    login = {
      loginId: uid,
      clientId,
      requiredAcr: acr,
      stepUps: 0,
      startedAt: Date.now(),
      requestId: ctx.state.requestId as string,
      freshAuthRequired,
      ...(maxAge === undefined ? {} : { maxAge }),
      params: requestParams(details.params),
    };
    // reserved with the first read (a login started meanwhile elsewhere refuses it, as the start would); the
    // context is saved in the round trip of the start's commit, once its audit record is written
    const answer = await reservation.answer;
    if (answer && !('held' in answer)) throw answer.error;
    reservation.used = true; // the start gives it back itself if its audit record cannot be written
    const context = login;
    await services.flow.start(
      uid,
      { clientId, requestId: ctx.state.requestId as string, acrValues: [acr] },
      { ...(answer ? { held: answer.held } : {}), alongCommit: () => services.logins.save(context) },
    );
  }
  if (login.upstream?.stepUpLevel !== undefined) throw stepUpPending();
  const hint = details.params.idp_hint;
  if (typeof hint === 'string' && hint !== '') {
    assertSelectable(services, hint, login.clientId);
    await startUpstream(ctx, services, login, hint);
    return;
  }
  const eligible = eligibleIdps(services, login.requiredAcr, login.clientId);
  if (eligible.length === 0) {
    await endUnmet(ctx, services, uid, 'ACR_UNREACHABLE', 'chooser', (result) =>
      services.holder.provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }),
    );
    return;
  }
  if (eligible.length === 1 && services.config.federation.skipChooserWithOneIdp) {
    await startUpstream(ctx, services, login, eligible[0]!);
    return;
  }
  renderChooser(ctx, services, login, client.client_name);
}
