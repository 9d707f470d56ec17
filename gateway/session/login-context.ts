/**
 * What the gateway remembers about one login between its steps (Redis, interaction TTL): the RP, the
 * IdP chosen, the acr the RP requires, how often it stepped up, and — once the IdP answered — the outcome
 * that the completion step acts on (interaction/complete.ts, in the resume request or at /interaction/:uid/complete). The outcome holds the person's pivot identity: it is sealed
 * (`record-cipher.ts`: AES-256-GCM under a per-login key derived from the HSM-wrapped DEK), never in clear.
 *
 * A login's context is read once per request (`request-memo.ts`: a login started or resumed on an existing
 * session saves it, then the translation point reads it in the same request): a save replaces the memo's
 * entry, and every read parses its own copy, so a caller changing what it read changes nothing else.
 */
import type { Redis } from 'ioredis';
import type { Acr } from '../translate/acr.ts';
import type { Decision } from '../policy/decide.ts';
import type { PivotIdentity } from '../translate/pivot-identity.ts';
import type { ErrorCode } from '../errors.ts';
import type { SessionEvidence } from './session-evidence.ts';
import { inRequest, memoised, remember } from './request-memo.ts';

export interface LoginContext {
  loginId: string;
  clientId: string;
  requiredAcr: Acr;
  idp?: string;
  stepUps: number;
  /** When the login's start saved this context (epoch ms); absent in a context saved before it existed. */
  startedAt?: number;
  requestId?: string;
  /** HMAC of this browser's binding cookie, set when the upstream login starts. */
  browserBinding?: string;
  /** The RP asked for a fresh authentication (`prompt=login` or `max_age`): every upstream request forces it. */
  freshAuthRequired?: boolean;
  /** The RP's `max_age`, seconds. */
  maxAge?: number;
  /** The one upstream request in flight: when it left, whether it forced authentication, the step-up level it answers. */
  /**
   * The login's latest upstream request: `request` is the id its answer names (`LoginStart.request`; absent in a
   * context saved before it existed), the only answer that can finish the login.
   */
  upstream?: { issuedAt: number; forceAuthn: boolean; stepUpLevel?: number; request?: string };
  /** The login stands on an existing gateway session (SSO) instead of a new upstream answer. */
  sso?: true;
  /**
   * What the translation point reads of the RP's authorization request (its RFC 9396 `authorization_details`,
   * absent when it sent none), kept when the login starts: the ACS takes it from here instead of reading
   * oidc-provider's interaction once more (issue #14). A context written before this field has none: the ACS
   * then reads the interaction, as before.
   */
  params?: { authorization_details?: unknown };
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
      /** The upstream authentication the login stands on (kept with the account for later SSO). */
      evidence?: SessionEvidence;
    }
  | { status: 'rejected'; code: ErrorCode };

/** Seals and opens a value for one record (`session/record-cipher.ts`). */
export interface RecordSealer {
  seal(recordKey: Buffer, plaintext: Uint8Array): Promise<{ sealed: string }>;
  open(recordKey: Buffer, sealed: string): Promise<Buffer>;
}

const outcomeRecord = (loginId: string) => Buffer.from(`login-outcome\0${loginId}`);

/** The other sealed values of a login, by their Redis key prefix. */
export type SealedName = 'webauthn:pending' | 'review:outcome';
const sealedRecord = (name: SealedName, loginId: string) => Buffer.from(`${name}\0${loginId}`);

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
    const key = `login:${context.loginId}`;
    const json = JSON.stringify(context);
    await this.#redis.set(key, json, 'EX', this.#ttl);
    remember(key, json);
  }

  /**
   * Keeps the context of a login for this request only, no Redis write: a login that begins and ends within
   * this request (a `prompt=none` SSO login: decided while oidc-provider answers, never resumed by another
   * request), or an SSO login until the translation point has started it (it then saves it). Outside a request
   * it is saved like any other.
   */
  async holdForRequest(context: LoginContext): Promise<void> {
    if (!inRequest()) return this.save(context);
    remember(`login:${context.loginId}`, JSON.stringify(context));
  }

  /**
   * Starts this request's read of a login's context without waiting for it (issue #14): a handler that will
   * read it asks for it together with its first other read (oidc-provider's interaction, the relay's rate
   * limit), one round trip instead of two; {@link load} then gets the memoised answer. The read is the request's
   * first of that context, as before, only sent earlier; a failed one is not remembered (`load` reads again).
   * Outside a request (no memo) it does nothing.
   */
  prefetch(loginId: string): void {
    if (!inRequest()) return;
    const key = `login:${loginId}`;
    memoised(key, () => this.#redis.get(key)).catch(() => undefined);
  }

  async load(loginId: string): Promise<LoginContext | null> {
    const key = `login:${loginId}`;
    const raw = await memoised(key, () => this.#redis.get(key));
    return raw ? (JSON.parse(raw) as LoginContext) : null;
  }

  /** Reads the context from Redis again, past this request's memo: for when another request may have changed it. */
  async reload(loginId: string): Promise<LoginContext | null> {
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

  /**
   * Keeps another value of one login sealed like the outcome (the pending WebAuthn step-up, the outcome held
   * during a manual review): each names the person, so none is kept in clear. `name` is the Redis key prefix
   * and part of the record key, so a value moved to another name or login does not open.
   */
  async holdSealed(name: SealedName, loginId: string, value: unknown, ttlSeconds: number): Promise<void> {
    const { sealed } = await this.#sealer.seal(sealedRecord(name, loginId), Buffer.from(JSON.stringify(value)));
    await this.#redis.set(`${name}:${loginId}`, sealed, 'EX', ttlSeconds);
  }

  /** Reads a value kept by {@link holdSealed}, leaving it in place. */
  async peekSealed<T>(name: SealedName, loginId: string): Promise<T | null> {
    return this.#openSealed<T>(name, loginId, await this.#redis.get(`${name}:${loginId}`));
  }

  /** Reads and deletes a value kept by {@link holdSealed}: the one caller that gets it acts on it. */
  async takeSealed<T>(name: SealedName, loginId: string): Promise<T | null> {
    return this.#openSealed<T>(name, loginId, (await this.#redis.getdel(`${name}:${loginId}`)) as string | null);
  }

  async dropSealed(name: SealedName, loginId: string): Promise<void> {
    await this.#redis.del(`${name}:${loginId}`);
  }

  async #openSealed<T>(name: SealedName, loginId: string, raw: string | null): Promise<T | null> {
    if (!raw) return null;
    return JSON.parse((await this.#sealer.open(sealedRecord(name, loginId), raw)).toString('utf8')) as T;
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
