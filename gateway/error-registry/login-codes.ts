/** The codes of a login: requests and pages, choosing and answering the IdP, translation, risk, policy, the login state machine. */
import { EXPIRED, INVALID, OURS, type ErrorSpec } from './spec.ts';

export const LOGIN_ERRORS = {
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
  /**
   * An answer to an earlier upstream request of the login than its latest (the person chose again, or a step-up
   * was asked for since): only the latest request's answer can finish the login.
   */
  UPSTREAM_ANSWER_SUPERSEDED: {
    status: 400,
    oauth: 'access_denied',
    audit: 'refused',
    fr: 'Cette réponse du fournisseur d’identité répond à une demande remplacée depuis ; recommencez depuis le service.',
    en: 'This answer from the identity provider is for a request replaced since; start again from the service.',
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
  /** A DPoP-bound access token at /risk/assessment without a valid, unused proof of its key (api/risk-assessment.ts). */
  RISK_ASSESSMENT_PROOF_INVALID: {
    status: 401,
    oauth: null,
    audit: 'refused',
    fr: 'Ce jeton exige une preuve de possession de sa clé (DPoP).',
    en: 'This token requires a proof of possession of its key (DPoP).',
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
} as const satisfies Record<string, ErrorSpec>;
