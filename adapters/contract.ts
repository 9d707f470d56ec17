/**
 * The adapter contract: what every upstream protocol plug-in implements, and the one typed record it hands the gateway
 * (`UpstreamIdentity`). No SAML DOM and no OIDC claim name crosses this line.
 */
import type { KeyStore } from '../hsm/signer.ts';
import type { AdapterErrorCode } from './errors/registry.ts';

/** eIDAS levels of assurance, as URIs. The adapter reports what the IdP *asserted*, verified. */
export type LoaUri =
  'http://eidas.europa.eu/LoA/low' | 'http://eidas.europa.eu/LoA/substantial' | 'http://eidas.europa.eu/LoA/high';

/** Internal attribute names (the attribute map translates protocol names into these). */
export type InternalAttribute =
  | 'given_name'
  | 'family_name'
  | 'birthdate'
  | 'gender'
  | 'birthplace'
  | 'birthcountry'
  | 'preferred_username'
  | 'email'
  | 'person_identifier'
  | 'birth_name'
  | 'place_of_birth'
  | 'current_address'
  | 'nationality'
  | 'country_of_birth'
  | 'legal_person_identifier'
  | 'legal_name'
  | 'legal_address'
  | 'vat_registration_number'
  | 'tax_reference'
  | 'lei'
  | 'eori';

/**
 * Who vouches for the person, as the IdP's registry entry says: never read from the attributes, so an IdP
 * cannot make itself an eIDAS node, or a natural-person entry a company's, by the shape of what it sends.
 * - `eidas-node`: an eIDAS node's Proxy-Service; `country` its configured country (the XX of PersonIdentifier
 *   `XX/YY/…`, which the adapter has checked), `legalPerson` whether the entry asks for the legal-person data set.
 * - `national`: any other IdP (a legacy public-sector SAML IdP, the reference protocol).
 */
export type IdentityOrigin = { kind: 'eidas-node'; country: string; legalPerson: boolean } | { kind: 'national' };

/** What an adapter proves about the person after a successful, fully verified upstream login. */
export interface UpstreamIdentity {
  /** Registry id of the IdP (e.g. `demo-idp`), not its entityID. */
  idp: string;
  /** What kind of IdP this is, from its registry entry: decides the translation rules (eIDAS or national). */
  origin: IdentityOrigin;
  /** The upstream subject (NameID value), read only from signed content. */
  subject: string;
  nameIdFormat: string;
  /** Attributes by internal name; multi-valued attributes keep their values in order. */
  attributes: Partial<Record<InternalAttribute, string[]>>;
  loa: LoaUri;
  authnInstant: string;
  sessionIndex?: string;
  /** When the IdP says the person's session with it ends (SAML SessionNotOnOrAfter): no SSO, no refresh after it. */
  sessionNotOnOrAfter?: string;
  /** IDs needed for audit and replay detection. Never raw biometrics or whole messages. */
  evidence: {
    responseId: string;
    assertionId: string;
    inResponseTo: string;
    issuer: string;
    /** How many XML signatures were verified (response, assertion). */
    signaturesVerified: number;
    /** The assertion may be used once (SAML OneTimeUse): never served again from an SSO session. */
    oneTimeUse: boolean;
    /** Only these relying parties may receive a token from it (SAML ProxyRestriction Audience), when set. */
    onwardAudiences?: string[];
  };
}

/** What the gateway asks of an upstream login. */
export interface LoginRequest {
  /** Gateway login (interaction) id; the adapter binds its pending request to it. */
  loginId: string;
  /** A value bound to this browser (hash of a cookie); InResponseTo must come back from the same one. */
  browserBinding: string;
  /** Minimum LoA the RP needs; the adapter requests at least this. */
  minimumLoa: LoaUri;
  /** Ask the IdP for a fresh authentication; its answer must then be authenticated after the request. */
  forceAuthn: boolean;
  /** The RP's `max_age`, seconds, when it gave one: an older authentication is refused. */
  maxAuthenticationAgeSeconds?: number;
}

/**
 * How the browser is sent to the IdP. `correlation` is the opaque value the IdP's answer carries back (a SAML
 * RelayState, an OAuth `state`): the gateway files the login under it and the adapter's `login-response` route
 * reads it from the answer (`contract/routes.ts`).
 */
/** Where the browser goes next: a redirect, or an auto-posted form. */
export type FrontChannel =
  { binding: 'redirect'; url: string } | { binding: 'post'; url: string; fields: Record<string, string> };

/**
 * `request`: the id the answer to this request names (its `evidence.inResponseTo`: a SAML AuthnRequest's ID, a
 * nonce). A login may send several requests (the person chose again, a step-up); only the answer to the latest
 * one can finish it (the gateway keeps this id with the login and refuses any other answer).
 */
export type LoginStart = { correlation: string; request: string } & FrontChannel;

/** What the ACS received, transport-level only. */
export interface InboundMessage {
  method: string;
  /** Parsed form fields (POST) or query parameters (Redirect). */
  params: Record<string, string>;
  /** The value bound to this browser, computed the same way as at start. */
  browserBinding: string;
  /**
   * The same browser's binding under the keys the gateway used before a rotation (`secrets.previousBrowserBindingKeys`),
   * newest first: a login sent upstream before the rotation was bound with one of them, and still finishes in the
   * browser that started it. Never another browser's: each is the same cookie's value under another key.
   */
  earlierBrowserBindings?: readonly string[];
}

/**
 * Whether `stored` (the binding a pending request was sent with) is this message's browser: its binding now, or
 * under a key used before a rotation.
 *
 * @example
 * if (!fromTheSameBrowser(pending.browserBinding, message)) fail('REF_STATE_SESSION_MISMATCH', 'another browser');
 */
export function fromTheSameBrowser(stored: string, message: InboundMessage): boolean {
  return stored === message.browserBinding || (message.earlierBrowserBindings?.includes(stored) ?? false);
}

/** A successful finish carries the identity and the login it answers. */
export interface LoginResult {
  loginId: string;
  identity: UpstreamIdentity;
}

/**
 * Short-lived shared state the adapter needs (Redis in the gateway; every instance sees the same).
 * `putIfAbsent` returns false when the key exists (replay). `take` reads and deletes atomically.
 */
export interface AdapterStateStore {
  put(key: string, value: string, ttlSeconds: number): Promise<void>;
  putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  take(key: string): Promise<string | null>;
  get(key: string): Promise<string | null>;
}

export interface AdapterContext {
  keys: KeyStore;
  state: AdapterStateStore;
  /**
   * The key of every digest an adapter keeps in `state` (HMAC-SHA-256, at least 32 bytes): an identifier that
   * enters a kept key or value (a NameID) is never digested unkeyed, so a copy of Redis cannot be searched with
   * guessed identifiers. The gateway derives it from its pairwise salt (`adapterDigestKey`, gateway/boot.ts).
   */
  digestKey: Buffer;
  /** Public base URL of the gateway (e.g. `http://127.0.0.1:3000`). */
  baseUrl: string;
  now: () => Date;
}

/** Whether an IdP can be offered: `unavailable` (metadata expired or invalid) and `disabled` are hidden. */
export type IdpAvailability = 'available' | 'unavailable' | 'disabled';

export interface UpstreamAdapter {
  /** Registry id. */
  readonly id: string;
  readonly kind: string;
  /** Human name for the chooser page. */
  readonly displayName: string;
  /** Highest LoA this IdP may assert (the gateway never believes more). */
  readonly maxLoa: LoaUri;
  /** The RPs (client ids) it serves; absent: every one (gateway/idps/idp-clients.ts: the others never reach it). */
  readonly onlyClients?: readonly string[];
  startLogin(request: LoginRequest): Promise<LoginStart>;
  /**
   * Verifies an inbound message completely. Throws an `AdapterError` (stable `code`) on any failure;
   * when the pending login is known, the error carries its `loginId` so the RP can be told.
   */
  finishLogin(message: InboundMessage): Promise<LoginResult>;
  /** SP metadata (signed) for this adapter, if the protocol has any. */
  metadata(): Promise<string>;
  /** Whether the IdP can be used now; absent means always available. */
  availability?(): IdpAvailability;
  /**
   * Single Logout with this IdP: every adapter declares it, offered (`UpstreamLogout`, SAML: `saml-logout.ts`)
   * or explicitly not (`NoUpstreamLogout`, the reference protocol): never a silent absence.
   */
  readonly logout: UpstreamLogoutCapability;
}

/** A front-channel logout message as received at our logout endpoint, transport-level only. */
export interface InboundLogoutMessage {
  method: string;
  /** Parsed form fields (POST) or query parameters (Redirect). */
  params: Record<string, string>;
  /** The query string exactly as received, without `?` (HTTP-Redirect signatures cover the encoded bytes). */
  rawQuery?: string;
}

/** The upstream session a login opened, as the IdP named it; the gateway keeps it sealed in its session store. */
export interface UpstreamSessionRef {
  idp: string;
  subject: string;
  nameIdFormat: string;
  sessionIndex?: string;
}

/** What an IdP asked to end, verified: its subject, and session indexes (none: every session of that subject). */
export interface UpstreamLogoutRequest {
  idp: string;
  subject: string;
  nameIdFormat: string;
  sessionIndexes: string[];
}

/**
 * An adapter that takes no part in single logout says so: the gateway skips it when a person logs out and
 * audits `notOfferedCode` with `reason`; its logout route (if its protocol has one) names no message for it.
 */
export interface NoUpstreamLogout {
  readonly offered: false;
  /** The code audited when a logout skips this IdP (a code of kind `unavailable`). */
  readonly notOfferedCode: AdapterErrorCode;
  /** Why, for the audit (`the protocol has no single logout`, `our SP has no logout endpoint`). */
  readonly reason: string;
}

/** Single Logout with one upstream IdP, offered or not. */
export type UpstreamLogoutCapability = UpstreamLogout | NoUpstreamLogout;

/**
 * Single Logout with one upstream IdP (issue #12 item 6): the four messages of a front-channel logout, each a
 * typed record at the seam (`UpstreamSessionRef` out, `UpstreamLogoutRequest` in, `FrontChannel` for the browser).
 */
export interface UpstreamLogout {
  readonly offered: true;
  /** The code audited when `startLogout` finds this IdP takes no part after all (its metadata lists no endpoint). */
  readonly notOfferedCode: AdapterErrorCode;
  /**
   * Whether an inbound logout message names this adapter's IdP: for routing only, nothing is trusted yet.
   * False for a message of another protocol; throws an `AdapterError` for a message of this protocol that no
   * IdP could have sent (malformed, oversized, DTD).
   */
  names(message: InboundLogoutMessage): boolean;
  /**
   * SP-initiated: the signed message that asks the IdP to end the upstream session, and how the browser
   * takes it there; `null` when the IdP offers no single logout (the caller audits it and goes on).
   */
  startLogout(request: {
    logoutId: string;
    relayState: string;
    session: UpstreamSessionRef;
  }): Promise<FrontChannel | null>;
  /**
   * Verifies the IdP's answer to our request completely; returns the logout it answers. A verified answer that says the
   * IdP did not end its session is thrown as an {@link UnendedLogout}; any other refusal as an `AdapterError`.
   */
  finishLogout(message: InboundLogoutMessage): Promise<{ logoutId: string }>;
  /**
   * IdP-initiated: verifies the request completely, then calls `end` (which ends the matching sessions and
   * says how many; none is a refusal), then the signed answer for the browser to take back (`LogoutAnswer`).
   * Nothing is ended when verification fails. A refusal is thrown: an `AnsweredLogoutRefusal` when the
   * protocol answers it to the IdP (a verified requester, its own endpoint), a plain `AdapterError` when nobody
   * can be trusted with an answer (the gateway's refusal page). Sessions ended but the answer not signed: an
   * `UnansweredLogout`, and the adapter keeps that answer for the same request sent again within its validity
   * window (verified again completely, `end` NOT called again: `attempt: 'retry'`); once an answer is
   * signed, the same request is a replay again. `retry.takesKeptAnswer(retryKey)` false (the gateway: a copy of
   * the request from another browser than the first attempt's) answers such a retry with the kept answer left in
   * place, for the first browser's own retry; absent, or throwing, the retry takes it.
   */
  answerLogout(
    message: InboundLogoutMessage,
    end: (request: UpstreamLogoutRequest) => Promise<number>,
    retry?: { takesKeptAnswer(retryKey: string): Promise<boolean> },
  ): Promise<LogoutAnswer>;
}

/**
 * Whether the sessions an IdP's logout request names were ended by this message (`first`), or by an earlier
 * attempt of the same request whose answer could not be signed then (`retry`: nothing ended now).
 */
export type LogoutAttempt = 'first' | 'retry';

/** What answering an IdP's logout request did (`UpstreamLogout.answerLogout`). */
export interface LogoutAnswer {
  /** The signed answer for the browser to take back; `null` when the IdP lists no endpoint for it. */
  reply: FrontChannel | null;
  /** How many sessions the request ended (on its first attempt, for a `retry`). */
  sessions: number;
  attempt: LogoutAttempt;
  /**
   * The same for every attempt of one request, and only for it (opaque; no identity in clear): what the gateway
   * keeps beside an unanswered request, for its retry, is keyed by it.
   */
  retryKey: string;
  /**
   * Keeps this answer for the same request sent again, as if it could not be signed (false when nothing could
   * be kept): the gateway calls it when it cannot send the answer after all (its audit record not written).
   */
  keep(): Promise<boolean>;
}

/**
 * Base error of adapters: a stable code from the closed list of `errors.ts` (a code no adapter declares does
 * not type-check), the login it concerns when known, and an internal detail.
 */
export class AdapterError extends Error {
  readonly code: AdapterErrorCode;
  readonly loginId: string | undefined;
  readonly detail: string | undefined;
  constructor(
    code: AdapterErrorCode,
    message: string,
    options: { loginId?: string; detail?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AdapterError';
    this.code = code;
    this.loginId = options.loginId;
    // a detail may quote what a message carried (an attribute, a URI, an element): logged and audited, so bounded
    this.detail = options.detail === undefined ? undefined : boundedDetail(options.detail);
  }
}

/** The longest detail an adapter error keeps (characters); the rest is cut, marked `…`. */
export const MAX_DETAIL_CHARACTERS = 300;

function boundedDetail(detail: string): string {
  const characters = [...detail];
  return characters.length <= MAX_DETAIL_CHARACTERS
    ? detail
    : `${characters.slice(0, MAX_DETAIL_CHARACTERS).join('')}…`;
}

/**
 * An IdP's logout request whose sessions were ended (`sessions`, by this `attempt` or the first) but whose answer
 * could not be signed: the code and cause are the signing failure's (an HSM busy under the adapter's signing
 * code). Not a refusal: the sessions stay ended, and the adapter kept the answer for the same request sent again
 * (`kept`: false when it could not keep it, and a retry will then be refused as a replay).
 */
export class UnansweredLogout extends AdapterError {
  readonly sessions: number;
  readonly attempt: LogoutAttempt;
  readonly kept: boolean;
  /** As {@link LogoutAnswer.retryKey}: the retry's answer carries the same. */
  readonly retryKey: string;
  constructor(
    failure: AdapterError,
    unanswered: { sessions: number; attempt: LogoutAttempt; kept: boolean; retryKey: string },
  ) {
    super(failure.code, failure.message, {
      ...(failure.loginId === undefined ? {} : { loginId: failure.loginId }),
      ...(failure.detail === undefined ? {} : { detail: failure.detail }),
      cause: failure,
    });
    this.name = 'UnansweredLogout';
    this.sessions = unanswered.sessions;
    this.attempt = unanswered.attempt;
    this.kept = unanswered.kept;
    this.retryKey = unanswered.retryKey;
  }
}

/**
 * The IdP's answer to our logout request, verified (its sender, signature and our request it answers, taken once:
 * `logoutId`), that says it did not end its session (a non-success status). A refusal all the same, under the
 * adapter's code; the gateway goes on with the person's logout (the next IdP of the session) as for an answer
 * that ended it, which it never does for an answer it could not verify.
 */
export class UnendedLogout extends AdapterError {
  readonly logoutId: string;
  constructor(refusal: AdapterError, logoutId: string) {
    super(refusal.code, refusal.message, {
      ...(refusal.detail === undefined ? {} : { detail: refusal.detail }),
      cause: refusal,
    });
    this.name = 'UnendedLogout';
    this.logoutId = logoutId;
  }
}

/**
 * A refused inbound logout request that the protocol still answers, as its specification asks (SAML: a signed
 * LogoutResponse with a non-success status to the IdP's own logout endpoint): the refusal's code, and the
 * answer the browser takes back. Nothing was ended.
 */
export class AnsweredLogoutRefusal extends AdapterError {
  readonly reply: FrontChannel;
  constructor(refusal: AdapterError, reply: FrontChannel) {
    super(refusal.code, refusal.message, {
      ...(refusal.loginId === undefined ? {} : { loginId: refusal.loginId }),
      ...(refusal.detail === undefined ? {} : { detail: refusal.detail }),
      cause: refusal,
    });
    this.name = 'AnsweredLogoutRefusal';
    this.reply = reply;
  }
}
