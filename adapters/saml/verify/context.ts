/**
 * What the verification steps share: the environment they check against, and what each step has
 * established so far. A step reads only fields earlier steps set (`need` throws if one is missing,
 * which is a programming error, not an attacker's input).
 */
import type { Document, Element } from '@xmldom/xmldom';
import type { AdapterStateStore, InboundMessage, LoaUri } from '../../contract.ts';
import type { ResolvedIdpConfig, SamlSpConfig } from '../config.ts';
import { samlError } from '../errors.ts';
import type { IdpMetadata } from '../idp-metadata.ts';
import type { KeyTransportDecrypter } from '../xmlenc/decrypter.ts';

/** What `startLogin` stored under `saml:pending:<requestId>`. */
export interface PendingRequest {
  loginId: string;
  browserBinding: string;
  idp: string;
  minimumLoa: LoaUri;
  /** ISO instant the AuthnRequest was issued. */
  issuedAt: string;
  /** The request asked for a fresh authentication (ForceAuthn="true"). */
  forceAuthn: boolean;
  /** The RP's max_age for this login, seconds, if any. */
  maxAuthenticationAgeSeconds?: number;
}

/** Seconds a pending AuthnRequest stays answerable (security-conformance.md §1). */
export const PENDING_TTL_SECONDS = 600;

export interface VerifyEnv {
  /** Which profile's codes and extra steps apply. */
  profile: 'legacy' | 'eidas';
  idp: ResolvedIdpConfig;
  metadata: IdpMetadata;
  sp: SamlSpConfig;
  state: AdapterStateStore;
  now: Date;
  /** Unwraps EncryptedKeys with our decryption key (in the HSM); absent when we decrypt nothing. */
  decrypter?: KeyTransportDecrypter;
}

/** Response-level values; `signed` says whether they came from verified bytes. */
export interface ResponseEnvelope {
  signed: boolean;
  id: string;
  issuer?: string;
  destination?: string;
  inResponseTo?: string;
  issueInstant: string;
  statusCodes: string[];
}

export interface SubjectConfirmation {
  method: string;
  recipient?: string;
  notBefore?: string;
  notOnOrAfter?: string;
  inResponseTo?: string;
}

/** The Assertion as read from signed bytes only. */
export interface SignedAssertion {
  id: string;
  issuer: string;
  issueInstant: string;
  nameId: { value: string; format: string };
  confirmations: SubjectConfirmation[];
  conditions: {
    notBefore?: string;
    notOnOrAfter?: string;
    audienceRestrictions: string[][];
    /** `<OneTimeUse/>`: the assertion may be used once, never kept for later use (SAML Core §2.5.1.5). */
    oneTimeUse: boolean;
    /** `<ProxyRestriction>`: how many further assertions may be issued, and to whom (§2.5.1.6). */
    proxyRestriction?: { count?: number; audiences: string[] };
  };
  /** `sessionNotOnOrAfter`: when the IdP says the person's session with it ends (AuthnStatement/@SessionNotOnOrAfter). */
  authn: { instant: string; sessionIndex?: string; classRef?: string; sessionNotOnOrAfter?: string };
  attributes: { name: string; nameFormat?: string; values: string[] }[];
}

/**
 * What one signature check verified: the canonical bytes xml-crypto digested (`getSignedReferences()`),
 * and the element they were written from when the library's transforms ended on one (`signed-element.ts`).
 */
export interface SignedContent {
  xml: string;
  root?: Element;
}

export interface VerifyContext {
  env: VerifyEnv;
  message: InboundMessage;
  xml?: string;
  doc?: Document;
  /** The Response and its one Assertion in the received DOM: for structure and key selection only. */
  response?: Element;
  assertion?: Element;
  /** The received EncryptedAssertion, when the Assertion came encrypted. */
  encryptedAssertion?: Element;
  /** True once the Assertion was decrypted (step `decrypt`); `assertion` is then the decrypted one. */
  decrypted?: boolean;
  issuer?: string;
  /** What each signature verified: its canonical bytes and the element they were written from. */
  signed: { response?: SignedContent; assertion?: SignedContent; count: number };
  envelope?: ResponseEnvelope;
  claims?: SignedAssertion;
  /** The AuthnRequest ID the signed message answers. */
  requestId?: string;
  /**
   * The take of the pending request the signed values name, sent by the replay step in its own turn (one Redis
   * write for both, issue #14) and read by the in-response-to step.
   */
  pendingTake?: { requestId: string; taking: Promise<string | null> };
  pending?: PendingRequest;
  loginId?: string;
  loa?: LoaUri;
}

/** A value an earlier step must have set. */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw samlError('SAML_INTERNAL_ERROR', { detail: `pipeline order: ${what} not set` });
  return value;
}

/** Parses an xs:dateTime; an unparsable instant is a schema violation. */
export function instant(value: string, what: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw samlError('SAML_SCHEMA_INVALID', { detail: `${what} is not an xs:dateTime` });
  return ms;
}
