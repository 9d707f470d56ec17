/**
 * The one closed registry of error codes: every code the gateway or an adapter may raise, each with
 *
 * - `status`: the HTTP status it is answered with (`statuses`: the others a call site may use, e.g. 415);
 * - `oauth`: what the relying party is told when this code ends its login (`interactionFinished`), or `null`
 *   when it never reaches an RP (it is answered on the page, API or CLI that raised it);
 * - `audit`: the outcome it stands for in the audit log and the logs: `refused` (the request or the upstream
 *   answer is not acceptable), `denied` (a decision or an authorisation said no), `error` (we, or a
 *   dependency, failed);
 * - `fr`, `en`: the public message of the error page. Short, generic, never echoing input.
 *
 * Adapters declare their own codes and kinds (`adapters/errors/`); this file maps each kind. A code that is
 * in neither table does not type-check (`GatewayError`, `AdapterError`); `test/gateway/errors/` walks both.
 */
import type { AdapterErrorKind } from '../adapters/errors/spec.ts';
import { ADAPTER_ERRORS, isAdapterErrorCode, type AdapterErrorCode } from '../adapters/errors/registry.ts';

/** RFC 6749 §4.1.2.1 and OIDC Core §3.1.2.6 error codes the gateway sends to an RP. */
export type OAuthError =
  | 'access_denied'
  | 'login_required'
  | 'interaction_required'
  | 'temporarily_unavailable'
  | 'server_error'
  | 'unmet_authentication_requirements';
export type AuditOutcome = 'refused' | 'denied' | 'error';

export interface ErrorSpec {
  readonly status: number;
  readonly statuses?: readonly number[];
  readonly oauth: OAuthError | null;
  readonly audit: AuditOutcome;
  readonly fr: string;
  readonly en: string;
}

const EXPIRED = {
  fr: 'Cette connexion a expiré ou est déjà terminée ; recommencez depuis le service.',
  en: 'This sign-in has expired or is already over; start again from the service.',
} as const;
const INVALID = { fr: 'La requête n’est pas valide.', en: 'The request is not valid.' } as const;
const OURS = { fr: 'Une erreur est survenue de notre côté.', en: 'Something went wrong on our side.' } as const;
const WEBAUTHN = {
  fr: 'La vérification par clé de sécurité n’a pas abouti.',
  en: 'The security key check did not succeed.',
} as const;

/** The gateway's own codes (its subclasses' too: FlowError, WebAuthnError, AuditError, MigrationError). */
export const GATEWAY_ERRORS = {
  // requests and pages
  REQUEST_TOO_LARGE: {
    status: 413,
    statuses: [431], // 431: a request line or headers over the HTTP parser's limit (http/client-error.ts)
    oauth: null,
    audit: 'refused',
    fr: 'La requête est trop volumineuse.',
    en: 'The request is too large.',
  },
  REQUEST_INVALID: { status: 400, statuses: [415], oauth: null, audit: 'refused', ...INVALID },
  /** Headers that never finished arriving (the HTTP parser's timeout, http/client-error.ts). */
  REQUEST_TIMEOUT: {
    status: 408,
    oauth: null,
    audit: 'refused',
    fr: 'La requête n’est pas arrivée à temps ; réessayez.',
    en: 'The request did not arrive in time; try again.',
  },
  HOST_NOT_CONFIGURED: {
    status: 421,
    oauth: null,
    audit: 'refused',
    fr: 'Cette adresse n’est pas servie ici.',
    en: 'This address is not served here.',
  },
  INTERACTION_NOT_FOUND: { status: 400, oauth: null, audit: 'refused', ...EXPIRED },
  INTERACTION_INVALID: {
    status: 400,
    statuses: [403],
    oauth: null,
    audit: 'refused',
    fr: 'Cette connexion ne peut pas continuer ici ; recommencez depuis le service.',
    en: 'This sign-in cannot continue here; start again from the service.',
  },
  LOGIN_STATE_INVALID: { status: 400, oauth: null, audit: 'refused', ...EXPIRED },
  CONSENT_WITHOUT_LOGIN: {
    status: 403,
    oauth: 'access_denied',
    audit: 'refused',
    fr: 'Cette demande doit passer par sa propre connexion ; recommencez depuis le service.',
    en: 'This request needs its own sign-in; start again from the service.',
  },
  STEP_UP_PENDING: {
    status: 409,
    oauth: null,
    audit: 'refused',
    fr: 'Une vérification renforcée est déjà en cours pour cette connexion ; terminez-la, ou recommencez depuis le service.',
    en: 'A stronger check is already under way for this sign-in; finish it, or start again from the service.',
  },
  // choosing and answering the IdP
  IDP_UNKNOWN: {
    status: 400,
    statuses: [404],
    oauth: 'access_denied',
    audit: 'refused',
    fr: 'Fournisseur d’identité inconnu.',
    en: 'Unknown identity provider.',
  },
  IDP_UNAVAILABLE: {
    status: 400,
    oauth: null,
    audit: 'refused',
    fr: 'Ce fournisseur d’identité ne peut pas servir ce service pour le moment ; choisissez-en un autre.',
    en: 'This identity provider cannot serve this service at the moment; choose another one.',
  },
  RELAYSTATE_INVALID: {
    status: 400,
    oauth: 'access_denied',
    audit: 'refused',
    fr: 'La réponse du fournisseur d’identité a été refusée.',
    en: 'The answer from the identity provider was refused.',
  },
  UPSTREAM_AUDIENCE_EXCLUDES_RP: {
    status: 400,
    oauth: 'access_denied',
    audit: 'denied',
    fr: 'Le fournisseur d’identité n’autorise pas ce service à recevoir cette identité.',
    en: 'The identity provider does not allow this service to receive this identity.',
  },
  // translation, risk, policy
  IDENTITY_INVALID: {
    status: 400,
    oauth: 'access_denied',
    audit: 'refused',
    fr: 'Le fournisseur d’identité a transmis une identité invalide.',
    en: 'The identity provider sent an invalid identity.',
  },
  LOA_UNKNOWN: {
    status: 400,
    oauth: 'access_denied',
    audit: 'refused',
    fr: 'Niveau de garantie inconnu.',
    en: 'Unknown level of assurance.',
  },
  ACR_UNKNOWN: {
    status: 400,
    oauth: 'access_denied',
    audit: 'refused',
    fr: 'Le niveau de garantie demandé n’est pas pris en charge.',
    en: 'The level of assurance asked for is not supported.',
  },
  ACR_UNREACHABLE: {
    status: 403,
    oauth: 'unmet_authentication_requirements',
    audit: 'denied',
    fr: 'Aucun de vos comptes disponibles n’atteint le niveau de sécurité demandé par ce service.',
    en: 'None of the available accounts reaches the level of security this service asks for.',
  },
  STEP_UP_FAILED: {
    status: 403,
    oauth: 'unmet_authentication_requirements',
    audit: 'denied',
    fr: 'La vérification renforcée demandée par ce service n’a pas abouti.',
    en: 'The stronger check this service asked for did not succeed.',
  },
  LOA_INSUFFICIENT: {
    status: 403,
    oauth: 'access_denied',
    audit: 'denied',
    fr: 'Le niveau de garantie atteint est insuffisant pour ce service.',
    en: 'The level of assurance reached is not enough for this service.',
  },
  TRANSACTION_INVALID: {
    status: 400,
    oauth: 'access_denied',
    audit: 'refused',
    fr: 'La description de l’opération demandée n’est pas lisible.',
    en: 'The description of the requested operation cannot be read.',
  },
  SIGNALS_INVALID: { status: 400, statuses: [415], oauth: null, audit: 'refused', ...INVALID },
  SSO_LOGIN_REQUIRED: {
    status: 400,
    oauth: 'login_required',
    audit: 'refused',
    fr: 'Ce service demande une nouvelle authentification.',
    en: 'This service asks for a new authentication.',
  },
  SSO_INTERACTION_REQUIRED: {
    status: 400,
    oauth: 'interaction_required',
    audit: 'refused',
    fr: 'Ce service demande une vérification avec vous.',
    en: 'This service asks for a check with you.',
  },
  POLICY_DENIED: {
    status: 403,
    oauth: 'access_denied',
    audit: 'denied',
    fr: 'La connexion a été refusée.',
    en: 'The sign-in was refused.',
  },
  RISK_ASSESSMENT_NOT_FOUND: {
    status: 404,
    statuses: [401],
    oauth: null,
    audit: 'refused',
    fr: 'Aucune évaluation pour ce jeton.',
    en: 'No assessment for this token.',
  },
  RISK_STAGE_LATE: { status: 503, oauth: null, audit: 'error', ...OURS },
  RISK_STAGE_FAILED: { status: 503, oauth: null, audit: 'error', ...OURS },
  RISK_FALLBACK_FAILED: { status: 503, oauth: null, audit: 'error', ...OURS },
  /** The risk pipeline's p99 went over its threshold: rule-only mode (risk/overload.ts), a degradation. */
  RISK_PIPELINE_SLOW: { status: 503, oauth: null, audit: 'error', ...OURS },
  REVIEW_NOT_FOUND: { status: 404, oauth: null, audit: 'refused', fr: 'Examen introuvable.', en: 'No such review.' },
  REVIEW_NOT_PENDING: {
    status: 409,
    oauth: null,
    audit: 'refused',
    fr: 'Cet examen est déjà tranché ou a expiré.',
    en: 'This review was already decided or has expired.',
  },
  // the login state machine
  FLOW_NOT_FOUND: { status: 400, oauth: null, audit: 'refused', ...EXPIRED },
  FLOW_EXPIRED: { status: 400, oauth: null, audit: 'refused', ...EXPIRED },
  FLOW_ILLEGAL_TRANSITION: { status: 409, oauth: null, audit: 'refused', ...EXPIRED },
  FLOW_UNKNOWN_STATE: { status: 500, oauth: null, audit: 'error', ...OURS },
  // a login that meets it mid-way ends FAILED and its RP is told to retry (interaction/unavailable-mid-login.ts)
  FLOW_STORE_UNAVAILABLE: { status: 503, oauth: 'temporarily_unavailable', audit: 'error', ...OURS },
  FLOW_TIMEOUT: { status: 400, oauth: 'access_denied', audit: 'refused', ...EXPIRED },
  // WebAuthn step-up and enrolment
  WEBAUTHN_CHALLENGE_UNKNOWN: { status: 400, oauth: null, audit: 'refused', ...WEBAUTHN },
  WEBAUTHN_ORIGIN_MISMATCH: { status: 400, oauth: null, audit: 'refused', ...WEBAUTHN },
  WEBAUTHN_RPID_MISMATCH: { status: 400, oauth: null, audit: 'refused', ...WEBAUTHN },
  WEBAUTHN_COUNTER_REGRESSION: { status: 400, oauth: null, audit: 'refused', ...WEBAUTHN },
  WEBAUTHN_CREDENTIAL_UNKNOWN: { status: 400, oauth: null, audit: 'refused', ...WEBAUTHN },
  WEBAUTHN_CREDENTIAL_ALREADY_REGISTERED: { status: 400, oauth: null, audit: 'refused', ...WEBAUTHN },
  WEBAUTHN_USER_NOT_VERIFIED: { status: 400, oauth: null, audit: 'refused', ...WEBAUTHN },
  WEBAUTHN_ATTACHMENT_MISMATCH: { status: 400, oauth: null, audit: 'refused', ...WEBAUTHN },
  WEBAUTHN_VERIFICATION_FAILED: { status: 400, oauth: null, audit: 'refused', ...WEBAUTHN },
  WEBAUTHN_ENROLMENT_NOT_ALLOWED: {
    status: 403,
    oauth: null,
    audit: 'denied',
    fr: 'Une clé de sécurité ne peut être ajoutée que juste après une connexion, depuis le même navigateur.',
    en: 'A security key can be added only right after signing in, from the same browser.',
  },
  WEBAUTHN_EXISTING_CREDENTIAL_REQUIRED: {
    status: 403,
    oauth: null,
    audit: 'denied',
    fr: 'Pour ajouter une clé, confirmez d’abord avec une clé déjà enregistrée.',
    en: 'To add a key, first confirm with one you already registered.',
  },
  WEBAUTHN_CREDENTIAL_LEVEL_TOO_LOW: {
    status: 400,
    oauth: null,
    audit: 'refused',
    fr: 'Cette clé n’a pas été enregistrée pour ce type de connexion.',
    en: 'This key was not registered for this kind of sign-in.',
  },
  WEBAUTHN_CREDENTIAL_COOLING_DOWN: {
    status: 400,
    oauth: null,
    audit: 'refused',
    fr: 'Cette clé a été ajoutée récemment et ne peut pas encore servir pour cette connexion.',
    en: 'This security key was added recently and cannot be used for this sign-in yet.',
  },
  WEBAUTHN_LEVEL3_UNAVAILABLE: {
    status: 403,
    oauth: null,
    audit: 'denied',
    fr: 'Les clés de sécurité ne sont pas acceptées ici pour ce type de connexion.',
    en: 'Security keys are not accepted for this kind of sign-in here.',
  },
  WEBAUTHN_ATTESTATION_REQUIRED: {
    status: 400,
    oauth: null,
    audit: 'refused',
    fr: 'Cette clé de sécurité n’a pas prouvé ce qu’elle est ; utilisez une clé qui le permet (attestation).',
    en: 'This security key did not prove what it is; use a security key that supports attestation.',
  },
  WEBAUTHN_ATTESTATION_UNTRUSTED: {
    status: 400,
    oauth: null,
    audit: 'refused',
    fr: 'Ce modèle de clé de sécurité n’est pas accepté ici.',
    en: 'This model of security key is not accepted here.',
  },
  WEBAUTHN_ATTEMPTS_EXHAUSTED: {
    status: 400,
    oauth: 'unmet_authentication_requirements',
    audit: 'refused',
    ...WEBAUTHN,
  },
  // the behaviour side channel (WebSocket upgrade answers)
  WEBSOCKET_INVALID: { status: 400, oauth: null, audit: 'refused', ...INVALID },
  ORIGIN_REFUSED: { status: 403, oauth: null, audit: 'denied', ...INVALID },
  NOT_FOUND: { status: 404, oauth: null, audit: 'refused', fr: 'Introuvable.', en: 'Not found.' },
  INTERNAL_ERROR: { status: 500, oauth: null, audit: 'error', ...OURS },
  // operators: admin API, metrics, CLIs
  SECTOR_IDENTIFIER_INVALID: {
    status: 502,
    statuses: [403],
    oauth: null,
    audit: 'refused',
    fr: 'Ce service est mal enregistré auprès de la passerelle (document d’identifiant de secteur) ; son exploitant doit le corriger.',
    en: 'This service is misregistered with the gateway (sector identifier document); its operator must fix it.',
  },
  SECTOR_IDENTIFIER_UNREACHABLE: {
    status: 502,
    oauth: null,
    audit: 'error',
    fr: 'Le document d’identifiant de secteur de ce service est injoignable.',
    en: 'This service’s sector identifier document cannot be fetched.',
  },
  OPS_UNAUTHORIZED: {
    status: 401,
    oauth: null,
    audit: 'denied',
    fr: 'Identifiant d’opérateur requis.',
    en: 'An operator credential is required.',
  },
  OPS_FORBIDDEN: {
    status: 403,
    oauth: null,
    audit: 'denied',
    fr: 'Cet opérateur n’a pas le rôle requis.',
    en: 'This operator does not hold the role this needs.',
  },
  // the admin revocation API (admin/revocation-routes.ts)
  REVOCATION_SCOPE_UNKNOWN: { status: 400, oauth: null, audit: 'refused', ...INVALID },
  REVOCATION_VALUE_INVALID: { status: 400, oauth: null, audit: 'refused', ...INVALID },
  REVOCATION_REASON_REQUIRED: { status: 400, oauth: null, audit: 'refused', ...INVALID },
  // the durable write of a revocation already announced to every instance failed (retried in the background)
  REVOCATION_NOT_DURABLE: { status: 503, oauth: null, audit: 'error', ...OURS },
  REVIEW_SAME_OPERATOR: {
    status: 409,
    oauth: null,
    audit: 'refused',
    fr: 'Cet opérateur a déjà approuvé cet examen ; un autre opérateur doit le faire.',
    en: 'This operator already approved this review; another operator must.',
  },
  IDP_CLI_FAILED: { status: 500, oauth: null, audit: 'error', ...OURS },
  // configuration, keys, stores: never exposed (status ≥ 500)
  CONFIG_INVALID: { status: 500, oauth: null, audit: 'error', ...OURS },
  POLICY_INVALID: { status: 500, oauth: null, audit: 'error', ...OURS },
  KEY_SET_INCOMPLETE: { status: 500, oauth: null, audit: 'error', ...OURS },
  RATE_LIMITED: {
    status: 429,
    oauth: 'temporarily_unavailable',
    audit: 'refused',
    fr: 'Trop de demandes pour le moment ; réessayez dans quelques instants.',
    en: 'Too many requests at the moment; please try again in a moment.',
  },
  LOAD_SHEDDING: {
    status: 429,
    oauth: 'temporarily_unavailable',
    audit: 'error',
    fr: 'Le service est très sollicité ; réessayez dans quelques instants.',
    en: 'The service is very busy; please try again in a moment.',
  },
  HSM_BUSY: {
    status: 503,
    oauth: 'temporarily_unavailable',
    audit: 'error',
    fr: 'Le service est très sollicité ; réessayez dans quelques instants.',
    en: 'The service is very busy; please try again in a moment.',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    oauth: 'temporarily_unavailable',
    audit: 'error',
    fr: 'Le service est indisponible pour le moment ; réessayez plus tard.',
    en: 'The service is unavailable at the moment; please try again later.',
  },
  AUDIT_UNAVAILABLE: { status: 503, oauth: 'temporarily_unavailable', audit: 'error', ...OURS },
  DATABASE_UNAVAILABLE: {
    status: 503,
    oauth: 'temporarily_unavailable',
    audit: 'error',
    fr: 'Le service est indisponible pour le moment ; réessayez dans quelques instants.',
    en: 'The service is unavailable at the moment; please try again in a moment.',
  },
  AUDIT_INVALID_RECORD: { status: 500, oauth: null, audit: 'error', ...OURS },
  MIGRATION_BAD_NAME: { status: 500, oauth: null, audit: 'error', ...OURS },
  MIGRATION_FAILED: { status: 500, oauth: null, audit: 'error', ...OURS },
  MIGRATION_LOCK_TIMEOUT: { status: 500, oauth: null, audit: 'error', ...OURS },
  INTERNAL: { status: 500, oauth: null, audit: 'error', ...OURS },
} as const satisfies Record<string, ErrorSpec>;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** How the gateway answers each kind of adapter failure (the message is the adapter's own). */
const ADAPTER_KINDS: Readonly<Record<AdapterErrorKind, Omit<ErrorSpec, 'fr' | 'en'>>> = {
  refused: { status: 400, oauth: 'access_denied', audit: 'refused' },
  reauthenticate: { status: 400, oauth: 'login_required', audit: 'refused' },
  unavailable: { status: 503, oauth: 'temporarily_unavailable', audit: 'error' },
  config: { status: 500, oauth: 'server_error', audit: 'error' },
  internal: { status: 500, oauth: 'server_error', audit: 'error' },
};

/** Every code of the product: the gateway's and the adapters'. */
export type ErrorCode = GatewayErrorCode | AdapterErrorCode;

function isGatewayErrorCode(value: string): value is GatewayErrorCode {
  return Object.hasOwn(GATEWAY_ERRORS, value);
}

/** Every registered code, the gateway's then the adapters'. */
export const ERROR_CODES: readonly ErrorCode[] = [
  ...Object.keys(GATEWAY_ERRORS).filter(isGatewayErrorCode),
  ...Object.keys(ADAPTER_ERRORS).filter(isAdapterErrorCode),
];

/**
 * The registry row of a code (an adapter's row is derived from its kind). A value that is not a registered
 * code (read back from storage, say) throws: an unknown code is an error, never a default.
 *
 * @example
 * errorSpec('SAML_AUTHN_TOO_OLD').oauth; // 'login_required'
 */
export function errorSpec(code: ErrorCode): ErrorSpec {
  if (isGatewayErrorCode(code)) return GATEWAY_ERRORS[code];
  if (isAdapterErrorCode(code)) {
    const declared = ADAPTER_ERRORS[code];
    return { ...ADAPTER_KINDS[declared.kind], fr: declared.fr, en: declared.en };
  }
  throw new TypeError(`unregistered error code ${String(code)}`);
}
