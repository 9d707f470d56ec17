/**
 * The Redis key of a login's WebAuthn enrolment grant (webauthn/step-up.ts writes it when a login completes, a fresh
 * LoA-high one): here, below the completion and the risk side, which end it when a late fraud verdict refuses or
 * revokes that login (no key is enrolled on the account by a login the verdict stopped).
 */
export const enrolmentKey = (uid: string) => `webauthn:enrol:${uid}`;

/** How long an enrolment grant lives (10 min). */
export const ENROLMENT_TTL_SECONDS = 600;

/**
 * Set by a late fraud verdict on the login before it removes the keys the login enrolled (translation/boot-fraud.ts),
 * read by an enrolment under the login's lock (webauthn/keys-of-a-stopped-login.ts): an enrolment that spent its
 * grant just before the verdict cannot store its key after the verdict's removal.
 */
export const enrolmentStoppedKey = (uid: string) => `webauthn:enrol-stopped:${uid}`;
