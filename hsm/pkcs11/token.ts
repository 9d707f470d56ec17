/**
 * One open PKCS#11 token: the shared module, the slot found by label, a pool of logged-in sessions, and
 * the two operations every caller needs: run something on a session, and sign off the event loop.
 *
 * - Signing is `C_SignInit` then the thread-pool `C_SignAsync`, so the event loop never waits for the token.
 * - Object handles are cached in the key object; nothing searches per signature. A handle is resolved
 *   again by CKA_ID only after the login was lost (the token may drop private-object handles on logout)
 *   or when the token reports it invalid.
 */
import pkcs11js from 'pkcs11js';
import { HsmError, pkcs11ReturnValue } from '../errors.ts';
import { findObjects } from './find.ts';
import type { TokenKeyObject } from './key-object.ts';
import { acquireModule, releaseModule, slotByTokenLabel, type Handle, type Pkcs11 } from './module.ts';
import { ObjectStoreLock } from './object-store-lock.ts';
import { SessionPool, type SessionPoolOptions, type SessionPoolStats } from './session-pool.ts';

export interface TokenOptions extends SessionPoolOptions {
  /** Path of the PKCS#11 module (e.g. `/usr/lib/softhsm/libsofthsm2.so`). */
  library: string;
  tokenLabel: string;
  /** User PIN. */
  pin: string;
}

/** A mechanism as pkcs11js takes it (`parameter` for PSS). */
export type Mechanism = pkcs11js.Mechanism;

const STALE_HANDLE = new Set(['CKR_OBJECT_HANDLE_INVALID', 'CKR_KEY_HANDLE_INVALID']);

export class Pkcs11Token {
  readonly label: string;
  readonly lib: Pkcs11;
  readonly #library: string;
  readonly #pool: SessionPool;
  readonly #objects = new ObjectStoreLock();
  #closed = false;

  private constructor(library: string, label: string, lib: Pkcs11, pool: SessionPool) {
    this.#library = library;
    this.label = label;
    this.lib = lib;
    this.#pool = pool;
  }

  /**
   * Loads the module, finds the token by label and opens the session pool.
   *
   * @throws HsmError `HSM_LIBRARY_LOAD_FAILED`, `HSM_TOKEN_NOT_FOUND`, `HSM_LOGIN_FAILED`
   */
  static open(options: TokenOptions): Pkcs11Token {
    const lib = acquireModule(options.library);
    try {
      const slot = slotByTokenLabel(options.library, options.tokenLabel);
      const pool = new SessionPool(lib, slot, options.pin, options);
      return new Pkcs11Token(options.library, options.tokenLabel, lib, pool);
    } catch (error) {
      releaseModule(options.library);
      throw error;
    }
  }

  /**
   * Runs `operation` on a pooled session (with the pool's retry-once recovery). It must not create or
   * destroy token objects (`CKA_TOKEN` true): those go through {@link runWritingObjects}.
   */
  run<T>(operation: (session: Handle) => Promise<T> | T): Promise<T> {
    if (this.#closed) return Promise.reject(new HsmError('HSM_CLOSED', 'key store closed'));
    return this.#objects.shared(() => this.#pool.run(operation));
  }

  /**
   * Runs `operation`, which creates or destroys token objects, while no other operation of this process
   * uses the token (see `object-store-lock.ts`: SoftHSM's object files are not safe against a concurrent
   * search in the same process).
   */
  runWritingObjects<T>(operation: (session: Handle) => Promise<T> | T): Promise<T> {
    if (this.#closed) return Promise.reject(new HsmError('HSM_CLOSED', 'key store closed'));
    return this.#objects.exclusive(() => this.#pool.run(operation));
  }

  /** Sessions, busy, waiting (queue depth), session lost (see `SessionPool.stats`). */
  stats(): SessionPoolStats {
    return this.#pool.stats();
  }

  /** Login generation of the session pool (see `SessionPool.generation`). */
  get generation(): number {
    return this.#pool.generation;
  }

  /**
   * Runs `operation` on a pooled session with the current handle of the private key `key`; re-resolves the
   * handle by CKA_ID after a re-login, or once if the token calls it invalid.
   */
  withKey<T>(key: TokenKeyObject, operation: (session: Handle, handle: Handle) => Promise<T> | T): Promise<T> {
    return this.run(async (session) => {
      if (key.generation !== this.generation) this.#resolve(session, key);
      try {
        return await operation(session, key.handle);
      } catch (error) {
        if (!STALE_HANDLE.has(pkcs11ReturnValue(error) ?? '')) throw error;
        this.#resolve(session, key);
        return await operation(session, key.handle);
      }
    });
  }

  #resolve(session: Handle, key: TokenKeyObject): void {
    const generation = this.generation;
    const found = findObjects(this.lib, session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_ID, value: key.id },
    ]);
    if (found.length !== 1) {
      throw new HsmError('HSM_KEY_NOT_FOUND', 'private key no longer on the token', {
        detail: `label=${key.label} found=${found.length}`,
      });
    }
    key.handle = found[0];
    key.generation = generation;
  }

  /**
   * Signs `data` with the private key `key` inside the token, off the event loop.
   *
   * @throws HsmError `HSM_SIGN_FAILED` (PKCS#11 failure), `HSM_BUSY`, `HSM_CLOSED`
   */
  async sign(key: TokenKeyObject, mechanism: Mechanism, data: Buffer, maxLength: number): Promise<Buffer> {
    try {
      return await this.withKey(key, async (session, handle) => {
        this.lib.C_SignInit(session, mechanism, handle);
        return await this.lib.C_SignAsync(session, data, Buffer.alloc(maxLength));
      });
    } catch (error) {
      if (error instanceof HsmError) throw error;
      throw new HsmError('HSM_SIGN_FAILED', 'the token refused to sign', {
        detail: pkcs11ReturnValue(error),
        cause: error,
      });
    }
  }

  /**
   * Decrypts `data` with the private key `key` inside the token, off the event loop.
   *
   * @throws HsmError `HSM_DECRYPT_FAILED` (PKCS#11 failure: wrong key, bad padding, unsupported
   * parameters), `HSM_BUSY`, `HSM_CLOSED`
   */
  async decrypt(key: TokenKeyObject, mechanism: Mechanism, data: Buffer, maxLength: number): Promise<Buffer> {
    try {
      return await this.withKey(key, async (session, handle) => {
        this.lib.C_DecryptInit(session, mechanism, handle);
        return await this.lib.C_DecryptAsync(session, data, Buffer.alloc(maxLength));
      });
    } catch (error) {
      if (error instanceof HsmError) throw error;
      throw new HsmError('HSM_DECRYPT_FAILED', 'the token could not decrypt', {
        detail: pkcs11ReturnValue(error),
        cause: error,
      });
    }
  }

  /** Waits for operations in flight, closes the sessions and releases the module. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.close();
    releaseModule(this.#library);
  }
}
