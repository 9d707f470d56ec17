/**
 * GET/POST /interaction/:uid/webauthn/authenticate — confirms a level-2/3 sign-in with an enrolled
 * credential. Only the browser holding the interaction, only while a step-up is parked for it
 * (step-up.ts). A refused assertion shows the page again with its code and a fresh challenge; after
 * {@link MAX_ATTEMPTS} refusals the login fails (`WEBAUTHN_ATTEMPTS_EXHAUSTED`) and the RP gets
 * access_denied. A verified assertion finishes the login with `amr` `hwk` (level 3) or `user` + `mfa` (level 2).
 */
import { requestLanguage } from '../http/language.ts';
import { stepUpReason } from '../http/step-up-reason.ts';
import type { Context } from 'koa';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { GatewayError } from '../errors.ts';
import { readForm } from '../http/read-form.ts';
import type { WebAuthnDeps } from './deps.ts';
import { admitIdentity, markFailed } from '../ratelimit/scoped.ts';
import { authenticationOptions, attachmentsFor, relyingPartyOf, verifyAssertion } from './ceremonies.ts';
import { ChallengeStore } from './challenges.ts';
import { levelPolicyOf, satisfies } from './credential-levels.ts';
import { CredentialStore, credentialRef } from './credential-store.ts';
import { keysNotice } from './key-notice.ts';
import { ceremonyPage, webauthnCsp } from './pages.ts';
import { FRESH_LOGIN_SECONDS, grantEnrolment, webauthnAmr, type PendingStepUp } from './step-up.ts';
import { suspendingAClone } from './suspend-cloned-key.ts';
import { WebAuthnError } from './webauthn-error.ts';
import { refuseAnotherBrowser } from '../session/same-browser.ts';

export const MAX_ATTEMPTS = 3;
const FORM_LIMIT = 64 * 1024;

async function context(ctx: Context, deps: WebAuthnDeps, uid: string) {
  deps.logins.prefetch(uid); // with the interaction's read: one round trip
  const details = await deps.provider().interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) throw new GatewayError('INTERACTION_INVALID', 400, 'interaction mismatch');
  // only in the browser the login went upstream from, before anything is read or taken (session/same-browser.ts)
  await refuseAnotherBrowser(ctx, deps, uid, (await deps.logins.load(uid))?.browserBinding, 'webauthn');
  const pending = await deps.logins.peekSealed<PendingStepUp>('webauthn:pending', uid);
  if (!pending) throw new GatewayError('LOGIN_STATE_INVALID', 400, 'nothing to confirm for this sign-in');
  return { details, pending };
}

async function render(
  ctx: Context,
  deps: WebAuthnDeps,
  uid: string,
  pending: PendingStepUp,
  error?: string,
): Promise<void> {
  const rp = relyingPartyOf(deps.config.issuer);
  const all = await new CredentialStore(deps.pool).ofAccount(pending.outcome.accountId);
  const policy = levelPolicyOf(deps.config.webauthn);
  const now = new Date();
  const usable = all.filter(
    (c) => attachmentsFor(pending.level).includes(c.attachment) && satisfies(c, pending.level, policy, now),
  );
  const options = await authenticationOptions(rp, usable, pending.level, policy);
  await new ChallengeStore(deps.redis).issue('authenticate', uid, {
    challenge: options.challenge,
    accountId: pending.outcome.accountId,
  });
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', webauthnCsp());
  ctx.status = error ? 400 : 200;
  ctx.type = 'html';
  const key = pending.level === 3;
  const lang = requestLanguage(ctx);
  const w = STEP_UP_WORDS[lang];
  ctx.body = ceremonyPage({
    ceremony: 'authenticate',
    action: `/interaction/${encodeURIComponent(uid)}/webauthn/authenticate`,
    title: w.title,
    explanation: stepUpReason(lang),
    intro: key ? w.introKey : w.introDevice,
    notice: keysNotice(all.filter((c) => c.level >= 2)),
    button: key ? w.buttonKey : w.buttonDevice,
    lang,
    options,
    ...(error ? { error } : {}),
  });
}

/**
 * The WebAuthn step-up explains itself, in French and English (issue #13 item 9), with the words of the
 * page before a step-up at the IdP (why: http/step-up-reason.ts), never a score or a detection detail.
 */
const STEP_UP_WORDS = {
  fr: {
    title: 'Confirmez que c’est bien vous',
    introKey: 'Cette connexion demande votre clé de sécurité : insérez-la ou touchez-la quand on vous le demande.',
    introDevice: 'Cette connexion demande à votre appareil de confirmer que c’est vous (empreinte, visage ou code).',
    buttonKey: 'Utiliser ma clé de sécurité',
    buttonDevice: 'Confirmer avec cet appareil',
  },
  en: {
    title: 'Confirm it is you',
    introKey: 'For your protection, this sign-in needs your security key. Insert or tap it when asked.',
    introDevice: 'For your protection, this sign-in needs your device to confirm it is you (fingerprint, face or PIN).',
    buttonKey: 'Use my security key',
    buttonDevice: 'Confirm with this device',
  },
} as const;

export async function authenticationPage(ctx: Context, deps: WebAuthnDeps, uid: string): Promise<void> {
  const { pending } = await context(ctx, deps, uid);
  await render(ctx, deps, uid, pending);
}

export async function authenticationAnswer(ctx: Context, deps: WebAuthnDeps, uid: string): Promise<void> {
  const { details, pending } = await context(ctx, deps, uid);
  const requestId = ctx.state.requestId as string;
  // per identity (issue #15): the pivot identity's account; a refused assertion empties its failures bucket
  if (await admitIdentity(ctx, `account\n${pending.outcome.accountId}`))
    throw new GatewayError('RATE_LIMITED', 429, 'too many attempts for this account; retry in a moment');
  const form = await readForm(ctx, FORM_LIMIT);
  let verified;
  try {
    verified = await checkAnswer(deps, uid, pending, form.response ?? '');
  } catch (error) {
    if (!(error instanceof WebAuthnError)) throw error;
    deps.logger.warn({ loginId: uid, code: error.code, detail: error.detail }, 'webauthn assertion refused');
    const attempts = await deps.redis.incr(`webauthn:attempts:${uid}`);
    await deps.redis.expire(`webauthn:attempts:${uid}`, 600);
    if (attempts < MAX_ATTEMPTS) return render(ctx, deps, uid, pending, error.code);
    await deps.logins.dropSealed('webauthn:pending', uid);
    markFailed(ctx);
    await deps.flow.transition(uid, 'FAILED', {
      component: 'webauthn',
      errorCode: 'WEBAUTHN_ATTEMPTS_EXHAUSTED',
      requestId,
    });
    await deps.provider().interactionFinished(
      ctx.req,
      ctx.res,
      {
        error: 'unmet_authentication_requirements',
        error_description: 'the stronger check this service asked for did not succeed',
      },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const taken = await deps.logins.takeSealed<PendingStepUp>('webauthn:pending', uid);
  if (!taken) throw new GatewayError('LOGIN_STATE_INVALID', 400, 'nothing to confirm for this sign-in');
  const { outcome, level } = pending;
  await deps.flow.transition(uid, 'FRAUD_CHECK', {
    component: 'webauthn',
    requestId,
    details: {
      method: 'webauthn',
      level,
      attachment: verified.attachment,
      userVerified: verified.userVerified,
      // which key answered, as its enrolment record names it (several keys on one account)
      credential: credentialRef(verified.credentialId),
    },
  });
  await deps.flow.transition(uid, 'TOKEN_GENERATION', {
    component: 'policy',
    requestId,
    details: { decision: 'allow', level, score: outcome.fraudScore },
  });
  await grantEnrolment(ctx, deps, uid, outcome, level, FRESH_LOGIN_SECONDS); // the account page; another key only with a confirmation
  await deps.finish(
    ctx,
    details,
    uid,
    { ...outcome, decision: { ...outcome.decision, kind: 'allow', level, reasons: ['WEBAUTHN_VERIFIED'] } },
    'TOKEN_GENERATION',
    webauthnAmr(level),
  );
}

async function checkAnswer(deps: WebAuthnDeps, uid: string, pending: PendingStepUp, raw: string) {
  const issued = await new ChallengeStore(deps.redis).take('authenticate', uid);
  let response: AuthenticationResponseJSON;
  try {
    response = JSON.parse(raw) as AuthenticationResponseJSON;
    if (typeof response?.id !== 'string' || typeof response.response?.authenticatorData !== 'string')
      throw new Error('shape');
  } catch (cause) {
    throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'The authenticator answer could not be read.', { cause });
  }
  const store = new CredentialStore(deps.pool);
  const credential = await store.get(pending.outcome.accountId, response.id);
  if (!credential || issued.accountId !== pending.outcome.accountId)
    throw new WebAuthnError('WEBAUTHN_CREDENTIAL_UNKNOWN', 'This security key is not registered for you.');
  const result = await suspendingAClone(deps, uid, credential.credentialId, 'authenticate', async () => {
    const verified = await verifyAssertion(
      relyingPartyOf(deps.config.issuer),
      response,
      issued.challenge,
      credential,
      pending.level,
      levelPolicyOf(deps.config.webauthn),
    );
    await store.advanceCounter(credential.credentialId, verified.newCounter);
    return verified;
  });
  return {
    credentialId: credential.credentialId,
    attachment: credential.attachment,
    userVerified: result.userVerified,
  };
}
