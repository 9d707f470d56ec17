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
  /** The upstream authentication the person's session stands on: what a later SSO login is decided on. */
  evidence?: SessionEvidence;
}

export class AccountStore {
  readonly #store: SessionStore;
  readonly #ttlSeconds: number;

  constructor(store: SessionStore, ttlSeconds: number) {
    this.#store = store;
    this.#ttlSeconds = ttlSeconds;
  }

  async save(accountId: string, account: StoredAccount): Promise<void> {
    await this.#store.put({
      kind: 'Identity',
      id: accountId,
      payload: account,
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
