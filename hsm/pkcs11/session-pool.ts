/**
 * A fixed pool of logged-in read/write PKCS#11 sessions on one token.
 *
 * - One session serves one operation at a time (PKCS#11 sessions are not concurrent).
 * - Waiting is bounded: past `maxWaiting` queued callers, or after `acquireTimeoutMs`, a caller fails
 *   with `HSM_BUSY` instead of piling up.
 * - Recovery: an operation failing with CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_DEVICE_ERROR or
 *   CKR_USER_NOT_LOGGED_IN gets a fresh session (opened and logged in again) and is retried once.
 * - A session that could not be reopened leaves its place empty, never its closed handle: the next caller of
 *   that place opens one (a closed handle's number may be given to another session of the process meanwhile,
 *   which two operations would then share).
 * - `generation` counts logins: it grows when a reopened session had to log in again (the token had
 *   logged the user out), which is when tokens may invalidate private-object handles.
 * - `close()` waits for operations in flight (closing a session under a thread-pool call is unsafe).
 * - `stats()`: sessions, busy, callers waiting (the queue depth) and whether the token lost its session (a
 *   reopen failed: device error, token gone, login refused) and none has been reopened since — what an
 *   operator's gauge and the gateway's readiness read.
 */
import pkcs11js from 'pkcs11js';
import { HsmError, pkcs11ReturnValue } from '../errors.ts';
import type { Handle, Pkcs11 } from './module.ts';

export interface SessionPoolOptions {
  /** Number of sessions. Default 4. */
  size?: number;
  /** Callers allowed to wait for a session before `HSM_BUSY`. Default 1024. */
  maxWaiting?: number;
  /** Longest wait for a session before `HSM_BUSY`, in ms. Default 10 000. */
  acquireTimeoutMs?: number;
}

const RECOVERABLE = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_DEVICE_ERROR',
  'CKR_USER_NOT_LOGGED_IN',
]);

/** What the pool is doing now. */
export interface SessionPoolStats {
  size: number;
  /** Sessions running an operation. */
  busy: number;
  /** Callers waiting for a session: the queue depth. */
  waiting: number;
  /** The last attempt to reopen a session failed, and no session was opened since. */
  sessionLost: boolean;
}

/** A place of the pool: its session, or null when its reopening failed (the next caller opens one). */
type Place = Handle | null;

interface Waiter {
  resolve: (session: Place) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class SessionPool {
  readonly #lib: Pkcs11;
  readonly #slot: Handle;
  readonly #pin: string;
  readonly #maxWaiting: number;
  readonly #acquireTimeoutMs: number;
  readonly #idle: Place[] = [];
  readonly #waiters: Waiter[] = [];
  #size = 0;
  #busy = 0;
  #generation = 0;
  #closed = false;
  #lost = false;
  #drained: (() => void) | undefined;

  /** Opens `size` sessions on `slot` and logs the user in. @throws HsmError `HSM_LOGIN_FAILED` */
  constructor(lib: Pkcs11, slot: Handle, pin: string, options: SessionPoolOptions = {}) {
    this.#lib = lib;
    this.#slot = slot;
    this.#pin = pin;
    this.#maxWaiting = options.maxWaiting ?? 1024;
    this.#acquireTimeoutMs = options.acquireTimeoutMs ?? 10_000;
    const size = options.size ?? 4;
    if (!Number.isInteger(size) || size < 1)
      throw new HsmError('HSM_CONFIG_INVALID', 'pool size must be a positive integer');
    try {
      for (let i = 0; i < size; i += 1) this.#idle.push(this.#openSession());
    } catch (error) {
      this.#closeAll();
      throw error;
    }
    this.#size = size;
  }

  get size(): number {
    return this.#size;
  }

  stats(): SessionPoolStats {
    return { size: this.#size, busy: this.#busy, waiting: this.#waiters.length, sessionLost: this.#lost };
  }

  /** Login generation: changes whenever the user had to be logged in again. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Runs `operation` on a session of its own; on a recoverable PKCS#11 failure, reopens the session,
   * logs in again and retries once.
   */
  async run<T>(operation: (session: Handle) => Promise<T> | T): Promise<T> {
    let session = await this.#acquire();
    try {
      session ??= this.#open();
      try {
        return await operation(session);
      } catch (error) {
        if (!RECOVERABLE.has(pkcs11ReturnValue(error) ?? '')) throw error;
        const failed = session;
        session = null; // closed now: never given back, whether or not another opens
        this.#close(failed);
        const fresh = this.#open();
        session = fresh;
        try {
          return await operation(fresh);
        } catch (again) {
          // the fresh session failed as well: closed and its place left empty, never a dead handle given back
          if (RECOVERABLE.has(pkcs11ReturnValue(again) ?? '')) {
            session = null;
            this.#close(fresh);
          }
          throw again;
        }
      }
    } finally {
      this.#release(session);
    }
  }

  /** Waits for operations in flight, then closes every session. Waiting callers get `HSM_CLOSED`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new HsmError('HSM_CLOSED', 'key store closed'));
    }
    if (this.#busy > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    this.#closeAll();
  }

  #openSession(): Handle {
    const session = this.#lib.C_OpenSession(this.#slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      this.#lib.C_Login(session, pkcs11js.CKU_USER, this.#pin);
      this.#generation += 1;
    } catch (error) {
      if (pkcs11ReturnValue(error) !== 'CKR_USER_ALREADY_LOGGED_IN') {
        this.#lib.C_CloseSession(session);
        throw new HsmError('HSM_LOGIN_FAILED', 'cannot log in to the token', {
          detail: pkcs11ReturnValue(error),
          cause: error,
        });
      }
    }
    return session;
  }

  /** Closes a failed session. */
  #close(session: Handle): void {
    try {
      this.#lib.C_CloseSession(session);
    } catch {
      // the session is already gone: that is why we are here
    }
  }

  /** Opens a session for a place whose session failed; a failure to open marks the token's session lost. */
  #open(): Handle {
    try {
      const fresh = this.#openSession();
      this.#lost = false;
      return fresh;
    } catch (error) {
      this.#lost = true;
      throw error;
    }
  }

  #acquire(): Promise<Place> {
    if (this.#closed) return Promise.reject(new HsmError('HSM_CLOSED', 'key store closed'));
    if (this.#idle.length > 0) {
      const session = this.#idle.pop()!;
      this.#busy += 1;
      return Promise.resolve(session);
    }
    if (this.#waiters.length >= this.#maxWaiting) {
      return Promise.reject(
        new HsmError('HSM_BUSY', 'too many signatures waiting for the token', {
          detail: `waiting=${this.#waiters.length}`,
        }),
      );
    }
    return new Promise<Place>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(
            new HsmError('HSM_BUSY', 'no token session became free in time', {
              detail: `timeoutMs=${this.#acquireTimeoutMs}`,
            }),
          );
        }, this.#acquireTimeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  #release(session: Place): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(session);
      return;
    }
    this.#busy -= 1;
    this.#idle.push(session);
    if (this.#closed && this.#busy === 0) this.#drained?.();
  }

  #closeAll(): void {
    for (const session of this.#idle.splice(0)) {
      if (session === null) continue;
      try {
        this.#lib.C_CloseSession(session);
      } catch {
        // closing: ignore a session that is already invalid
      }
    }
  }
}
