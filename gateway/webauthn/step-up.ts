/**
 * Where WebAuthn joins the login (called from interaction/complete.ts):
 *
 * - {@link offerWebAuthn}: a decision that requires level 2 or 3 (a step-up to LoA high, or the manual
 *   review fallback `LEVEL2_UNAVAILABLE` / `LEVEL3_UNAVAILABLE`) is answered at the gateway when the
 *   account has a credential that can satisfy it (level 3: a roaming security key; level 2: any, with user
 *   verification). The outcome is parked in Redis, the login goes back to AUTHENTICATING (its timeout
 *   covers the ceremony), and the browser is sent to /interaction/:uid/webauthn/authenticate. Without such
 *   a credential nothing changes: the IdP step-up or manual review, as before.
 * - {@link grantEnrolment}: after a login allowed at level ≤ 1, the account may enrol a credential at
 *   /interaction/:uid/webauthn/register for {@link ENROLMENT_TTL_SECONDS}, from the same browser only
 *   (the browser-binding cookie), once.
 */
import type { Context } from 'koa';
import type { LoginOutcome } from '../session/login-context.ts';
import type { Decision } from '../policy/decide.ts';
import type { Services } from '../services.ts';
import { attachmentsFor, type WebAuthnLevel } from './ceremonies.ts';
import { CredentialStore } from './credential-store.ts';

export type VerifiedOutcome = Extract<LoginOutcome, { status: 'verified' }>;

/** A login waiting for its WebAuthn assertion. */
export interface PendingStepUp {
  level: WebAuthnLevel;
  outcome: VerifiedOutcome;
}

/** Who may enrol after a login, and from which browser. */
export interface EnrolmentGrant {
  accountId: string;
  displayName: string;
  binding: string;
}

export const ENROLMENT_TTL_SECONDS = 600;
/** The pending step-up lives as long as AUTHENTICATING may last. */
const PENDING_TTL_SECONDS = 600;

export const pendingKey = (uid: string) => `webauthn:pending:${uid}`;
export const enrolmentKey = (uid: string) => `webauthn:enrol:${uid}`;

/** The level a decision asks WebAuthn for, or `null` when WebAuthn cannot answer it. */
export function webauthnLevelOf(decision: Decision): WebAuthnLevel | null {
  if (decision.kind === 'flag' && decision.level === 3 && decision.reasons[0] === 'LEVEL3_UNAVAILABLE') return 3;
  if (decision.kind === 'flag' && decision.level === 2 && decision.reasons[0] === 'LEVEL2_UNAVAILABLE') return 2;
  if (decision.kind === 'step_up' && decision.level === 2) return 2;
  return null;
}

/** Whether the account has a credential that can satisfy `level`. */
export async function hasCredentialFor(services: Services, accountId: string, level: WebAuthnLevel): Promise<boolean> {
  const all = await new CredentialStore(services.pool).ofAccount(accountId);
  return all.some((c) => attachmentsFor(level).includes(c.attachment));
}

/** Sends the login to the WebAuthn page when it can be answered there; `false` leaves it to the caller. */
export async function offerWebAuthn(ctx: Context, services: Services, uid: string, outcome: VerifiedOutcome): Promise<boolean> {
  const level = webauthnLevelOf(outcome.decision);
  if (level === null || !(await hasCredentialFor(services, outcome.accountId, level))) return false;
  const pending: PendingStepUp = { level, outcome };
  await services.redis.set(pendingKey(uid), JSON.stringify(pending), 'EX', PENDING_TTL_SECONDS);
  await services.flow.transition(uid, 'AUTHENTICATING', {
    component: 'webauthn',
    requestId: ctx.state.requestId as string,
    details: { method: 'webauthn', level, reasons: outcome.decision.reasons },
  });
  ctx.status = 303;
  ctx.redirect(`/interaction/${encodeURIComponent(uid)}/webauthn/authenticate`);
  return true;
}

/** Lets this browser enrol a credential for the account of an allowed level ≤ 1 login. */
export async function grantEnrolment(_ctx: Context, services: Services, uid: string, outcome: VerifiedOutcome): Promise<void> {
  if ((outcome.decision.level ?? 0) > 1) return;
  // the browser that started the upstream login (its binding was checked when the IdP answered)
  const binding = (await services.logins.load(uid))?.browserBinding;
  if (!binding) return;
  // no name in Redis: the enrolment page reads it from the (sealed) account record (enrol.ts)
  const grant: Omit<EnrolmentGrant, 'displayName'> = { accountId: outcome.accountId, binding };
  await services.redis.set(enrolmentKey(uid), JSON.stringify(grant), 'EX', ENROLMENT_TTL_SECONDS);
}

/** `amr` (RFC 8176) of a login confirmed with WebAuthn: `hwk` for a security key, `user` + `mfa` for level 2. */
export function webauthnAmr(level: WebAuthnLevel): string[] {
  if (level === 3) return ['saml', 'hwk', 'mfa'];
  if (level === 2) return ['saml', 'user', 'mfa'];
  throw new Error(`unknown level ${String(level)}`);
}
