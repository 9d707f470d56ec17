/**
 * Fuzzing the WebAuthn doors (issue #15) with the seeded mutator: `POST /interaction/:uid/webauthn/authenticate`
 * (the level-2 step-up) and `POST /interaction/:uid/webauthn/register` (enrolment), in the browser that holds
 * the login, against the live challenge. The answers are built byte for byte by a software authenticator and
 * mutated where a hostile client would: the JSON, clientDataJSON (signed again or not), authenticatorData and
 * the attestationObject's CBOR, the signature, the challenge (another, a stale one), origin, RP ID, type,
 * flags and counter, huge bodies, other content types, another or no pending login.
 *
 * A *problem*: a 5xx; a refusal without a registered code; an accepted answer the oracle (checking the bytes
 * itself) would not accept; a refusal that moved the key's counter or added a credential.
 *
 * The doors: webauthn-authenticate-doors.ts, webauthn-register-doors.ts; what they share: webauthn-inputs.ts.
 */
export { fuzzWebAuthnAuthenticate } from './webauthn-authenticate-doors.ts';
export { fuzzWebAuthnRegister } from './webauthn-register-doors.ts';
