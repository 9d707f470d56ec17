/**
 * GET/POST /interaction/:uid/webauthn/register?kind=cross-platform|platform — enrols a WebAuthn
 * credential for the account of a login that just completed at level ≤ 1 (step-up.ts grants it), in the
 * browser that did that login (browser-binding cookie), within 10 minutes, once. Anything else is
 * `WEBAUTHN_ENROLMENT_NOT_ALLOWED` (403). `cross-platform` = a roaming FIDO2 security key (level 3),
 * `platform` = this device's authenticator with user verification (level 2).
 */
import type { Context } from 'koa';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { readForm } from '../http/read-form.ts';
import type { Services } from '../services.ts';
import { browserBinding } from '../session/browser-binding.ts';
import { registrationOptions, relyingPartyOf, verifyRegistration } from './ceremonies.ts';
import { ChallengeStore } from './challenges.ts';
import { CredentialStore, type Attachment } from './credential-store.ts';
import { ceremonyPage, messagePage, webauthnCsp } from './pages.ts';
import { enrolmentKey, type EnrolmentGrant } from './step-up.ts';
import { WebAuthnError } from './webauthn-error.ts';

const FORM_LIMIT = 64 * 1024;

function kindOf(raw: unknown): Attachment {
  if (raw === undefined || raw === 'cross-platform') return 'cross-platform';
  if (raw === 'platform') return 'platform';
  throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'unknown kind of authenticator', { detail: String(raw) });
}

async function grantOf(ctx: Context, services: Services, uid: string): Promise<EnrolmentGrant> {
  const raw = await services.redis.get(enrolmentKey(uid));
  const stored = raw ? (JSON.parse(raw) as Omit<EnrolmentGrant, 'displayName'>) : null;
  const account = stored ? await services.accounts.load(stored.accountId) : null;
  const grant: EnrolmentGrant | null = stored && account ? { ...stored, displayName: `${account.pivot.given_name} ${account.pivot.family_name}` } : null;
  const binding = browserBinding(ctx, services.config.secrets.browserBindingKey, services.config.cookies.secure, false);
  if (!grant || binding !== grant.binding) {
    throw new WebAuthnError('WEBAUTHN_ENROLMENT_NOT_ALLOWED', 'A security key can be added only right after signing in, from the same browser.', { status: 403 });
  }
  return grant;
}

function html(ctx: Context, body: string, status = 200): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', webauthnCsp());
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}

async function render(ctx: Context, services: Services, uid: string, grant: EnrolmentGrant, kind: Attachment, error?: string): Promise<void> {
  const existing = await new CredentialStore(services.pool).ofAccount(grant.accountId);
  const options = await registrationOptions(relyingPartyOf(services.config.issuer), grant, kind, existing);
  await new ChallengeStore(services.redis).issue('register', uid, { challenge: options.challenge, accountId: grant.accountId });
  const key = kind === 'cross-platform';
  html(ctx, ceremonyPage({
    ceremony: 'register',
    action: `/interaction/${encodeURIComponent(uid)}/webauthn/register`,
    title: key ? 'Add a security key' : 'Use this device to confirm sign-ins',
    intro: key
      ? 'Sensitive sign-ins may ask for a physical security key. Insert or tap your key when asked to register it.'
      : 'Sensitive sign-ins may ask this device to confirm it is you (fingerprint, face or PIN).',
    button: key ? 'Register my security key' : 'Register this device',
    options,
    hidden: { kind },
    ...(error ? { error } : {}),
  }), error ? 400 : 200);
}

export async function enrolmentPage(ctx: Context, services: Services, uid: string): Promise<void> {
  const grant = await grantOf(ctx, services, uid);
  await render(ctx, services, uid, grant, kindOf(ctx.query.kind));
}

export async function enrolmentAnswer(ctx: Context, services: Services, uid: string): Promise<void> {
  const grant = await grantOf(ctx, services, uid);
  const form = await readForm(ctx, FORM_LIMIT);
  const kind = kindOf(form.kind);
  try {
    const issued = await new ChallengeStore(services.redis).take('register', uid);
    if (issued.accountId !== grant.accountId) throw new WebAuthnError('WEBAUTHN_ENROLMENT_NOT_ALLOWED', 'not this account', { status: 403 });
    let response: RegistrationResponseJSON;
    try {
      response = JSON.parse(form.response ?? '') as RegistrationResponseJSON;
      if (typeof response?.response?.clientDataJSON !== 'string') throw new Error('shape');
    } catch (cause) {
      throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'The authenticator answer could not be read.', { cause });
    }
    const credential = await verifyRegistration(relyingPartyOf(services.config.issuer), response, issued.challenge, grant.accountId, kind);
    if (!(await services.redis.del(enrolmentKey(uid)))) throw new WebAuthnError('WEBAUTHN_ENROLMENT_NOT_ALLOWED', 'already used', { status: 403 });
    await new CredentialStore(services.pool).add(credential);
    await services.audit.append({ sessionId: uid, from: null, to: 'WEBAUTHN_ENROLLED', component: 'webauthn', requestId: ctx.state.requestId as string, details: { attachment: kind, userVerified: credential.userVerified } });
  } catch (error) {
    if (!(error instanceof WebAuthnError) || error.code === 'WEBAUTHN_ENROLMENT_NOT_ALLOWED') throw error;
    services.logger.warn({ loginId: uid, code: error.code, detail: error.detail }, 'webauthn enrolment refused');
    return render(ctx, services, uid, grant, kind, error.code);
  }
  html(ctx, messagePage('Security key added', kind === 'cross-platform' ? 'Your security key is registered. Sensitive sign-ins will ask for it.' : 'This device is registered. Sensitive sign-ins will ask it to confirm it is you.'));
}
