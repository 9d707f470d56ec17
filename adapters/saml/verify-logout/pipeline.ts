/**
 * THE verification order of an inbound logout message (LogoutRequest or LogoutResponse from an IdP), one step
 * per file, as strict as a login response: nothing is read as a fact before `signature` verified it, and the
 * message ID is burnt (`replay`) only once everything else about the message holds.
 *
 * Any exception that is not an `AdapterError` becomes `SAML_INTERNAL_ERROR` (never a pass).
 */
import { AdapterError } from '../../contract.ts';
import { samlError } from '../errors.ts';
import type { LogoutVerifyContext } from './context.ts';
import { checkLogoutIssuer } from './issuer.ts';
import { checkLogoutDestination, checkLogoutTimeWindow, rejectLogoutReplay } from './protocol.ts';
import { readSignedLogout } from './read-signed.ts';
import { verifyLogoutSignature } from './signature.ts';
import { checkLogoutStructure } from './structure.ts';
import { checkLogoutTransport } from './transport.ts';

type Step = (ctx: LogoutVerifyContext) => void | Promise<void>;

export const LOGOUT_PIPELINE: readonly (readonly [name: string, step: Step])[] = [
  ['transport', checkLogoutTransport], // POST form or Redirect query, ≤ 64 KiB, RelayState ≤ 80 B
  ['structure', checkLogoutStructure], // no DTD, strict parse, expected root, unique IDs, Signature placement
  ['issuer', checkLogoutIssuer], // Issuer = this IdP's entityID (selects the keys)
  ['signature', verifyLogoutSignature], // metadata keys only, the IdP's allow-list; enveloped or query string
  ['read-signed', readSignedLogout], // values only from verified bytes
  ['destination', checkLogoutDestination], // = our SingleLogoutService URL
  ['time-window', checkLogoutTimeWindow], // IssueInstant fresh, NotOnOrAfter not passed
  ['replay', rejectLogoutReplay], // message ID once, across instances
];

/** Runs every step in order; throws the first failure as an `AdapterError`. */
export async function runLogoutPipeline(ctx: LogoutVerifyContext): Promise<void> {
  for (const [name, step] of LOGOUT_PIPELINE) {
    try {
      await step(ctx);
      ctx.passed.push(name);
    } catch (error) {
      if (error instanceof AdapterError) throw error;
      throw samlError('SAML_INTERNAL_ERROR', { detail: `logout step ${name}`, cause: error });
    }
  }
}
