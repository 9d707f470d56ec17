/**
 * What an adapter declares about each of its error codes: what kind of failure it is (the gateway maps the
 * kind to an HTTP status, an OAuth error and an audit outcome) and the public message in French and English.
 * Messages are short, generic, and never echo message content.
 */

/**
 * - `refused`: the upstream answer (or the request that named the IdP) is not acceptable: the login fails;
 * - `reauthenticate`: the upstream authentication is too old for what the RP asked: the RP may retry with `prompt=login`;
 * - `unavailable`: the IdP cannot be used now (metadata expired, unreachable);
 * - `config`: configuration or metadata refused at boot or at refresh;
 * - `internal`: a fault of ours (HSM, programming error).
 */
export type AdapterErrorKind = 'refused' | 'reauthenticate' | 'unavailable' | 'config' | 'internal';

export interface AdapterErrorSpec {
  readonly kind: AdapterErrorKind;
  readonly fr: string;
  readonly en: string;
}
