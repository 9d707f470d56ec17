/** The codes of configuration, keys and stores: never exposed (status ≥ 500), or a dependency shedding load. */
import { OURS, type ErrorSpec } from './spec.ts';

export const DEPENDENCY_ERRORS = {
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
