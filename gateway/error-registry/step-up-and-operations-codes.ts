/** The codes of the WebAuthn step-up, the behaviour side channel, the operators (admin API, metrics, CLIs) and the revocation API. */
import { INVALID, OURS, WEBAUTHN, type ErrorSpec } from './spec.ts';

export const STEP_UP_AND_OPERATIONS_ERRORS = {
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
} as const satisfies Record<string, ErrorSpec>;
