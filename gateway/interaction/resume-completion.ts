/**
 * GET /auth/:uid — the completion step run in oidc-provider's resume request (issue #14: one request less
 * per login). The IdP's answer (upstream-answer.ts) and an SSO login (completion/sso.ts) send the browser
 * straight to the resume; in front of oidc-provider this middleware acts once on the login's stored outcome
 * (complete.ts `actOnOutcome`), and a result it stores goes on into oidc-provider's resume in the same
 * request, which issues the code (or tells the RP the refusal).
 *
 * The browser is bound by oidc-provider's resume cookie (signed, path /auth/:uid, value = uid), set in the
 * same response, with the same options and lifetime, as the interaction cookie /interaction/:uid/complete
 * relies on. Before any completion work, this middleware checks what oidc-provider's resume
 * (lib/actions/authorization/resume.js) and `interactionDetails` check, with the provider's own readers:
 *
 * - the resume cookie is present, its signature valid, and its value is this uid;
 * - the interaction exists and its uid is the cookie's;
 * - an interaction started on a session is resumed only with that session's cookie (the same session uid),
 *   whose account did not change meanwhile (`SessionNotFound`, as `interactionDetails` answers it);
 * - a login that went upstream is resumed only in the browser carrying its binding cookie, whether it has a result
 *   or not (`INTERACTION_INVALID` 403, audited `REJECTED`: session/same-browser.ts).
 *
 * Anything else passes on untouched to oidc-provider, which refuses or resumes as it always did: a request
 * without the cookie, an interaction that already has a result (decided at /interaction/:uid/complete: an old
 * link, a review's approval, a WebAuthn step-up; its browser is checked first, as above). A bound interaction with no result and no outcome to act on
 * (a reload while the first request works, a login under review) goes to /interaction/:uid/complete, which
 * answers it as before, instead of a resume without a result, which would end the interaction. A
 * step-up is handed back to /interaction/:uid/complete (its page stays where a reload cannot end the
 * interaction). The other outcomes answer as there: the review page, the WebAuthn page; a denial, a rejected
 * answer or an unavailable dependency go on into oidc-provider, which tells the RP.
 */
import type { Context, Middleware, Next } from 'koa';
import { errors, type InteractionResults, type KoaContextWithOIDC } from 'oidc-provider';
import { HeldSlot } from '../flow/held-slot.ts';
import type { Services } from '../services.ts';
import type { LoginOutcome } from '../session/login-context.ts';
import { actOnOutcome, type InteractionEnd } from './complete.ts';
import { answerUnavailableAtCompletion } from './unavailable-mid-login.ts';
import { refuse, refuseAnotherBrowser } from '../session/same-browser.ts';
import { prefetchUpstreamLogin } from './upstream-session-records.ts';

const RESUME = /^\/auth\/([A-Za-z0-9_-]{1,64})$/;

type Interaction = InteractionEnd['details'];

export function resumeCompletion(services: Services): Middleware {
  return async (ctx: Context, next: Next) => {
    if (ctx.method === 'HEAD' && RESUME.test(ctx.path)) {
      // oidc-provider's router answers HEAD as GET: its resume, without a result, would end the interaction (the
      // login lost to a link prefetcher). A HEAD touches nothing here and goes no further
      ctx.status = 405;
      ctx.set('Allow', 'GET');
      return;
    }
    const uid = ctx.method === 'GET' ? RESUME.exec(ctx.path)?.[1] : undefined;
    if (uid === undefined) return next();
    const interaction = await boundInteraction(ctx, services, uid);
    if (!interaction) return next();
    // The login is claimed for its decision's transition with the outcome's read (one round trip, issue #14):
    // every target an outcome leads to is entered from FRAUD_CHECK only, so a login elsewhere (failed, under
    // review) is simply not claimed. The first transition takes the claim; any other way out gives it back.
    // Both commands leave in one write, the claim first, and Redis runs one connection's commands in order: of
    // two concurrent resumes, the one that takes the outcome is the one that claimed the login (the other finds
    // both taken and gives nothing back). Where they leave apart (a Redis Cluster sends scripts on their own),
    // the taker may find the other's claim and is refused like any transition meeting one (fail closed).
    const claiming = services.flow.tryClaim(uid, 'TOKEN_GENERATION');
    const taking = services.logins.takeOutcome(uid);
    taking.catch(() => undefined); // awaited below, once the claim is in hand to be given back
    const slot = new HeldSlot(services.flow, uid, await claiming);
    try {
      await completeWith(ctx, services, uid, interaction, await taking, slot, next);
    } finally {
      await slot.giveBack();
    }
  };
}

/** The completion once the outcome is taken (see the file comment); `slot` holds the login's claim, if taken. */
async function completeWith(
  ctx: Context,
  services: Services,
  uid: string,
  interaction: Interaction,
  outcome: LoginOutcome | null,
  slot: HeldSlot,
  next: Next,
): Promise<void> {
  if (!outcome) {
    // Bound, no result and nothing to act on: a reload while the first request is still at work, the loser of
    // two concurrent resumes, a login under review. oidc-provider would resume without a result and end the
    // interaction (the winner's code lost to the page the browser shows); /interaction/:uid/complete answers
    // these as it always did (the review page, or LOGIN_STATE_INVALID) — security review, issue #14.
    ctx.status = 303;
    ctx.redirect(`/interaction/${encodeURIComponent(uid)}/complete`);
    return;
  }
  if (outcome.status === 'verified' && outcome.decision.kind === 'step_up') {
    // the step-up page is one the person may reload: it stays at /interaction/:uid/complete, where a reload
    // is refused (LOGIN_STATE_INVALID) instead of resuming the interaction without a result, which would end it
    await services.logins.saveOutcome(uid, outcome);
    ctx.status = 303;
    ctx.redirect(`/interaction/${encodeURIComponent(uid)}/complete`);
    return;
  }
  if (outcome.status === 'verified') {
    // read later in this request, one after the other: the person's identity (saved with the grant) and the
    // login's upstream session (linked to the gateway session by oidc-provider's resume); asked for now, beside
    // the first transition's audit record (two round trips less, issue #14)
    services.sessions.store.prefetch('Identity', outcome.accountId);
    // only a login that went upstream has such a record (an SSO login's evidence names an earlier login)
    if (outcome.evidence?.loginId === uid) prefetchUpstreamLogin(services, uid);
  }
  let stored = false;
  const store = async (result: InteractionResults): Promise<string> => {
    // what oidc-provider's interactionResult does, on the interaction the resume cookie named
    interaction.result = result;
    await interaction.save((interaction.exp ?? 0) - Math.floor(Date.now() / 1000));
    stored = true;
    return interaction.returnTo;
  };
  const end: InteractionEnd = {
    details: interaction,
    store,
    sendOn: () => undefined, // the code is issued by oidc-provider's resume, next in this request
    refuse: async (result) => {
      await store(result);
    },
  };
  try {
    await actOnOutcome(ctx, services, uid, outcome, end, slot);
  } catch (error) {
    await slot.giveBack(); // before the login is failed below
    if (!(await answerUnavailableAtCompletion(ctx, services, uid, error, end.refuse))) throw error;
  }
  await slot.giveBack(); // nothing holds the login while oidc-provider resumes
  if (stored) await next();
}

/**
 * The interaction of this resume when oidc-provider would resume it for this browser and it has no result
 * yet; `undefined` otherwise (see the file comment).
 */
async function boundInteraction(ctx: Context, services: Services, uid: string): Promise<Interaction | undefined> {
  const provider = services.holder.provider;
  // the provider's own cookie reader (its keys); its cookie options for the resume cookie are `signed: true`
  const cookieId = provider.createContext(ctx.req, ctx.res).cookies.get(provider.cookieName('resume'), {
    signed: true,
  });
  if (cookieId === undefined || cookieId !== uid) return undefined;
  services.logins.prefetch(uid); // with the interaction's read: one round trip
  const interaction = await provider.Interaction.find(cookieId);
  if (!interaction || interaction.uid !== cookieId) return undefined;
  await sameBrowser(ctx, services, uid, interaction);
  if (interaction.result !== undefined) return undefined;
  const origin = interaction.session;
  if (origin?.uid) {
    const session = await provider.Session.get(ctx as unknown as KoaContextWithOIDC);
    if (session.uid !== origin.uid) return undefined;
    if (session.accountId !== origin.accountId) throw new errors.SessionNotFound('session principal changed');
  }
  return interaction;
}

/**
 * A login that went upstream is resumed only in the browser it is bound to (its binding cookie, set by its first
 * upstream leg), with or without a result: otherwise the resume cookie of the attacker's own login, planted in a
 * person's browser (by a sibling site: it is path-scoped, so it cannot be `__Host-`), would resume it there and
 * leave the attacker's session in the person's browser, and the person's next login to any RP an SSO as the
 * attacker (session/same-browser.ts). A login begun on a session is bound to that session instead (checked by
 * the caller, and by oidc-provider's resume). A login without a binding (it never went upstream) is let through
 * only without a login in its result (an error: no IdP meets its acr), which sets no session.
 */
async function sameBrowser(ctx: Context, services: Services, uid: string, interaction: Interaction) {
  if (interaction.session?.uid) return;
  const bound = (await services.logins.load(uid))?.browserBinding;
  // a login that never went upstream: only an error can end it here (no IdP meets its acr), which sets no session
  if (bound === undefined && interaction.result?.login !== undefined)
    await refuse(ctx, services, uid, 'resume', 'login-without-binding');
  await refuseAnotherBrowser(ctx, services, uid, bound, 'resume');
}
