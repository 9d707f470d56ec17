/**
 * The account model oidc-provider asks for (`findAccount`): a person's record, with the identity each of their
 * live sessions' upstream authentications asserted (a token is served its own login's: `ofLogin`), kept for the
 * session's lifetime in the two-tier session store (`session/`: Redis and
 * PostgreSQL, sealed under a per-record key of the key hierarchy, never in clear). Claims are returned as
 * validated; the scopes/claims filtering is oidc-provider's.
 */
import type { Account } from 'oidc-provider';
import type { SessionStore } from '../session/session-store.ts';
import type { SessionEvidence } from '../session/session-evidence.ts';
import type { PivotIdentity } from '../translate/pivot-identity.ts';
import { PERSON_CLAIMS } from '../translate/scope-claims.ts';

export interface StoredAccount {
  pivot: PivotIdentity;
  idp: string;
  /** Risk score of the login that stored it (for the access token's fraud_score). */
  fraudScore: number;
  /** The login came from a one-time-use assertion (SAML OneTimeUse): no SSO may reuse it. */
  oneTimeUse?: boolean;
  /**
   * The upstream authentications the person's live sessions stand on (one per device or browser that logged
   * in upstream), newest first, at most {@link MAX_SESSION_EVIDENCE}: what a later login on one of those
   * sessions (SSO) is decided on, found by the session's acr and `auth_time`.
   */
  evidence?: SessionEvidence[];
}

/** How many upstream authentications of one person are kept for SSO (older sessions log in upstream again). */
export const MAX_SESSION_EVIDENCE = 8;

/**
 * The upstream authentication a token stands on, as the token says it: the `acr` and `auth_time` of its login (an
 * authorization code's and a refresh token's own; an access token's in its `extra`, written at issue).
 */
export interface TokenLogin {
  acr: string;
  authTime: number;
}

/**
 * The login a token names: an authorization code's or a refresh token's own `acr` and `authTime`, an access
 * token's `extra.acr` and `extra.auth_time` (provider.ts `extraTokenClaims`); undefined when it names none.
 */
export function tokenLoginOf(token: unknown): TokenLogin | undefined {
  if (!token || typeof token !== 'object') return undefined;
  const t = token as { acr?: unknown; authTime?: unknown; extra?: { acr?: unknown; auth_time?: unknown } };
  const acr = t.acr ?? t.extra?.acr;
  const authTime = t.authTime ?? t.extra?.auth_time;
  return typeof acr === 'string' && typeof authTime === 'number' ? { acr, authTime } : undefined;
}

/**
 * What a token is served: the identity, the IdP and the risk score of the login behind it. `known` false: the token
 * names a login the record no longer keeps; then `pivot` holds only the claims that make the account, and `idp` and
 * `fraudScore` are the latest login's, which nothing about this token may be decided on (refresh-policy.ts refuses).
 */
export interface LoginView {
  pivot: PivotIdentity;
  idp: string;
  fraudScore: number;
  known: boolean;
  /** When the IdP said the person's session with it ends (SAML SessionNotOnOrAfter), epoch seconds. */
  upstreamSessionEnds?: number;
}

/**
 * The claims that make the account (the pivot identity `accountIdOf` hashes, and the company a representative acts
 * for): the same in every login of the account. The others (`email`, `preferred_username`, a company's name and
 * address, ...) are each login's own.
 */
const ACCOUNT_CLAIMS = [
  ...PERSON_CLAIMS,
  'legal_person_identifier',
  'acr',
] as const satisfies readonly (keyof PivotIdentity)[];

/**
 * The login behind a token in the person's record: the upstream authentication its session stands on, found by the
 * token's acr and auth_time, with the identity that authentication asserted and the score of the latest login on it.
 *
 * - a token that names no login (issued by an earlier version, or none: the authorization endpoint's own check):
 *   the person's latest login, as before;
 * - a login kept without its claims (an earlier version's record): its IdP, the latest claims;
 * - a login no longer kept (more than {@link MAX_SESSION_EVIDENCE} sessions, or older than a session may live):
 *   only the claims that make the account, never another login's `email` or `preferred_username`, and `known`
 *   false: no score or IdP of its own (a refresh is refused, an access token carries no `fraud_score`).
 *
 * @example
 * ofLogin(stored, { acr: 'eidas3', authTime: 1765000000 }) // { pivot, idp: 'demo-idp', fraudScore: 0.12, known: true }
 */
function ofLogin(stored: StoredAccount, at: TokenLogin | undefined): LoginView {
  const latest = { pivot: stored.pivot, idp: stored.idp, fraudScore: stored.fraudScore, known: true };
  if (at === undefined) return latest;
  const evidence = stored.evidence?.find((e) => e.acr === at.acr && e.authTime === at.authTime);
  if (evidence?.pivot)
    return {
      pivot: evidence.pivot,
      idp: evidence.idp,
      fraudScore: evidence.fraudScore ?? stored.fraudScore,
      known: true,
      ...(evidence.sessionNotOnOrAfter === undefined ? {} : { upstreamSessionEnds: evidence.sessionNotOnOrAfter }),
    };
  if (evidence) return { ...latest, idp: evidence.idp };
  const core = Object.fromEntries(
    ACCOUNT_CLAIMS.filter((c) => stored.pivot[c] !== undefined).map((c) => [c, stored.pivot[c]]),
  ) as unknown as PivotIdentity;
  return { ...latest, pivot: core, known: false };
}

export class AccountStore {
  readonly #store: SessionStore;
  readonly #ttlSeconds: number;

  constructor(store: SessionStore, ttlSeconds: number) {
    this.#store = store;
    this.#ttlSeconds = ttlSeconds;
  }

  /**
   * Stores the person's identity after a login; `evidence` (the upstream authentication the login stood on)
   * joins the ones kept for the person's other live sessions (expired ones and the oldest beyond
   * {@link MAX_SESSION_EVIDENCE} are dropped). Two logins of one person finishing at the same instant may
   * keep only one of theirs: the other session then logs in upstream again (never more access).
   */
  async save(accountId: string, account: Omit<StoredAccount, 'evidence'>, evidence?: SessionEvidence): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const since = now - this.#ttlSeconds;
    // an entry is kept as long as a session on its login may live, counted from the login that made it (not the
    // IdP's AuthnInstant: an IdP may answer from a session of its own older than that, and the login's tokens still
    // need their entry); an entry of an earlier version, which has no such time, by its AuthnInstant
    const madeAt = (e: SessionEvidence) => e.savedAt ?? e.authTime;
    const kept = ((await this.load(accountId))?.evidence ?? []).filter(
      (e) => madeAt(e) > since && e.loginId !== evidence?.loginId,
    );
    // the evidence given keeps the identity this login was decided on and its score, for the tokens of its session
    // (ofLogin); an SSO login re-saving the entry it stood on keeps its first save time (no renewal)
    const own = evidence && {
      ...evidence,
      pivot: account.pivot,
      fraudScore: account.fraudScore,
      savedAt: evidence.savedAt ?? now,
    };
    const all = own && madeAt(own) > since ? [own, ...kept] : kept;
    await this.#store.put({
      kind: 'Identity',
      id: accountId,
      payload: { ...account, evidence: all.slice(0, MAX_SESSION_EVIDENCE) } satisfies StoredAccount,
      expiresIn: this.#ttlSeconds,
      accountId,
      idp: account.idp,
    });
  }

  async load(accountId: string): Promise<StoredAccount | null> {
    const loaded = await this.#store.get<StoredAccount>('Identity', accountId);
    return loaded && loaded.record.state === 'active' ? loaded.payload : null;
  }

  /** The login behind a token of `accountId` (see {@link ofLogin}), or null when the account is gone. */
  async ofLogin(accountId: string, at: TokenLogin | undefined): Promise<LoginView | null> {
    const stored = await this.load(accountId);
    return stored ? ofLogin(stored, at) : null;
  }

  /** `findAccount` for oidc-provider: the claims of the login behind `at` (the token's), see {@link ofLogin}. */
  async find(accountId: string, at?: TokenLogin): Promise<Account | undefined> {
    const view = await this.ofLogin(accountId, at);
    if (!view) return undefined;
    const { acr: _acr, ...claims } = view.pivot;
    return {
      accountId,
      claims: async (_use: string, _scope: string) => ({ sub: accountId, ...claims }),
    };
  }
}
