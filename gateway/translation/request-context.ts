/**
 * What the translation point knows of the HTTP request behind a login, gathered by the surface that
 * received it (`interaction/`, `oidc/`, `completion/`): the translation point itself knows no HTTP.
 */
import type { UpstreamIdentity } from '../../adapters/contract.ts';
import type { SessionEvidence } from '../session/session-evidence.ts';
import type { PivotIdentity } from '../translate/pivot-identity.ts';

export interface RequestContext {
  requestId: string;
  ip: string;
  userAgent: string;
  acceptLanguage: string;
  /**
   * The signed device cookie's id (a fresh one when the browser had none and the request issues one; null when it
   * issues none: an SSO); `forged` when it did not verify.
   */
  device: { deviceId: string | null; forged: boolean };
  /** The authorization request's parameters as oidc-provider keeps them (what the RP says is at stake). */
  params: Record<string, unknown> | undefined;
}

/** What a login stands on: the IdP's fresh answer, or an existing gateway session (SSO). */
export type TranslationInput =
  | { kind: 'upstream'; identity: UpstreamIdentity }
  | { kind: 'session'; accountId: string; pivot: PivotIdentity; evidence: SessionEvidence };
