/**
 * GET/POST /interaction/:uid/webauthn/register?level=2|3&kind=platform|cross-platform — enrols a WebAuthn
 * credential for the account of a login that just completed, in the browser that did that login
 * (browser-binding cookie), while the session it opened there stands (not after a logout), within 10 minutes,
 * once (step-up.ts grants it):
 *
 * - only at a level the login earned: a fresh LoA-high login → level 2, a fresh login decided at level 3 →
 *   level 3; otherwise `WEBAUTHN_ENROLMENT_NOT_ALLOWED` (403). An ordinary login enrols nothing;
 * - level 3 needs a configured attestation trust list (`WEBAUTHN_LEVEL3_UNAVAILABLE`, 403, otherwise) and a
 *   security key whose `direct` attestation verifies against it (attestation.ts);
 * - when the account already has a credential (level ≥ 2), the person first asserts with one of them
 *   (`step=confirm`); a registration posted without that is `WEBAUTHN_EXISTING_CREDENTIAL_REQUIRED` (403);
 * - each enrolment is audited (`WEBAUTHN_ENROLLED`: level, kind, attestation format, model) and the account
 *   page (account-page.ts) lists the credentials with their dates.
 */
import type { Context } from 'koa';
import type { AuditRecord } from '../audit/audit-log.ts';
import { LuaScript } from '../store/lua-script.ts';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { escapeHtml, page } from '../http/html.ts';
import { readForm } from '../http/read-form.ts';
import type { WebAuthnDeps } from './deps.ts';
import { bindingKeys, browserBindings } from '../session/browser-binding.ts';
import {
  authenticationOptions,
  registrationOptions,
  relyingPartyOf,
  verifyAssertion,
  verifyRegistration,
  type EnrolmentRequest,
} from './ceremonies.ts';
import { ChallengeStore } from './challenges.ts';
import { levelPolicyOf, userVerificationFor, webauthnLevel } from './credential-levels.ts';
import { CredentialStore, credentialRef, type Attachment, type StoredCredential } from './credential-store.ts';
import { keysNotice } from './key-notice.ts';
import { ceremonyPage, webauthnCsp } from './pages.ts';
import { enrolmentKey, type EnrolmentGrant } from './step-up.ts';
import { storeEnrolment } from './keys-of-a-stopped-login.ts';
import { spendEnrolmentGrant } from './enrolment-spend.ts';
import { suspendingAClone } from './suspend-cloned-key.ts';
import { WebAuthnError } from './webauthn-error.ts';

const FORM_LIMIT = 64 * 1024;

function kindOf(raw: unknown): Attachment {
  if (raw === 'cross-platform' || raw === 'platform') return raw;
  throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'unknown kind of authenticator', { detail: String(raw) });
}

const notAllowed = (detail: string) =>
  new WebAuthnError(
    'WEBAUTHN_ENROLMENT_NOT_ALLOWED',
    'A security key can be added only right after a sign-in at the level it is for, from the same browser.',
    { status: 403, detail },
  );

const alreadyRegistered = () =>
  new WebAuthnError('WEBAUTHN_CREDENTIAL_ALREADY_REGISTERED', 'This security key is already registered.');

/** KEYS[1] the grant; ARGV the account, level and binding read. Marks it confirmed if it is still that grant. */
const CONFIRM = new LuaScript(`
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local grant = cjson.decode(raw)
if grant.accountId ~= ARGV[1] or tostring(grant.level) ~= ARGV[2] or grant.binding ~= ARGV[3] then return 0 end
grant.confirmed = true
redis.call('SET', KEYS[1], cjson.encode(grant), 'KEEPTTL')
return 1
`);

/** The audit record of an enrolment. */
function enrolledRecord(ctx: Context, uid: string, credential: StoredCredential, confirmed: boolean): AuditRecord {
  return {
    sessionId: uid,
    from: null,
    to: 'WEBAUTHN_ENROLLED',
    component: 'webauthn',
    requestId: ctx.state.requestId as string,
    details: {
      level: credential.level,
      attachment: credential.attachment,
      attestationFormat: credential.attestationFormat,
      aaguid: credential.aaguid,
      userVerified: credential.userVerified,
      credential: credentialRef(credential.credentialId),
      confirmedWithExisting: confirmed,
    },
  };
}

/** The grant of this browser for `uid`, or 403. */
export async function grantOf(ctx: Context, deps: WebAuthnDeps, uid: string): Promise<EnrolmentGrant> {
  const raw = await deps.redis.get(enrolmentKey(uid));
  const stored = raw ? (JSON.parse(raw) as Omit<EnrolmentGrant, 'displayName'>) : null;
  const account = stored ? await deps.accounts.load(stored.accountId) : null;
  const grant: EnrolmentGrant | null =
    stored && account ? { ...stored, displayName: `${account.pivot.given_name} ${account.pivot.family_name}` } : null;
  // the grant's binding, under the current key or one used before a rotation (this browser's cookie either way)
  const bindings = browserBindings(ctx, bindingKeys(deps.config.secrets), deps.config.cookies);
  if (!grant || !bindings.includes(grant.binding)) throw notAllowed('no grant for this browser');
  // and only while the session that login opened in this browser stands on that very login: after a logout (or
  // a revocation, or another person's login on a shared computer) the login's page in the history is no way in,
  // nor once the same account signs in again there (with a weaker credential, maybe: that login has its own grant)
  const session = await sessionOf(ctx, deps.provider());
  if (session?.accountId !== grant.accountId || session.authTime !== grant.authTime)
    throw notAllowed("this browser's session has ended, or stands on another login");
  return grant;
}

/** The account and login time of the browser's oidc-provider session (its signed cookie); none: ended, revoked. */
async function sessionOf(ctx: Context, provider: ReturnType<WebAuthnDeps['provider']>) {
  const id = provider
    .createContext(ctx.req, ctx.res)
    .cookies.get(provider.cookieName('session'), { signed: true } as never);
  const session = id ? await provider.Session.find(id) : undefined;
  return session ? { accountId: session.accountId, authTime: session.authTime() } : undefined;
}

/** What this enrolment asks for, checked against what the login earned and what the deployment offers. */
function requestOf(deps: WebAuthnDeps, grant: EnrolmentGrant, query: Record<string, unknown>): EnrolmentRequest {
  const level = webauthnLevel(query.level);
  const attachment = kindOf(query.kind);
  if (level === 3 && !levelPolicyOf(deps.config.webauthn).level3Available) {
    throw new WebAuthnError(
      'WEBAUTHN_LEVEL3_UNAVAILABLE',
      'Security keys are not accepted for this kind of sign-in here.',
      { status: 403 },
    );
  }
  if (level > grant.level) throw notAllowed(`the login earned level ${grant.level}, not ${level}`);
  return { level, attachment, userVerification: userVerificationFor(level, levelPolicyOf(deps.config.webauthn)) };
}

/** The account's credentials that stand in for something (legacy level-1 ones do not). */
async function standing(deps: WebAuthnDeps, accountId: string): Promise<StoredCredential[]> {
  return (await new CredentialStore(deps.pool).ofAccount(accountId)).filter((c) => c.level >= 2);
}

function html(ctx: Context, body: string, status = 200): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', webauthnCsp());
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}

const action = (uid: string, request: EnrolmentRequest) =>
  `/interaction/${encodeURIComponent(uid)}/webauthn/register?level=${request.level}&kind=${request.attachment}`;

async function renderConfirm(
  ctx: Context,
  deps: WebAuthnDeps,
  uid: string,
  grant: EnrolmentGrant,
  request: EnrolmentRequest,
  existing: StoredCredential[],
  error?: string,
): Promise<void> {
  const options = await authenticationOptions(relyingPartyOf(deps.config.issuer), existing, 2);
  await new ChallengeStore(deps.redis).issue('authenticate', uid, {
    challenge: options.challenge,
    accountId: grant.accountId,
  });
  html(
    ctx,
    ceremonyPage({
      ceremony: 'authenticate',
      action: action(uid, request),
      title: 'Confirm with a key you already have',
      intro:
        'Your account already has a security key or device. To add another one, first confirm with one you already registered.',
      notice: keysNotice(existing),
      button: 'Use a key I already registered',
      options,
      hidden: { step: 'confirm' },
      ...(error ? { error } : {}),
    }),
    error ? 400 : 200,
  );
}

async function renderRegister(
  ctx: Context,
  deps: WebAuthnDeps,
  uid: string,
  grant: EnrolmentGrant,
  request: EnrolmentRequest,
  error?: string,
): Promise<void> {
  const existing = await new CredentialStore(deps.pool).ofAccount(grant.accountId);
  const options = await registrationOptions(relyingPartyOf(deps.config.issuer), grant, request, existing);
  await new ChallengeStore(deps.redis).issue('register', uid, {
    challenge: options.challenge,
    accountId: grant.accountId,
  });
  const key = request.attachment === 'cross-platform';
  html(
    ctx,
    ceremonyPage({
      ceremony: 'register',
      action: action(uid, request),
      title: key ? 'Add a security key' : 'Use this device to confirm sign-ins',
      intro: key
        ? 'Sensitive sign-ins may ask for a physical security key. Insert or tap your key when asked to register it.'
        : 'Sensitive sign-ins may ask this device to confirm it is you (fingerprint, face or PIN).',
      button: key ? 'Register my security key' : 'Register this device',
      options,
      hidden: { step: 'register' },
      ...(error ? { error } : {}),
    }),
    error ? 400 : 200,
  );
}

export async function enrolmentPage(ctx: Context, deps: WebAuthnDeps, uid: string): Promise<void> {
  const grant = await grantOf(ctx, deps, uid);
  const request = requestOf(deps, grant, ctx.query);
  const existing = await standing(deps, grant.accountId);
  if (existing.length > 0 && !grant.confirmed) return renderConfirm(ctx, deps, uid, grant, request, existing);
  await renderRegister(ctx, deps, uid, grant, request);
}

function parse<T>(raw: string | undefined, check: (value: T) => boolean): T {
  try {
    const value = JSON.parse(raw ?? '') as T;
    if (!check(value)) throw new Error('shape');
    return value;
  } catch (cause) {
    throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'The authenticator answer could not be read.', { cause });
  }
}

/** step=confirm: an assertion from one of the account's existing credentials unlocks adding another. */
async function confirmExisting(
  ctx: Context,
  deps: WebAuthnDeps,
  uid: string,
  grant: EnrolmentGrant,
  request: EnrolmentRequest,
  raw: string | undefined,
): Promise<void> {
  const existing = await standing(deps, grant.accountId);
  try {
    const issued = await new ChallengeStore(deps.redis).take('authenticate', uid);
    const response = parse<AuthenticationResponseJSON>(
      raw,
      (r) => typeof r?.id === 'string' && typeof r.response?.authenticatorData === 'string',
    );
    const credential = existing.find((c) => c.credentialId === response.id);
    if (!credential || issued.accountId !== grant.accountId)
      throw new WebAuthnError('WEBAUTHN_CREDENTIAL_UNKNOWN', 'This security key is not registered for you.');
    await suspendingAClone(deps, uid, credential.credentialId, 'confirm', async () => {
      const result = await verifyAssertion(
        relyingPartyOf(deps.config.issuer),
        response,
        issued.challenge,
        credential,
        2,
        levelPolicyOf(deps.config.webauthn),
      );
      await new CredentialStore(deps.pool).advanceCounter(credential.credentialId, result.newCounter);
    });
  } catch (error) {
    if (!(error instanceof WebAuthnError)) throw error;
    deps.logger.warn(
      { loginId: uid, code: error.code, detail: error.detail },
      'webauthn enrolment confirmation refused',
    );
    return renderConfirm(ctx, deps, uid, grant, request, existing, error.code);
  }
  // confirmed only on the grant this request read, if it is still there: a registration that spent it meanwhile,
  // or its expiry, is not undone by writing the earlier copy back
  if ((await CONFIRM.run(deps.redis, [enrolmentKey(uid)], [grant.accountId, grant.level, grant.binding])) !== 1)
    throw notAllowed('already used');
  ctx.status = 303;
  ctx.redirect(action(uid, request));
}

export async function enrolmentAnswer(ctx: Context, deps: WebAuthnDeps, uid: string): Promise<void> {
  const grant = await grantOf(ctx, deps, uid);
  const request = requestOf(deps, grant, ctx.query);
  const form = await readForm(ctx, FORM_LIMIT);
  if (form.step === 'confirm') return confirmExisting(ctx, deps, uid, grant, request, form.response);
  if (form.step !== 'register')
    throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'unknown step', { detail: String(form.step) });
  if ((await standing(deps, grant.accountId)).length > 0 && !grant.confirmed) {
    throw new WebAuthnError(
      'WEBAUTHN_EXISTING_CREDENTIAL_REQUIRED',
      'To add a key, first confirm with one you already registered.',
      { status: 403 },
    );
  }
  let credential: StoredCredential;
  try {
    const issued = await new ChallengeStore(deps.redis).take('register', uid);
    if (issued.accountId !== grant.accountId) throw notAllowed('not this account');
    const response = parse<RegistrationResponseJSON>(
      form.response,
      (r) => typeof r?.response?.clientDataJSON === 'string',
    );
    credential = await verifyRegistration(
      relyingPartyOf(deps.config.issuer),
      response,
      issued.challenge,
      grant.accountId,
      request,
      deps.config.webauthn.attestation,
    );
    // an id is registered once, for one account (WebAuthn L3 §7.1): refused here, the grant kept
    if (await new CredentialStore(deps.pool).has(credential.credentialId)) throw alreadyRegistered();
  } catch (error) {
    if (!(error instanceof WebAuthnError) || error.status === 403) throw error;
    deps.logger.warn({ loginId: uid, code: error.code, detail: error.detail }, 'webauthn enrolment refused');
    return renderRegister(ctx, deps, uid, grant, request, error.code);
  }
  // one enrolment per grant, spent only if it is still the grant this request read (enrolment-spend.ts); the browser
  // keeps its view of the account page
  if (!(await spendEnrolmentGrant(deps.redis, uid, grant))) throw notAllowed('already used');
  // the credential and its audit record in one transaction: both stored, or neither; under the login's lock, and
  // not once a late verdict stopped the login (keys-of-a-stopped-login.ts). Registered in the meantime by a
  // concurrent answer: refused (the grant is spent)
  const record = enrolledRecord(ctx, uid, credential, grant.confirmed);
  if (!(await storeEnrolment(deps.pool, deps.audit, uid, credential, record))) throw alreadyRegistered();
  const account = `/interaction/${encodeURIComponent(uid)}/webauthn/credentials`;
  const done =
    credential.attachment === 'cross-platform'
      ? 'Your security key is registered. Sensitive sign-ins will ask for it.'
      : 'This device is registered. Sensitive sign-ins will ask it to confirm it is you.';
  html(
    ctx,
    page(
      'Security key added',
      `<h1>Security key added</h1><p role="status">${escapeHtml(done)}</p><p><a href="${escapeHtml(account)}">See all your keys</a></p>`,
    ),
  );
}
