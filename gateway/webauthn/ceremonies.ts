/**
 * The two WebAuthn ceremonies and the gateway's rules on top of `@simplewebauthn/server`:
 *
 * - the RP ID is the issuer's hostname and the only accepted origin is the issuer's origin; a response
 *   for another origin is `WEBAUTHN_ORIGIN_MISMATCH`, for another RP ID `WEBAUTHN_RPID_MISMATCH`;
 * - a credential satisfies only the level it was enrolled for, and level 3 only with verified attestation
 *   and after its cool-down (credential-levels.ts: `WEBAUTHN_CREDENTIAL_LEVEL_TOO_LOW`,
 *   `WEBAUTHN_CREDENTIAL_COOLING_DOWN`, ...);
 * - level 2 (biometric) needs user verification (`WEBAUTHN_USER_NOT_VERIFIED`), at enrolment and at each
 *   assertion, and so does level 3 unless `webauthn.level3UserVerification` is false; level 3 (physical token) needs a roaming security key enrolled with `direct` attestation
 *   verified against the configured roots (attestation.ts) and an assertion reported as `cross-platform`
 *   (`WEBAUTHN_ATTACHMENT_MISMATCH`);
 * - the signature counter of a verified answer must grow (`WEBAUTHN_COUNTER_REGRESSION`; enforced again atomically
 *   by the store): compared only once the signature is verified, since the key is then suspended as cloned;
 * - anything else the library refuses is `WEBAUTHN_VERIFICATION_FAILED`.
 *
 * Level-2 enrolments ask for no attestation ('none'): the attachment is what the browser reports. Level 3
 * relies on attestation instead (attestation.ts), never on what the browser reports.
 */
import { createHash } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type WebAuthnCredential,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { checkAttestation, installRoots, type AttestationTrust } from './attestation.ts';
import type { Attachment, StoredCredential } from './credential-store.ts';
import { refusalFor, userVerificationFor, type LevelPolicy, type WebAuthnLevel } from './credential-levels.ts';
import { transportsOf } from './transports.ts';
import { WebAuthnError } from './webauthn-error.ts';

export type { WebAuthnLevel } from './credential-levels.ts';

/** What an enrolment asks for: the level the credential will stand in for, and the kind of authenticator. */
export interface EnrolmentRequest {
  level: WebAuthnLevel;
  attachment: Attachment;
  /**
   * Whether the authenticator must verify the person (`userVerificationFor`): required unless false (level 3 where
   * the deployment accepts possession alone).
   */
  userVerification?: boolean;
}

export interface RelyingParty {
  rpId: string;
  origin: string;
  name: string;
}

/** The RP of a gateway: RP ID = the issuer's hostname, origin = the issuer's origin. */
export function relyingPartyOf(issuer: string): RelyingParty {
  const url = new URL(issuer);
  return { rpId: url.hostname, origin: url.origin, name: 'Identity gateway' };
}

const TIMEOUT_MS = 120_000;

/** The attachments that may satisfy a level: level 3 only a roaming key; level 2 either, with UV. */
export function attachmentsFor(level: WebAuthnLevel): Attachment[] {
  if (level === 3) return ['cross-platform'];
  if (level === 2) return ['platform', 'cross-platform'];
  throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'unknown level', { detail: String(level) });
}

/** Options for enrolling a credential for `accountId` at `request.level` (existing ones excluded). */
export async function registrationOptions(
  rp: RelyingParty,
  who: { accountId: string; displayName: string },
  request: EnrolmentRequest,
  existing: StoredCredential[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { attachment, level } = request;
  const uv = request.userVerification !== false;
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.rpId,
    userID: new Uint8Array(createHash('sha256').update(`webauthn-user-v1\u0000${who.accountId}`).digest()),
    userName: who.displayName,
    userDisplayName: who.displayName,
    timeout: TIMEOUT_MS,
    attestationType: level === 3 ? 'direct' : 'none',
    excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: c.transports })),
    authenticatorSelection: {
      authenticatorAttachment: attachment,
      residentKey: 'discouraged',
      userVerification: uv ? 'required' : 'preferred',
    },
  });
}

/**
 * Checks an enrolment response; the credential to store, at `request.level`. Level 3: `direct` attestation
 * verified against `trust` (attestation.ts).
 */
export async function verifyRegistration(
  rp: RelyingParty,
  response: RegistrationResponseJSON,
  expectedChallenge: string,
  accountId: string,
  request: EnrolmentRequest,
  trust: AttestationTrust,
): Promise<StoredCredential> {
  const { attachment, level } = request;
  const transports = transportsOf(response.response.transports);
  checkOrigin(rp, response.response.clientDataJSON);
  if (response.authenticatorAttachment !== attachment) {
    throw new WebAuthnError(
      'WEBAUTHN_ATTACHMENT_MISMATCH',
      'This is not the kind of authenticator that was asked for.',
      { detail: String(response.authenticatorAttachment) },
    );
  }
  if (level === 3 && attachment !== 'cross-platform')
    throw new WebAuthnError('WEBAUTHN_ATTACHMENT_MISMATCH', 'This sign-in level needs a security key.');
  if (level === 3) installRoots(trust);
  const result = await library(
    () =>
      verifyRegistrationResponse({
        response,
        expectedChallenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.rpId,
        requireUserVerification: request.userVerification !== false,
      }),
    level === 3 ? 'WEBAUTHN_ATTESTATION_UNTRUSTED' : undefined,
  );
  if (!result.verified)
    throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'The authenticator answer could not be verified.');
  const { credential, userVerified, aaguid, fmt, attestationObject } = result.registrationInfo;
  const attested = level === 3 ? checkAttestation(trust, fmt, attestationObject, aaguid) : undefined;
  return {
    credentialId: credential.id,
    accountId,
    publicKey: credential.publicKey,
    counter: credential.counter,
    attachment,
    transports,
    userVerified,
    aaguid,
    level,
    attestationFormat: attested?.format ?? 'none',
    attestationRoot: attested?.root ?? null,
  };
}

/** Options for an assertion at `level` with the account's credentials that can satisfy it. */
export async function authenticationOptions(
  rp: RelyingParty,
  credentials: StoredCredential[],
  level: WebAuthnLevel,
  policy: Pick<LevelPolicy, 'level3UserVerification'> = {},
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: rp.rpId,
    timeout: TIMEOUT_MS,
    userVerification: userVerificationFor(level, policy) ? 'required' : 'preferred',
    allowCredentials: credentials.map((c) => ({ id: c.credentialId, transports: c.transports })),
  });
}

/**
 * Checks an assertion against a stored credential at `level` (the credential must be able to stand in for
 * it now: credential-levels.ts); the authenticator's new counter.
 */
export async function verifyAssertion(
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
  expectedChallenge: string,
  credential: StoredCredential,
  level: WebAuthnLevel,
  policy: LevelPolicy,
): Promise<{ newCounter: number; userVerified: boolean }> {
  if (response.id !== credential.credentialId)
    throw new WebAuthnError('WEBAUTHN_CREDENTIAL_UNKNOWN', 'This security key is not registered for you.');
  if (!attachmentsFor(level).includes(credential.attachment))
    throw new WebAuthnError('WEBAUTHN_ATTACHMENT_MISMATCH', 'This sign-in needs a security key.');
  const refusal = refusalFor(credential, level, policy, new Date());
  if (refusal) throw refusal;
  if (
    level === 3 &&
    response.authenticatorAttachment !== undefined &&
    response.authenticatorAttachment !== 'cross-platform'
  ) {
    throw new WebAuthnError('WEBAUTHN_ATTACHMENT_MISMATCH', 'This sign-in needs a security key.', {
      detail: String(response.authenticatorAttachment),
    });
  }
  checkOrigin(rp, response.response.clientDataJSON);
  const authData = Buffer.from(response.response.authenticatorData, 'base64url');
  if (authData.length < 37)
    throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'The authenticator answer could not be verified.', {
      detail: 'short authenticatorData',
    });
  if (!authData.subarray(0, 32).equals(createHash('sha256').update(rp.rpId).digest())) {
    throw new WebAuthnError('WEBAUTHN_RPID_MISMATCH', 'The authenticator answered for another site.');
  }
  const userVerified = (authData[32]! & 0x04) !== 0;
  const uvRequired = userVerificationFor(level, policy);
  if (uvRequired && !userVerified)
    throw new WebAuthnError(
      'WEBAUTHN_USER_NOT_VERIFIED',
      'Your device did not verify it is you (fingerprint, face or PIN).',
    );
  // the counter is compared once the signature is verified (below), never before: an unsigned answer naming a
  // lower counter proves nothing, and must not get a person's key suspended (suspend-cloned-key.ts)
  const result = await library(() =>
    verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpId,
      credential: {
        id: credential.credentialId,
        publicKey: credential.publicKey as Uint8Array<ArrayBuffer>,
        counter: 0, // the library would compare before the signature; we compare after it
        transports: credential.transports as WebAuthnCredential['transports'],
      },
      requireUserVerification: uvRequired,
    }),
  );
  if (!result.verified)
    throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'The authenticator answer could not be verified.');
  const counter = result.authenticationInfo.newCounter;
  if ((counter > 0 || credential.counter > 0) && counter <= credential.counter) {
    throw new WebAuthnError('WEBAUTHN_COUNTER_REGRESSION', 'This security key could not be accepted.', {
      detail: `counter ${counter} ≤ ${credential.counter}`,
    });
  }
  return { newCounter: counter, userVerified: result.authenticationInfo.userVerified };
}

function checkOrigin(rp: RelyingParty, clientDataJSON: string): void {
  let origin: unknown;
  try {
    origin = (JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { origin?: unknown }).origin;
  } catch (cause) {
    throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'The authenticator answer could not be verified.', {
      detail: 'clientDataJSON',
      cause,
    });
  }
  if (origin !== rp.origin)
    throw new WebAuthnError('WEBAUTHN_ORIGIN_MISMATCH', 'The authenticator answered for another site.', {
      detail: String(origin),
    });
}

/**
 * Runs a library verification; its exceptions become `WEBAUTHN_VERIFICATION_FAILED` (message as detail),
 * or `chainCode` for a certificate-path failure of the attestation.
 */
async function library<T>(run: () => Promise<T>, chainCode?: 'WEBAUTHN_ATTESTATION_UNTRUSTED'): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof WebAuthnError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    const chain =
      (error as { cause?: { code?: unknown } })?.cause?.code === 'CERTIFICATE_PATH_VERIFICATION_FAILED' ||
      /certificate|trust anchor|root/i.test(detail);
    if (chainCode && chain)
      throw new WebAuthnError(chainCode, 'This model of security key is not accepted here.', { detail, cause: error });
    if (/user verification (was )?required/i.test(detail))
      throw new WebAuthnError(
        'WEBAUTHN_USER_NOT_VERIFIED',
        'Your key did not verify it is you (its PIN or fingerprint).',
        {
          detail,
          cause: error,
        },
      );
    throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'The authenticator answer could not be verified.', {
      detail,
      cause: error,
    });
  }
}
