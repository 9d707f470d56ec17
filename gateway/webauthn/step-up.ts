/**
 * Where WebAuthn joins the login (called from interaction/complete.ts):
 *
 * - {@link offerWebAuthn}: a decision that requires level 2 or 3 (a step-up to LoA high, or the manual
 *   review fallback `LEVEL2_UNAVAILABLE` / `LEVEL3_UNAVAILABLE`) is answered at the gateway when the
 *   account has a credential that can stand in for that level now (credential-levels.ts: enrolled at that
 *   level, level 3 attested and past its cool-down, level 3 configured at all). The outcome is parked in
 *   Redis, the login goes back to AUTHENTICATING (its timeout covers the ceremony), and the browser is sent
 *   to /interaction/:uid/webauthn/authenticate. Otherwise nothing changes: the IdP step-up or manual review.
 * - {@link grantEnrolment}: after a completed login, for {@link ENROLMENT_TTL_SECONDS}, from the same
 *   browser only (the browser-binding cookie): the account page (account-page.ts) always; enrolment
 *   (enrol.ts) only after a FRESH login at LoA high (`eidas3`) — see {@link enrolmentLevelOf}: a level-2
 *   credential, or a level-3 one when the login itself was decided at level 3 (manual review approved, or
 *   a level-3 key). An ordinary login enrols nothing: a password alone never buys a key.
 */
import { ENROLMENT_TTL_SECONDS, enrolmentKey } from '../session/enrolment-key.ts';
import type { Context } from 'koa';
import type { LoginContext, LoginOutcome } from '../session/login-context.ts';
import type { Decision } from '../policy/decide.ts';
import type { HeldSlot } from '../flow/held-slot.ts';
import type { StepUpDeps } from './deps.ts';
import { attachmentsFor, type WebAuthnLevel } from './ceremonies.ts';
import { levelPolicyOf, satisfies } from './credential-levels.ts';
import { CredentialStore } from './credential-store.ts';

export type VerifiedOutcome = Extract<LoginOutcome, { status: 'verified' }>;

/** A login waiting for its WebAuthn assertion. */
export interface PendingStepUp {
  level: WebAuthnLevel;
  outcome: VerifiedOutcome;
}

/** Who may see their keys and enrol one after a login, from which browser, and at which level. */
export interface EnrolmentGrant {
  accountId: string;
  displayName: string;
  binding: string;
  /** The highest level a credential enrolled now may stand in for; 0 = the account page only. */
  level: 0 | 2 | 3;
  /** The person asserted with one of their existing credentials (required to add another). */
  confirmed: boolean;
  /**
   * The `auth_time` of the login that earned it: the grant holds only while this browser's session stands on that
   * login (a later login of the same account, after a logout on a shared computer, has its own).
   */
  authTime: number;
}

/** How old the IdP's authentication may be for the login to count as fresh. */
export const FRESH_LOGIN_SECONDS = 600;
/** The pending step-up lives as long as AUTHENTICATING may last. */
const PENDING_TTL_SECONDS = 600;

export { ENROLMENT_TTL_SECONDS, enrolmentKey };

/** The level a decision asks WebAuthn for, or `null` when WebAuthn cannot answer it. */
export function webauthnLevelOf(decision: Decision): WebAuthnLevel | null {
  if (decision.kind === 'flag' && decision.level === 3 && decision.reasons[0] === 'LEVEL3_UNAVAILABLE') return 3;
  if (decision.kind === 'flag' && decision.level === 2 && decision.reasons[0] === 'LEVEL2_UNAVAILABLE') return 2;
  if (decision.kind === 'step_up' && decision.level === 2) return 2;
  return null;
}

/** Whether the account has a credential that can stand in for `level` now. */
export async function hasCredentialFor(deps: StepUpDeps, accountId: string, level: WebAuthnLevel): Promise<boolean> {
  const policy = levelPolicyOf(deps.config.webauthn);
  const all = await new CredentialStore(deps.pool).ofAccount(accountId);
  const now = new Date();
  return all.some((c) => attachmentsFor(level).includes(c.attachment) && satisfies(c, level, policy, now));
}

/** Sends the login to the WebAuthn page when it can be answered there; `false` leaves it to the caller. */
export async function offerWebAuthn(
  ctx: Context,
  deps: StepUpDeps,
  uid: string,
  outcome: VerifiedOutcome,
  slot?: HeldSlot,
): Promise<boolean> {
  const level = webauthnLevelOf(outcome.decision);
  if (level === null || !(await hasCredentialFor(deps, outcome.accountId, level))) return false;
  const pending: PendingStepUp = { level, outcome };
  await deps.logins.holdSealed('webauthn:pending', uid, pending, PENDING_TTL_SECONDS);
  // the login may have been claimed already with the outcome's read (resume-completion.ts): this transition takes it
  const held = slot?.take();
  await deps.flow.transition(uid, 'AUTHENTICATING', {
    component: 'webauthn',
    requestId: ctx.state.requestId as string,
    details: { method: 'webauthn', level, reasons: outcome.decision.reasons },
    ...(held ? { held } : {}),
  });
  ctx.status = 303;
  ctx.redirect(`/interaction/${encodeURIComponent(uid)}/webauthn/authenticate`);
  return true;
}

/**
 * The level a credential enrolled after this login may stand in for (0: none). "Fresh at LoA high" in the
 * gateway's own terms (the ones `prompt=login` and step-ups use, adapters/saml/verify/authn-freshness.ts):
 *
 * - the IdP asserted `eidas3`;
 * - our upstream request for this login forced authentication (ForceAuthn: `prompt=login`, `max_age`, a
 *   step-up, every eIDAS request) — without it the IdP may have answered from the SSO session of the morning;
 * - its AuthnInstant (the ID token's `auth_time`) is not earlier than that request (minus the IdP's clock
 *   skew), i.e. the person authenticated for THIS login, and at most {@link FRESH_LOGIN_SECONDS} ago
 *   (`maxAgeSeconds` after a manual review, which adds its own wait).
 *
 * `satisfiedLevel` ≥ 3 (the login was decided at level 3) earns level 3; anything else fresh earns level 2.
 *
 * @example
 * enrolmentLevelOf(outcome, { issuedAt: Date.now() - 30_000, forceAuthn: true }, 60, 0, Date.now(), FRESH_LOGIN_SECONDS) // 2 for a fresh eidas3 login
 */
export function enrolmentLevelOf(
  outcome: VerifiedOutcome,
  upstream: LoginContext['upstream'],
  skewSeconds: number,
  satisfiedLevel: number,
  now: number,
  maxAgeSeconds: number,
): 0 | 2 | 3 {
  if (outcome.pivot.acr !== 'eidas3' || upstream?.forceAuthn !== true) return 0;
  const authnAt = outcome.authTime * 1000; // whole seconds: the true instant lies within the next 999 ms
  if (!Number.isFinite(authnAt) || authnAt + 999 < upstream.issuedAt - skewSeconds * 1000) return 0;
  if (now - authnAt > maxAgeSeconds * 1000 || authnAt > now + skewSeconds * 1000) return 0;
  return satisfiedLevel >= 3 ? 3 : 2;
}

/**
 * Lets this browser see the account's keys, and enrol one at the level this login earned, for 10 minutes.
 * `satisfiedLevel`: the policy level the login was decided at (3 after an approved manual review or a
 * level-3 key); `maxAgeSeconds`: how old the authentication may be by now (longer after a manual review).
 */
export async function grantEnrolment(
  _ctx: Context,
  deps: StepUpDeps,
  uid: string,
  outcome: VerifiedOutcome,
  satisfiedLevel: number,
  maxAgeSeconds: number,
): Promise<void> {
  // the browser that started the upstream login (its binding was checked when the IdP answered)
  const login = await deps.logins.load(uid);
  const binding = login?.browserBinding;
  if (!binding) return;
  const skew = deps.config.saml.idps.find((idp) => idp.id === outcome.idp)?.clockSkewSeconds ?? 0;
  // no name in Redis: the enrolment page reads it from the (sealed) account record (enrol.ts)
  const grant: Omit<EnrolmentGrant, 'displayName'> = {
    accountId: outcome.accountId,
    binding,
    level: enrolmentLevelOf(outcome, login.upstream, skew, satisfiedLevel, Date.now(), maxAgeSeconds),
    confirmed: false,
    authTime: outcome.authTime,
  };
  await deps.redis.set(enrolmentKey(uid), JSON.stringify(grant), 'EX', ENROLMENT_TTL_SECONDS);
}

/** `amr` (RFC 8176) of a login confirmed with WebAuthn: `hwk` for a security key, `user` + `mfa` for level 2. */
export function webauthnAmr(level: WebAuthnLevel): string[] {
  if (level === 3) return ['hwk', 'mfa'];
  if (level === 2) return ['user', 'mfa'];
  throw new Error(`unknown level ${String(level)}`);
}
