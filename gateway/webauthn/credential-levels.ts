/**
 * What a WebAuthn credential may stand in for (issue #10 item 10):
 *
 * - a credential records the level of the fresh login it was enrolled after (2: LoA high; 3: a login
 *   decided at level 3), and never satisfies a higher level;
 * - level 2: any credential of level ≥ 2 (the assertion must carry user verification, ceremonies.ts); level 3
 *   too unless `webauthn.level3UserVerification` is false ({@link userVerificationFor});
 * - level 3: a credential of level 3 — a roaming security key whose attestation was verified against the
 *   configured roots at enrolment, the root it ended at still configured — once its cool-down (`webauthn.level3CooldownHours`, default 72 h) has
 *   passed since it was enrolled; before that `WEBAUTHN_CREDENTIAL_COOLING_DOWN`;
 * - a key suspended after a signed answer showed it cloned (suspend-cloned-key.ts) satisfies nothing;
 * - with no attestation root configured, level 3 via WebAuthn is unavailable: no credential can be
 *   enrolled at level 3, and level-3 decisions go to manual review.
 */
import type { WebAuthnConfig } from '../config/webauthn.ts';
import type { StoredCredential } from './credential-store.ts';
import { rootFingerprints } from './attestation.ts';
import { WebAuthnError } from './webauthn-error.ts';

/** Policy levels WebAuthn can satisfy. */
export type WebAuthnLevel = 2 | 3;

/** What the deployment configured (config/webauthn.ts). */
export interface LevelPolicy {
  level3CooldownSeconds: number;
  /** Attestation roots configured: level 3 via WebAuthn is available at all. */
  level3Available: boolean;
  /**
   * The configured roots now (attestation.ts `rootFingerprints`): a level-3 key attested under a root taken out since
   * its enrolment no longer stands in for level 3. A key enrolled before roots were recorded (none recorded) keeps
   * standing in for level 3 whatever the roots: its attestation was not kept, so it cannot be judged again.
   */
  trustedRoots: readonly string[];
  /**
   * `webauthn.attestation.trustedAaguids` now (lower case; empty or unset: any model): a level-3 key of a model
   * taken off the list since it was enrolled no longer stands in for level 3.
   */
  trustedAaguids?: readonly string[];
  /** `webauthn.level3UserVerification`: level 3 needs user verification too (unset: yes). */
  level3UserVerification?: boolean;
}

/** The policy of a deployment's `webauthn` configuration. */
export function levelPolicyOf(config: WebAuthnConfig): LevelPolicy {
  return {
    level3CooldownSeconds: config.level3CooldownSeconds,
    level3Available: config.attestation.rootCertificates.length > 0,
    trustedRoots: rootFingerprints(config.attestation.rootCertificates),
    trustedAaguids: config.attestation.trustedAaguids.map((a) => a.toLowerCase()),
    level3UserVerification: config.level3UserVerification,
  };
}

/**
 * Whether `level` needs the authenticator to verify the person (PIN, biometrics): level 2 always (it is what
 * level 2 is), level 3 unless the deployment accepts possession alone (`webauthn.level3UserVerification: false`).
 */
export function userVerificationFor(
  level: WebAuthnLevel,
  policy: Pick<LevelPolicy, 'level3UserVerification'>,
): boolean {
  return level === 2 || policy.level3UserVerification !== false;
}

/** The level a value names; anything else is an error (never a default). */
export function webauthnLevel(value: unknown): WebAuthnLevel {
  if (value === 2 || value === '2') return 2;
  if (value === 3 || value === '3') return 3;
  throw new WebAuthnError('WEBAUTHN_VERIFICATION_FAILED', 'unknown level', { detail: String(value) });
}

/** When a level-3 credential may first satisfy level 3. */
export function usableAtLevel3From(credential: StoredCredential, policy: LevelPolicy): Date {
  const created = credential.createdAt ?? new Date();
  return new Date(created.getTime() + policy.level3CooldownSeconds * 1000);
}

/**
 * Why `credential` cannot satisfy `level` now, as an error, or `null` when it can.
 *
 * @example
 * refusalFor(credential, 3, policy, new Date()) // WebAuthnError WEBAUTHN_CREDENTIAL_COOLING_DOWN for a key enrolled yesterday
 */
export function refusalFor(
  credential: StoredCredential,
  level: WebAuthnLevel,
  policy: LevelPolicy,
  now: Date,
): WebAuthnError | null {
  if (credential.suspendedAt)
    return new WebAuthnError('WEBAUTHN_CREDENTIAL_SUSPENDED', 'This key was suspended: it may have been copied.', {
      detail: `suspended ${credential.suspendedAt.toISOString()}`,
    });
  if (credential.level < level) {
    return new WebAuthnError(
      'WEBAUTHN_CREDENTIAL_LEVEL_TOO_LOW',
      'This key was not registered for this kind of sign-in.',
      { detail: `credential level ${credential.level} < ${level}` },
    );
  }
  if (level === 3) {
    if (!policy.level3Available)
      return new WebAuthnError(
        'WEBAUTHN_LEVEL3_UNAVAILABLE',
        'Security keys are not accepted for this kind of sign-in here.',
      );
    if (credential.attachment !== 'cross-platform' || credential.attestationFormat === 'none') {
      return new WebAuthnError('WEBAUTHN_ATTESTATION_REQUIRED', 'This sign-in needs a security key.', {
        detail: `${credential.attachment}/${credential.attestationFormat}`,
      });
    }
    if (credential.attestationRoot && !policy.trustedRoots.includes(credential.attestationRoot))
      return new WebAuthnError(
        'WEBAUTHN_ATTESTATION_UNTRUSTED',
        'The maker of this security key is no longer trusted here.',
        { detail: `attestation root ${credential.attestationRoot} is no longer configured` },
      );
    const models = policy.trustedAaguids ?? [];
    if (models.length > 0 && !models.includes(credential.aaguid.toLowerCase()))
      return new WebAuthnError('WEBAUTHN_ATTESTATION_UNTRUSTED', 'This model of security key is not accepted here.', {
        detail: `aaguid ${credential.aaguid} is no longer trusted`,
      });
    const from = usableAtLevel3From(credential, policy);
    if (now < from)
      return new WebAuthnError(
        'WEBAUTHN_CREDENTIAL_COOLING_DOWN',
        'This security key was added recently and cannot be used for this sign-in yet.',
        { detail: `usable from ${from.toISOString()}` },
      );
  }
  return null;
}

/** Whether `credential` can satisfy `level` now. */
export function satisfies(credential: StoredCredential, level: WebAuthnLevel, policy: LevelPolicy, now: Date): boolean {
  return refusalFor(credential, level, policy, now) === null;
}
