/**
 * The scopes an RP may ask for and the claims each releases — FranceConnect's conventions, so that an RP
 * written for FranceConnect works unchanged:
 *
 * | scope | claims |
 * |---|---|
 * | `openid` | `sub`, `acr`, `amr`, `auth_time` |
 * | `profile` | `given_name`, `family_name`, `birthdate`, `gender`, `preferred_username` (FranceConnect's `profile`: no birth place) |
 * | `birth` | `birthplace`, `birthcountry` |
 * | `identite_pivot` | `given_name`, `family_name`, `birthdate`, `gender`, `birthplace`, `birthcountry` |
 * | `given_name`, `family_name`, `birthdate`, `gender`, `birthplace`, `birthcountry`, `email`, `preferred_username` | that one claim |
 * | `amr` | `amr` (also released with `openid`: an RP that asks for it by name gets it too) |
 * | `legal_person` | the legal-person data set of a company representative (eIDAS) |
 *
 * - A client's registered `scope` must name known scopes (config/clients.ts refuses others at boot); a
 *   client registered for a scope may also ask for every scope whose claims that registration already
 *   covers (`profile` covers `given_name`, …): `impliedScopes`.
 * - An unknown scope in a request is ignored, as OIDC Core §3.1.2.1 says ("scope values … not understood
 *   … SHOULD be ignored"): it releases nothing and is not granted; each one is logged (`scope ignored`,
 *   with the client and the request id) by oidc/ignored-scopes.ts.
 * - Here, below both, because the configuration (config/clients.ts) and the provider (oidc/) both read it.
 */
import { LEGAL_PERSON_CLAIMS } from './legal-person.ts';

/** The claims of the pivot identity that make a person's account, in the order `oidc/pairwise.ts` hashes them. */
export const PERSON_CLAIMS = [
  'given_name',
  'family_name',
  'birthdate',
  'gender',
  'birthplace',
  'birthcountry',
] as const;

export const PIVOT_CLAIMS = [...PERSON_CLAIMS, 'preferred_username'] as const;

const SINGLE_CLAIM_SCOPES = [
  'given_name',
  'family_name',
  'birthdate',
  'gender',
  'birthplace',
  'birthcountry',
  'email',
  'preferred_username',
] as const;

/** Scope → the claims it releases (also what the `claims` parameter may name, per the client's scopes). */
export const SCOPE_CLAIMS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  profile: ['given_name', 'family_name', 'birthdate', 'gender', 'preferred_username'],
  birth: ['birthplace', 'birthcountry'],
  identite_pivot: ['given_name', 'family_name', 'birthdate', 'gender', 'birthplace', 'birthcountry'],
  ...Object.fromEntries(SINGLE_CLAIM_SCOPES.map((claim) => [claim, [claim]])),
  amr: ['amr'],
  // a company representative's legal-person data set (eIDAS); absent for natural persons
  legal_person: [...LEGAL_PERSON_CLAIMS],
});

/** Every scope the gateway knows. */
export const SCOPES: readonly string[] = Object.freeze(Object.keys(SCOPE_CLAIMS));

/**
 * The registered scopes plus every scope whose claims they already cover.
 *
 * @example impliedScopes('openid profile') // 'openid profile given_name family_name birthdate gender preferred_username amr'
 */
export function impliedScopes(registered: string): string {
  const names = registered.split(' ').filter(Boolean);
  const covered = new Set(names.flatMap((scope) => [...(SCOPE_CLAIMS[scope] ?? [])]));
  const implied = SCOPES.filter(
    (scope) => !names.includes(scope) && SCOPE_CLAIMS[scope]!.every((claim) => covered.has(claim)),
  );
  return [...names, ...implied].join(' ');
}

/** The scopes of a request the gateway does not know (ignored, and logged). */
export function unknownScopes(requested: unknown): string[] {
  if (typeof requested !== 'string') return [];
  return [...new Set(requested.split(' ').filter((scope) => scope && !Object.hasOwn(SCOPE_CLAIMS, scope)))];
}
