/** The shape of a registry row and the words several rows share (`../error-registry.ts` assembles the rows). */

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

export const EXPIRED = {
  fr: 'Cette connexion a expiré ou est déjà terminée ; recommencez depuis le service.',
  en: 'This sign-in has expired or is already over; start again from the service.',
} as const;
export const INVALID = { fr: 'La requête n’est pas valide.', en: 'The request is not valid.' } as const;
export const OURS = { fr: 'Une erreur est survenue de notre côté.', en: 'Something went wrong on our side.' } as const;
export const WEBAUTHN = {
  fr: 'La vérification par clé de sécurité n’a pas abouti.',
  en: 'The security key check did not succeed.',
} as const;
