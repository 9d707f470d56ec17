/**
 * WebAuthn challenges in Redis, bound to one interaction and one ceremony, single use: issuing replaces
 * any earlier challenge of the same ceremony, and taking deletes it (GETDEL), so a response can be
 * verified at most once (`WEBAUTHN_CHALLENGE_UNKNOWN` otherwise).
 */
import type { Redis } from 'ioredis';
import { WebAuthnError } from './webauthn-error.ts';

export type Ceremony = 'register' | 'authenticate';

/** What a challenge was issued for. */
export interface IssuedChallenge {
  challenge: string;
  accountId: string;
}

/** Seconds a challenge lives: long enough to find and touch a security key. */
export const CHALLENGE_TTL_SECONDS = 300;

const key = (ceremony: Ceremony, uid: string) => `webauthn:challenge:${ceremony}:${uid}`;

export class ChallengeStore {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  /** Remembers `issued` as the one live challenge of `ceremony` for interaction `uid`. */
  async issue(ceremony: Ceremony, uid: string, issued: IssuedChallenge): Promise<void> {
    await this.#redis.set(key(ceremony, uid), JSON.stringify(issued), 'EX', CHALLENGE_TTL_SECONDS);
  }

  /** Takes (and deletes) the live challenge; none → `WEBAUTHN_CHALLENGE_UNKNOWN`. */
  async take(ceremony: Ceremony, uid: string): Promise<IssuedChallenge> {
    const raw = (await this.#redis.getdel(key(ceremony, uid))) as string | null;
    if (!raw)
      throw new WebAuthnError('WEBAUTHN_CHALLENGE_UNKNOWN', 'This request has expired or was already used; try again.');
    return JSON.parse(raw) as IssuedChallenge;
  }
}
