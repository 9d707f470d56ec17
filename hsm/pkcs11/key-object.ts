/** The record of a private key found on a PKCS#11 token: what keys.ts finds and token.ts signs with. */
import type { Handle } from './module.ts';

/**
 * A private key found on the token, with its cached handle. `generation` is the token's login generation
 * the handle was resolved in: after the login was lost and restored, handles are resolved again by CKA_ID.
 */
export interface TokenKeyObject {
  handle: Handle;
  generation: number;
  readonly id: Buffer;
  readonly label: string;
}
