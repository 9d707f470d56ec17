/**
 * The demo IdP's users. Passwords are public: they are printed on the login page (it is a demo).
 *
 * - Each user has exactly one eIDAS level of assurance, from the closed set `loaUris`.
 * - Attribute values follow the gateway's pivot identity: birthdate `YYYY-MM-DD`, gender `female|male`,
 *   birthplace an INSEE COG commune code, birthcountry a COG country code (99100 = France).
 */
import { ConformanceError } from '../errors.ts';

/** eIDAS levels of assurance and their SAML AuthnContextClassRef URIs. */
export const loaUris = {
  low: 'http://eidas.europa.eu/LoA/low',
  substantial: 'http://eidas.europa.eu/LoA/substantial',
  high: 'http://eidas.europa.eu/LoA/high',
} as const;

/** An eIDAS level of assurance. */
export type Loa = keyof typeof loaUris;

/** A demo user and the attributes the IdP asserts for them. */
export interface DemoUser {
  username: string;
  password: string;
  /** Persistent NameID (opaque, stable per user). */
  nameId: string;
  loa: Loa;
  given_name: string;
  family_name: string;
  /** YYYY-MM-DD */
  birthdate: string;
  gender: 'female' | 'male';
  /** INSEE COG commune code, e.g. 75056 (Paris). */
  birthplace: string;
  /** INSEE COG country code, e.g. 99100 (France). */
  birthcountry: string;
  email: string;
  preferred_username?: string;
}

/** The three demo users: one per eIDAS level. */
export const demoUsers: readonly DemoUser[] = Object.freeze([
  {
    username: 'marie',
    password: 'marie-demo',
    nameId: 'demo-idp-7f3c2a91-marie',
    loa: 'substantial',
    given_name: 'Marie',
    family_name: 'Dupont',
    birthdate: '1985-04-12',
    gender: 'female',
    birthplace: '75056',
    birthcountry: '99100',
    email: 'marie.dupont@example.org',
    preferred_username: 'Dupont',
  },
  {
    username: 'jean',
    password: 'jean-demo',
    nameId: 'demo-idp-1b8e40d2-jean',
    loa: 'high',
    given_name: 'Jean Pierre',
    family_name: 'Martin',
    birthdate: '1962-11-03',
    gender: 'male',
    birthplace: '69123',
    birthcountry: '99100',
    email: 'jean.martin@example.org',
  },
  {
    username: 'alex',
    password: 'alex-demo',
    nameId: 'demo-idp-c5a9d7e4-alex',
    loa: 'low',
    given_name: 'Alex',
    family_name: 'Bernard',
    birthdate: '1999-01-30',
    gender: 'male',
    birthplace: '13055',
    birthcountry: '99100',
    email: 'alex.bernard@example.org',
  },
]);

/**
 * The AuthnContextClassRef URI for a level; an unknown level throws.
 *
 * @example loaUri('substantial') // 'http://eidas.europa.eu/LoA/substantial'
 */
export function loaUri(loa: Loa): string {
  if (!Object.hasOwn(loaUris, loa)) throw new ConformanceError('LOA_UNKNOWN', 500, `unknown LoA ${String(loa)}`);
  return loaUris[loa];
}

/**
 * Finds a user by username in `users` (default: the demo users).
 *
 * @example findUser('marie')?.loa // 'substantial'
 */
export function findUser(username: string, users: readonly DemoUser[] = demoUsers): DemoUser | undefined {
  return users.find((user) => user.username === username);
}
