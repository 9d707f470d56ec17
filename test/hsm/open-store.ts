/**
 * Opens a key store on a harness token for `test/hsm/`.
 *
 * SoftHSM only sees tokens that existed when the module was initialised, and the module stays initialised
 * while any store of the process is open: a test file takes every `freshToken()` it needs at module scope,
 * before its first test opens a store.
 */
import type { OpenKeyStoreOptions, TokenKeyStore } from '../../hsm/token-keystore.ts';
import { openKeyStore } from '../../hsm/token-keystore.ts';
import type { TokenHandle } from '../harness/services/softhsm.ts';

export function openTestStore(token: TokenHandle, options: Partial<OpenKeyStoreOptions> = {}): Promise<TokenKeyStore> {
  return openKeyStore({ library: token.library, tokenLabel: token.label, pin: token.pin, ...options });
}
