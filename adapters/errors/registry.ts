/**
 * The closed list of every code an adapter may throw, with its kind and FR/EN message: the contract's own
 * codes here, each protocol's from its folder (one line per adapter kind). `AdapterError.code` is typed by
 * it, so a code that no adapter declares does not type-check; the gateway's error registry maps each kind
 * to an HTTP status, an OAuth error and an audit outcome.
 */
import type { AdapterErrorSpec } from './spec.ts';
import { SAML_ERRORS } from './saml-codes.ts';
import { REFERENCE_ERRORS } from './reference-codes.ts';

/** Codes of the contract itself (the adapter registry and the metadata monitor). */
const CONTRACT_ERRORS = {
  ADAPTER_UNKNOWN: { kind: 'refused', fr: 'Fournisseur d’identité inconnu.', en: 'Unknown identity provider.' },
  ADAPTER_DUPLICATE: {
    kind: 'config',
    fr: 'Fournisseur d’identité déclaré deux fois.',
    en: 'Identity provider registered twice.',
  },
  ADAPTER_KIND_UNKNOWN: { kind: 'config', fr: 'Type d’adaptateur inconnu.', en: 'Unknown adapter kind.' },
} as const satisfies Record<string, AdapterErrorSpec>;

export const ADAPTER_ERRORS = {
  ...CONTRACT_ERRORS,
  ...SAML_ERRORS,
  ...REFERENCE_ERRORS,
} as const satisfies Record<string, AdapterErrorSpec>;

/** Every code an adapter may throw. */
export type AdapterErrorCode = keyof typeof ADAPTER_ERRORS;

/** Whether a value read back from storage or a peer is one of the adapters' codes. */
export function isAdapterErrorCode(value: string): value is AdapterErrorCode {
  return Object.hasOwn(ADAPTER_ERRORS, value);
}
