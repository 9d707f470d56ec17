/**
 * What an adapter reads its IdP's metadata through: the current trusted metadata and whether the IdP is
 * usable. A static handle wraps metadata read once (tests, files without lifecycle); the metadata monitor
 * (`monitor.ts`) swaps the metadata in place on refresh, so a key rollover is picked up without restart,
 * and turns an IdP `unavailable` when its metadata expires or fails verification.
 */
import type { IdpAvailability } from '../contract.ts';
import type { IdpMetadata } from './idp-metadata.ts';

export interface MetadataHandle {
  /** The metadata to trust now; undefined while none is valid. */
  current(): IdpMetadata | undefined;
  availability(): IdpAvailability;
}

/**
 * A handle over metadata that never changes.
 *
 * @example
 * const handle = staticMetadata(await loadIdpMetadata(file));
 */
export function staticMetadata(metadata: IdpMetadata): MetadataHandle {
  return { current: () => metadata, availability: () => 'available' };
}
