/**
 * A Security Event Token (RFC 8417) as the Shared Signals Framework 1.0 and CAEP 1.0 shape it, signed in
 * the HSM with the gateway's OIDC signing key (the `Signer` oidc-provider signs ID and logout tokens with;
 * its public key is in `/jwks`).
 *
 * - header: `alg`, `kid`, `typ: secevent+jwt` (RFC 8417 §2.3);
 * - claims: `iss` (the issuer), `aud` (the RP's `client_id`), `iat`, `jti` (random, 128 bits), `txn` (random,
 *   one per SET: the SETs one occurrence sends to several RPs share none, which would link their pairwise subjects), `sub_id` (SSF 1.0 §3: no `sub` claim) and
 *   `events` holding exactly one event (SSF 1.0 §4.1);
 * - `sub_id` is the subject as this RP sees it (`complex`: `user` = `iss_sub` with the RP's pairwise `sub`,
 *   `session` = `opaque` with the RP's `sid`), so an RP matches it to its own session without learning
 *   anything it did not already have;
 * - no `exp` (RFC 8417 §2.2: a SET describes a fact, it does not expire).
 */
import { randomBytes } from 'node:crypto';
import type { Signer } from '../../../hsm/signer.ts';

/** SSF 1.0 §3.2: the RP's view of the person and of its session. */
export interface RpSubject {
  format: 'complex';
  user: { format: 'iss_sub'; iss: string; sub: string };
  session?: { format: 'opaque'; id: string };
}

export interface SetInput {
  issuer: string;
  audience: string;
  txn: string;
  subject: RpSubject;
  event: string;
  payload: Record<string, unknown>;
  now?: Date;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The claims of a SET (exported for the tests and the delivery log). */
export function setClaims(input: SetInput): Record<string, unknown> {
  return {
    iss: input.issuer,
    aud: input.audience,
    iat: Math.floor((input.now ?? new Date()).getTime() / 1000),
    jti: randomBytes(16).toString('base64url'),
    txn: input.txn,
    sub_id: input.subject,
    events: { [input.event]: input.payload },
  };
}

/**
 * @example
 * const jwt = await signSecurityEvent(signer, { issuer, audience: 'demo-rp', txn, subject, event: CAEP_SESSION_REVOKED, payload: { event_timestamp } });
 */
export async function signSecurityEvent(signer: Signer, input: SetInput): Promise<{ jwt: string; jti: string }> {
  const claims = setClaims(input);
  const signingInput = `${b64({ alg: signer.alg, kid: signer.kid, typ: 'secevent+jwt' })}.${b64(claims)}`;
  const signature = Buffer.from(await signer.sign(Buffer.from(signingInput))).toString('base64url');
  return { jwt: `${signingInput}.${signature}`, jti: String(claims.jti) };
}
