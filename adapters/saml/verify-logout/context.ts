/**
 * What the steps verifying an inbound logout message share (`pipeline.ts`): the environment they check
 * against and what each step has established. A step reads only what earlier steps set (`need`).
 */
import type { Element } from '@xmldom/xmldom';
import type { AdapterStateStore, InboundLogoutMessage } from '../../contract.ts';
import type { ResolvedIdpConfig, SamlSpConfig } from '../config.ts';
import type { IdpMetadata } from '../idp-metadata.ts';

export type LogoutMessageKind = 'LogoutRequest' | 'LogoutResponse';

export interface LogoutVerifyEnv {
  idp: ResolvedIdpConfig;
  metadata: IdpMetadata;
  sp: SamlSpConfig;
  /** Our SingleLogoutService URL (the Destination the message must name). */
  sloUrl: string;
  state: AdapterStateStore;
  /** The key of the digests kept in `state` (`AdapterContext.digestKey`). */
  digestKey: Buffer;
  now: Date;
}

/** The values of a logout message, read from the signed bytes only. */
export interface SignedLogoutMessage {
  id: string;
  issuer: string;
  issueInstant: string;
  destination?: string;
  notOnOrAfter?: string;
  /** LogoutResponse only. */
  inResponseTo?: string;
  /** LogoutResponse only: the StatusCode values, top-level first. */
  statusCodes: string[];
  /** LogoutRequest only. */
  nameId?: { value: string; format: string };
  /** LogoutRequest only: every SessionIndex (none: every session of the NameID, SAML Core §3.7.1). */
  sessionIndexes: string[];
}

export interface LogoutVerifyContext {
  env: LogoutVerifyEnv;
  expect: LogoutMessageKind;
  message: InboundLogoutMessage;
  binding?: 'post' | 'redirect';
  /** The parameter that carried the message, exactly as received (Redirect signatures cover it). */
  xml?: string;
  root?: Element;
  issuer?: string;
  /** The element read from verified bytes (the signed canonical XML for POST, the whole message for Redirect). */
  signedRoot?: Element;
  signed?: SignedLogoutMessage;
  /** The names of the pipeline steps passed so far (a refusal is answered only past `destination`). */
  passed: string[];
}
