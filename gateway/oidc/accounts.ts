/**
 * The account model oidc-provider asks for (`findAccount`): the pivot identity of the last verified
 * login of a person, kept in Redis for the session's lifetime. Claims are returned as validated; the
 * scopes/claims filtering is oidc-provider's.
 */
import type { Redis } from 'ioredis';
import type { Account } from 'oidc-provider';
import type { PivotIdentity } from '../translate/pivot-identity.ts';

export interface StoredAccount {
  pivot: PivotIdentity;
  idp: string;
  /** Risk score of the login that stored it (for the access token's fraud_score). */
  fraudScore: number;
  /** The login came from a one-time-use assertion (SAML OneTimeUse): no SSO may reuse it. */
  oneTimeUse?: boolean;
}

export class AccountStore {
  readonly #redis: Redis;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, ttlSeconds: number) {
    this.#redis = redis;
    this.#ttlSeconds = ttlSeconds;
  }

  async save(accountId: string, account: StoredAccount): Promise<void> {
    await this.#redis.set(`account:${accountId}`, JSON.stringify(account), 'EX', this.#ttlSeconds);
  }

  async load(accountId: string): Promise<StoredAccount | null> {
    const raw = await this.#redis.get(`account:${accountId}`);
    return raw ? (JSON.parse(raw) as StoredAccount) : null;
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
