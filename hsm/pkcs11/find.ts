/**
 * `C_FindObjects*` as one call. Used at open, after key generation and when a cached handle went stale,
 * never per signature.
 */
import type pkcs11js from 'pkcs11js';
import type { Handle, Pkcs11 } from './module.ts';

/** Every object matching `template`, visible to `session`. */
export function findObjects(lib: Pkcs11, session: Handle, template: pkcs11js.Template): Handle[] {
  lib.C_FindObjectsInit(session, template);
  try {
    const found: Handle[] = [];
    for (let batch = lib.C_FindObjects(session, 64); batch.length > 0; batch = lib.C_FindObjects(session, 64)) {
      found.push(...batch);
    }
    return found;
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}
