/**
 * Loads a PKCS#11 module once per process and library path, and finds a token's slot by label.
 *
 * - `C_Initialize` always passes `CKF_OS_LOCKING_OK`: async (thread-pool) calls crash SoftHSM without it.
 * - A PKCS#11 library is process-global state: every opener of the same path shares one initialisation,
 *   counted by `acquire`/`release`; the last release calls `C_Finalize`.
 * - SoftHSM reads its token directory at `C_Initialize`, so a token made later is invisible. When a label
 *   is not found and nobody else uses the module, it is re-initialised once and searched again.
 * - A module still loaded when the process exits is finalised on Node's `exit` event, before the C library's
 *   exit handlers run, so that SoftHSM never tears its state down after OpenSSL's own exit cleanup (a known
 *   class of exit crashes: SoftHSMv2 #635, OpenSSL #22508).
 */
import pkcs11js from 'pkcs11js';
import { HsmError, pkcs11ReturnValue } from '../errors.ts';

export type Pkcs11 = pkcs11js.PKCS11;
export type Handle = pkcs11js.Handle;

interface LoadedModule {
  lib: Pkcs11;
  users: number;
}

const loaded = new Map<string, LoadedModule>();
let finaliseOnExit = false;

/** Finalises every module still loaded (Node's `exit` event runs before the C library's exit handlers). */
function finaliseAll(): void {
  for (const [library, entry] of loaded) {
    loaded.delete(library);
    try {
      entry.lib.C_Finalize();
    } catch {
      // the process is exiting: nothing useful to do with a failure
    }
  }
}

function initialize(lib: Pkcs11, library: string): void {
  try {
    lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (pkcs11ReturnValue(error) === 'CKR_CRYPTOKI_ALREADY_INITIALIZED') return;
    throw new HsmError('HSM_LIBRARY_LOAD_FAILED', 'cannot initialise the PKCS#11 module', {
      detail: library,
      cause: error,
    });
  }
}

/** Loads (or shares) the module at `library` and counts one user. Pair with {@link releaseModule}. */
export function acquireModule(library: string): Pkcs11 {
  let entry = loaded.get(library);
  if (!entry) {
    const lib = new pkcs11js.PKCS11();
    try {
      lib.load(library);
    } catch (error) {
      throw new HsmError('HSM_LIBRARY_LOAD_FAILED', 'cannot load the PKCS#11 module', {
        detail: library,
        cause: error,
      });
    }
    try {
      initialize(lib, library);
    } catch (error) {
      lib.close();
      throw error;
    }
    entry = { lib, users: 0 };
    loaded.set(library, entry);
    if (!finaliseOnExit) {
      finaliseOnExit = true;
      process.once('exit', finaliseAll);
    }
  }
  entry.users += 1;
  return entry.lib;
}

/** Drops one user of `library`; the last one finalises and unloads the module. */
export function releaseModule(library: string): void {
  const entry = loaded.get(library);
  if (!entry) return;
  entry.users -= 1;
  if (entry.users > 0) return;
  loaded.delete(library);
  try {
    entry.lib.C_Finalize();
    entry.lib.close();
  } catch {
    // Finalising a module that is going away: nothing useful to do with a failure.
  }
}

/** Pauses the calling thread (the lookup runs at open, before any request: a few ms at most). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Reads of a token's info tried before the lookup gives up on a slot that keeps failing. */
const TOKEN_INFO_TRIES = 6;

/**
 * The slot of `tokenLabel`, or undefined. SoftHSM re-reads a token's files for `C_GetTokenInfo`: while
 * another process is creating or writing a token in the same directory, the read can fail with
 * `CKR_GENERAL_ERROR` (seen in the test suite, where many processes share a token directory). A slot whose
 * info cannot be read is skipped; if the label was not found among the others, the scan is tried again after
 * a short pause (20, 40, … 320 ms), and the last failure is thrown if it persists.
 */
function findSlot(lib: Pkcs11, tokenLabel: string): Handle | undefined {
  for (let attempt = 1; ; attempt += 1) {
    let unreadable: unknown;
    for (const slot of lib.C_GetSlotList(true)) {
      let label: string;
      try {
        label = lib.C_GetTokenInfo(slot).label.trimEnd();
      } catch (error) {
        if (pkcs11ReturnValue(error) !== 'CKR_GENERAL_ERROR') throw error;
        unreadable = error;
        continue;
      }
      if (label === tokenLabel) return slot;
    }
    if (unreadable === undefined) return undefined;
    if (attempt >= TOKEN_INFO_TRIES) throw unreadable;
    pause(20 * 2 ** (attempt - 1));
  }
}

/**
 * The slot holding the token labelled `tokenLabel` (the caller must hold one use of the module).
 *
 * @throws HsmError `HSM_TOKEN_NOT_FOUND`
 */
export function slotByTokenLabel(library: string, tokenLabel: string): Handle {
  const entry = loaded.get(library);
  if (!entry) throw new HsmError('HSM_CLOSED', 'PKCS#11 module not loaded', { detail: library });
  let slot = findSlot(entry.lib, tokenLabel);
  if (!slot && entry.users === 1) {
    // Only our caller uses the module: re-initialise so that tokens created since are seen.
    try {
      entry.lib.C_Finalize();
    } catch {
      // already finalised
    }
    initialize(entry.lib, library);
    slot = findSlot(entry.lib, tokenLabel);
  }
  if (!slot) {
    throw new HsmError('HSM_TOKEN_NOT_FOUND', 'no token with this label', {
      detail: `label=${tokenLabel}; a token created after this process initialised the module is only seen once every token of the module is closed`,
    });
  }
  return slot;
}
