/**
 * The account model oidc-provider asks for (`findAccount`): the pivot identity of the last verified
 * login of a person, kept for the session's lifetime in the two-tier session store (`session/`: Redis and
 * PostgreSQL, sealed under a per-record key of the key hierarchy, never in clear). Claims are returned as
 * validated; the scopes/claims filtering is oidc-provider's.
 */
import type { Account } from 'oidc-provider';
import type { SessionStore } from '../session/session-store.ts';
import type { SessionEvidence } from '../session/session-evidence.ts';
import type { PivotIdentity } from '../translate/pivot-identity.ts';

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
    const since = Math.floor(Date.now() / 1000) - this.#ttlSeconds;
    const kept = ((await this.load(accountId))?.evidence ?? []).filter(
      (e) => e.authTime > since && e.loginId !== evidence?.loginId,
    );
    // the evidence given is kept on the same terms: an SSO login re-saving an old one does not renew it
    const all = evidence && evidence.authTime > since ? [evidence, ...kept] : kept;
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

  /** `findAccount` for oidc-provider. */
  async find(accountId: string): Promise<Account | undefined> {
    const stored = await this.load(accountId);
    if (!stored) return undefined;
    const { acr: _acr, ...claims } = stored.pivot;
    return {
      accountId,
      claims: async (_use: string, _scope: string) => ({ sub: accountId, ...claims }),
    };
  }
}
