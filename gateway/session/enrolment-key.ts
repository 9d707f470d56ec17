/**
 * The Redis key of a login's WebAuthn enrolment grant (webauthn/step-up.ts writes it when a login completes, a fresh
 * LoA-high one): here, below the completion and the risk side, which end it when a late fraud verdict refuses or
 * revokes that login (no key is enrolled on the account by a login the verdict stopped).
 */
export const enrolmentKey = (uid: string) => `webauthn:enrol:${uid}`;

/** How long an enrolment grant lives (10 min). */
export const ENROLMENT_TTL_SECONDS = 600;
