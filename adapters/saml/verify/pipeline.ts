/**
 * THE verification order of an inbound SAML Response (security-conformance.md §3.1), one step per file.
 * Read top to bottom: each step may rely on everything above it.
 *
 * - Nothing is read from the message as a fact before `signatures` has verified it.
 * - `replay` runs before `in-response-to`, so a replayed message is reported as `SAML_REPLAY` and is
 *   never attributed to the victim's login.
 * - `in-response-to` runs right after the signed read, so every later failure carries the `loginId`
 *   (the gateway then answers the RP with `access_denied`).
 * - Any exception that is not an `AdapterError` becomes `SAML_INTERNAL_ERROR` (never a pass).
 */
import { AdapterError } from '../../contract.ts';
import { samlError } from '../errors.ts';
import { checkAudience } from './audience.ts';
import { checkAuthnFreshness } from './authn-freshness.ts';
import type { VerifyContext } from './context.ts';
import { decryptIfEncrypted } from './decrypt.ts';
import { checkDestination } from './destination.ts';
import { checkEncryptionPolicy } from './encryption-policy.ts';
import { bindPendingRequest } from './in-response-to.ts';
import { checkIssuerKnown } from './issuer.ts';
import { checkLexical } from './lexical.ts';
import { checkNameIdFormat } from './name-id-format.ts';
import { checkProxyRestriction } from './proxy-restriction.ts';
import { readLoa } from './loa.ts';
import { readSignedClaims } from './read-signed.ts';
import { rejectReplay } from './replay.ts';
import { verifySignatures } from './signatures.ts';
import { checkStatus } from './status.ts';
import { checkStructure } from './structure.ts';
import { checkSubjectConfirmation } from './subject-confirmation.ts';
import { checkTimeWindow } from './time-window.ts';
import { checkTransport } from './transport.ts';

export type Step = (ctx: VerifyContext) => void | Promise<void>;
export type Pipeline = readonly (readonly [name: string, step: Step])[];

export const PIPELINE: Pipeline = [
  ['transport', checkTransport], // POST, ≤ 256 KiB, base64, RelayState ≤ 80 B
  ['lexical', checkLexical], // no DOCTYPE, strict parse, one root, samlp:Response
  ['structure', checkStructure], // unique IDs, one Assertion, Signature placement, no comments
  ['issuer', checkIssuerKnown], // Issuer = this IdP's entityID (selects the keys)
  ['signatures', verifySignatures], // shape, metadata keys only, per-IdP policy
  ['decrypt', decryptIfEncrypted], // EncryptedAssertion: allow-list, HSM unwrap, AES-GCM, own signature
  ['read-signed', readSignedClaims], // claims only from verified canonical bytes
  ['replay', rejectReplay], // assertion ID once, across instances
  ['in-response-to', bindPendingRequest], // pending request, same browser, same IdP
  ['encryption-policy', checkEncryptionPolicy], // encrypted when the IdP's policy requires it
  ['status', checkStatus], // Success only
  ['destination', checkDestination], // = our ACS
  ['audience', checkAudience], // = our entityID
  ['subject-confirmation', checkSubjectConfirmation], // one bearer, Recipient = ACS, NotOnOrAfter
  ['proxy-restriction', checkProxyRestriction], // Count="0" forbids the ID token; Audience list → evidence
  ['name-id-format', checkNameIdFormat], // the format the IdP is registered (and asked) for
  ['time-window', checkTimeWindow], // NotBefore / NotOnOrAfter / instants, with skew
  ['authn-freshness', checkAuthnFreshness], // AuthnInstant within max_age / IdP max age; after a ForceAuthn request
  ['loa', readLoa], // eIDAS LoA URI, clipped to the IdP's max, allowed for it
];

/**
 * Runs every step in order (a profile passes `PIPELINE` followed by its own steps). Throws the first failure as an `AdapterError` carrying the `loginId` once
 * the pending request is bound.
 */
export async function runPipeline(ctx: VerifyContext, pipeline: Pipeline = PIPELINE): Promise<void> {
  for (const [name, step] of pipeline) {
    try {
      await step(ctx);
    } catch (error) {
      throw withLogin(error, ctx.loginId, name);
    }
  }
}

function withLogin(error: unknown, loginId: string | undefined, step: string): AdapterError {
  if (!(error instanceof AdapterError))
    return samlError('SAML_INTERNAL_ERROR', { loginId, detail: `step ${step}`, cause: error });
  if (error.loginId !== undefined || loginId === undefined) return error;
  return new AdapterError(error.code, error.message, { loginId, detail: error.detail, cause: error.cause });
}
