/**
 * What the gateway remembers about one login between its steps (Redis, interaction TTL): the RP, the
 * IdP chosen, the acr the RP requires, how often it stepped up, and — once the IdP answered — the outcome
 * that /interaction/:uid/complete acts on. The outcome holds the person's pivot identity: it is sealed
 * (`record-cipher.ts`: AES-256-GCM under a per-login key derived from the HSM-wrapped DEK), never in clear.
 */
import type { Redis } from 'ioredis';
import type { Acr } from '../translate/acr.ts';
import type { Decision } from '../policy/decide.ts';
import type { PivotIdentity } from '../translate/pivot-identity.ts';
import type { ErrorCode } from '../errors.ts';

export interface LoginContext {
  loginId: string;
  clientId: string;
  requiredAcr: Acr;
  idp?: string;
  stepUps: number;
  requestId?: string;
  /** HMAC of this browser's binding cookie, set when the upstream login starts. */
  browserBinding?: string;
  /** The RP asked for a fresh authentication (`prompt=login` or `max_age`): every upstream request forces it. */
  freshAuthRequired?: boolean;
  /** The RP's `max_age`, seconds. */
  maxAge?: number;
  /** The one upstream request in flight: when it left, whether it forced authentication, the step-up level it answers. */
  upstream?: { issuedAt: number; forceAuthn: boolean; stepUpLevel?: number };
}

export type LoginOutcome =
  | {
      status: 'verified';
      accountId: string;
      pivot: PivotIdentity;
      idp: string;
      decision: Decision;
      fraudScore: number;
      /** AuthnInstant, epoch seconds: the ID token's auth_time. */ authTime: number;
      /** From a OneTimeUse assertion. */ oneTimeUse: boolean;
    }
  | { status: 'rejected'; code: ErrorCode };

/** Seals and opens a value for one record (`session/record-cipher.ts`). */
export interface RecordSealer {
  seal(recordKey: Buffer, plaintext: Uint8Array): Promise<{ sealed: string }>;
  open(recordKey: Buffer, sealed: string): Promise<Buffer>;
}

const outcomeRecord = (loginId: string) => Buffer.from(`login-outcome\0${loginId}`);

export class LoginContextStore {
  readonly #redis: Redis;
  readonly #ttl: number;
  readonly #sealer: RecordSealer;

  constructor(redis: Redis, ttlSeconds: number, sealer: RecordSealer) {
    this.#redis = redis;
    this.#ttl = ttlSeconds;
    this.#sealer = sealer;
  }

  async save(context: LoginContext): Promise<void> {
    await this.#redis.set(`login:${context.loginId}`, JSON.stringify(context), 'EX', this.#ttl);
  }

  async load(loginId: string): Promise<LoginContext | null> {
    const raw = await this.#redis.get(`login:${loginId}`);
    return raw ? (JSON.parse(raw) as LoginContext) : null;
  }

  async saveOutcome(loginId: string, outcome: LoginOutcome): Promise<void> {
    const { sealed } = await this.#sealer.seal(outcomeRecord(loginId), Buffer.from(JSON.stringify(outcome)));
    await this.#redis.set(`login:${loginId}:outcome`, sealed, 'EX', this.#ttl);
  }

  /** Reads and deletes the outcome: it is acted on once. */
  async takeOutcome(loginId: string): Promise<LoginOutcome | null> {
    const raw = (await this.#redis.getdel(`login:${loginId}:outcome`)) as string | null;
    return raw
      ? (JSON.parse((await this.#sealer.open(outcomeRecord(loginId), raw)).toString('utf8')) as LoginOutcome)
      : null;
  }

  /** RelayState → login, so the single ACS knows which adapter and login a response belongs to. */
  async saveRelay(relayState: string, loginId: string, idp: string): Promise<void> {
    await this.#redis.set(`relay:${relayState}`, JSON.stringify({ loginId, idp }), 'EX', this.#ttl);
  }

  async loadRelay(relayState: string): Promise<{ loginId: string; idp: string } | null> {
    const raw = await this.#redis.get(`relay:${relayState}`);
    return raw ? (JSON.parse(raw) as { loginId: string; idp: string }) : null;
  }
}
