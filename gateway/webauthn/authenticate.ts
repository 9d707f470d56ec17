/**
 * GET/POST /interaction/:uid/webauthn/authenticate — confirms a level-2/3 sign-in with an enrolled
 * credential. Only the browser holding the interaction, only while a step-up is parked for it
 * (step-up.ts). A refused assertion shows the page again with its code and a fresh challenge; after
 * {@link MAX_ATTEMPTS} refusals the login fails (`WEBAUTHN_ATTEMPTS_EXHAUSTED`) and the RP gets
 * access_denied. A verified assertion finishes the login with `amr` `hwk` (level 3) or `user` + `mfa` (level 2).
 */
import { requestLanguage } from '../http/language.ts';
import type { Context } from 'koa';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { GatewayError } from '../errors.ts';
import { readForm } from '../http/read-form.ts';
import { admitIdentity, markFailed } from '../ratelimit/scoped.ts';
import { finish } from '../completion/finish-login.ts';
import type { Services } from '../services.ts';
import { authenticationOptions, attachmentsFor, relyingPartyOf, verifyAssertion } from './ceremonies.ts';
import { ChallengeStore } from './challenges.ts';
import { levelPolicyOf, satisfies } from './credential-levels.ts';
import { CredentialStore } from './credential-store.ts';
import { keysNotice } from './key-notice.ts';
import { ceremonyPage, webauthnCsp } from './pages.ts';
import { FRESH_LOGIN_SECONDS, grantEnrolment, pendingKey, webauthnAmr, type PendingStepUp } from './step-up.ts';
import { WebAuthnError } from './webauthn-error.ts';

export const MAX_ATTEMPTS = 3;
const FORM_LIMIT = 64 * 1024;

async function context(ctx: Context, services: Services, uid: string) {
  const details = await services.holder.provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) throw new GatewayError('INTERACTION_INVALID', 400, 'interaction mismatch');
  const raw = await services.redis.get(pendingKey(uid));
  if (!raw) throw new GatewayError('LOGIN_STATE_INVALID', 400, 'nothing to confirm for this sign-in');
  return { details, pending: JSON.parse(raw) as PendingStepUp };
}

async function render(
  ctx: Context,
  services: Services,
  uid: string,
  pending: PendingStepUp,
  error?: string,
): Promise<void> {
  const rp = relyingPartyOf(services.config.issuer);
  const all = await new CredentialStore(services.pool).ofAccount(pending.outcome.accountId);
  const policy = levelPolicyOf(services.config.webauthn);
  const now = new Date();
  const usable = all.filter(
    (c) => attachmentsFor(pending.level).includes(c.attachment) && satisfies(c, pending.level, policy, now),
  );
  const options = await authenticationOptions(rp, usable, pending.level);
  await new ChallengeStore(services.redis).issue('authenticate', uid, {
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
    explanation: w.why,
    intro: key ? w.introKey : w.introDevice,
    notice: keysNotice(all.filter((c) => c.level >= 2)),
    button: key ? w.buttonKey : w.buttonDevice,
    lang,
    options,
    ...(error ? { error } : {}),
  });
}

/**
 * The WebAuthn step-up explains itself, in French and English (issue #13 item 9), like the page before a
 * step-up at the IdP (interaction/step-up-page.ts): why, in words a citizen understands, never a score or a
 * detection detail.
 */
const STEP_UP_WORDS = {
  fr: {
    title: 'Confirmez que c’est bien vous',
    why: 'Pour protéger votre compte, ce service demande une vérification supplémentaire, par exemple lors d’une connexion depuis un nouvel appareil ou pour une opération importante. Ce n’est pas un refus.',
    introKey: 'Cette connexion demande votre clé de sécurité : insérez-la ou touchez-la quand on vous le demande.',
    introDevice: 'Cette connexion demande à votre appareil de confirmer que c’est vous (empreinte, visage ou code).',
    buttonKey: 'Utiliser ma clé de sécurité',
    buttonDevice: 'Confirmer avec cet appareil',
  },
  en: {
    title: 'Confirm it is you',
    why: 'To protect your account, this service asks for an extra check, for example when you sign in from a new device or for an important operation. It is not a refusal.',
    introKey: 'For your protection, this sign-in needs your security key. Insert or tap it when asked.',
    introDevice: 'For your protection, this sign-in needs your device to confirm it is you (fingerprint, face or PIN).',
    buttonKey: 'Use my security key',
    buttonDevice: 'Confirm with this device',
  },
} as const;

export async function authenticationPage(ctx: Context, services: Services, uid: string): Promise<void> {
  const { pending } = await context(ctx, services, uid);
  await render(ctx, services, uid, pending);
}

export async function authenticationAnswer(ctx: Context, services: Services, uid: string): Promise<void> {
  const { details, pending } = await context(ctx, services, uid);
  const requestId = ctx.state.requestId as string;
  // per identity (issue #15): the pivot identity's account; a refused assertion empties its failures bucket
  if (await admitIdentity(ctx, `account\n${pending.outcome.accountId}`))
    throw new GatewayError('RATE_LIMITED', 429, 'too many attempts for this account; retry in a moment');
  const form = await readForm(ctx, FORM_LIMIT);
  let verified;
  try {
    verified = await checkAnswer(services, uid, pending, form.response ?? '');
  } catch (error) {
    if (!(error instanceof WebAuthnError)) throw error;
    services.logger.warn({ loginId: uid, code: error.code, detail: error.detail }, 'webauthn assertion refused');
    const attempts = await services.redis.incr(`webauthn:attempts:${uid}`);
    await services.redis.expire(`webauthn:attempts:${uid}`, 600);
    if (attempts < MAX_ATTEMPTS) return render(ctx, services, uid, pending, error.code);
    await services.redis.del(pendingKey(uid));
    markFailed(ctx);
    await services.flow.transition(uid, 'FAILED', {
      component: 'webauthn',
      errorCode: 'WEBAUTHN_ATTEMPTS_EXHAUSTED',
      requestId,
    });
    await services.holder.provider.interactionFinished(
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
  const taken = (await services.redis.getdel(pendingKey(uid))) as string | null;
  if (!taken) throw new GatewayError('LOGIN_STATE_INVALID', 400, 'nothing to confirm for this sign-in');
  const { outcome, level } = pending;
  await services.flow.transition(uid, 'FRAUD_CHECK', {
    component: 'webauthn',
    requestId,
    details: { method: 'webauthn', level, attachment: verified.attachment, userVerified: verified.userVerified },
  });
  await services.flow.transition(uid, 'TOKEN_GENERATION', {
    component: 'policy',
    requestId,
    details: { decision: 'allow', level, score: outcome.fraudScore },
  });
  await grantEnrolment(ctx, services, uid, outcome, level, FRESH_LOGIN_SECONDS); // the account page; another key only with a confirmation
  await finish(
    ctx,
    services,
    details,
    uid,
    { ...outcome, decision: { ...outcome.decision, kind: 'allow', level, reasons: ['WEBAUTHN_VERIFIED'] } },
    'TOKEN_GENERATION',
    webauthnAmr(level),
  );
}

async function checkAnswer(services: Services, uid: string, pending: PendingStepUp, raw: string) {
  const issued = await new ChallengeStore(services.redis).take('authenticate', uid);
  let response: AuthenticationResponseJSON;
  try {
    response = JSON.parse(raw) as AuthenticationResponseJSON;
    if (typeof response?.id !== 'string' || typeof response.response?.authenticatorData !== 'string')
      throw new Error('shape');
  } catch (cause) {
    throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'The authenticator answer could not be read.', { cause });
  }
  const store = new CredentialStore(services.pool);
  const credential = await store.get(pending.outcome.accountId, response.id);
  if (!credential || issued.accountId !== pending.outcome.accountId)
    throw new WebAuthnError('WEBAUTHN_CREDENTIAL_UNKNOWN', 'This security key is not registered for you.');
  const result = await verifyAssertion(
    relyingPartyOf(services.config.issuer),
    response,
    issued.challenge,
    credential,
    pending.level,
    levelPolicyOf(services.config.webauthn),
  );
  await store.advanceCounter(credential.credentialId, result.newCounter);
  return { attachment: credential.attachment, userVerified: result.userVerified };
}
