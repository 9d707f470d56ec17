/**
 * The canonical form of an audit record, the bytes its digest is taken over.
 *
 * - one JSON array, fields in a fixed order: record id, time (ISO 8601, ms), session, from, to, component,
 *   error code, request id, details;
 * - details with object keys sorted at every depth, so the same record read back from `jsonb` (which
 *   reorders keys) gives the same bytes;
 * - the digest is SHA-256; the chain hash is sha256(prev_hash ‖ digest), computed in PostgreSQL at insert
 *   and recomputed by `audit verify`.
 */
import { createHash } from 'node:crypto';

/** The fields of a record that its digest covers. */
export interface DigestFields {
  recordId: string;
  at: Date;
  sessionId: string;
  from: string | null;
  to: string;
  component: string;
  errorCode: string | null;
  requestId: string | null;
  details: unknown;
}

/**
 * JSON with object keys sorted at every depth.
 *
 * @example
 * canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }) // '{"a":[{"c":3,"d":2}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * SHA-256 of a record's canonical form.
 *
 * @example
 * const digest = recordDigest({ recordId, at: new Date(), sessionId: 's', from: null, to: 'INITIATED', component: 'flow', errorCode: null, requestId: null, details: {} });
 */
export function recordDigest(fields: DigestFields): Buffer {
  const canonical = canonicalJson([
    fields.recordId,
    fields.at.toISOString(),
    fields.sessionId,
    fields.from,
    fields.to,
    fields.component,
    fields.errorCode,
    fields.requestId,
    fields.details ?? {},
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest();
}

/** The chain step: sha256(prev ‖ digest). */
export function chainHash(prev: Buffer, digest: Buffer): Buffer {
  return createHash('sha256').update(prev).update(digest).digest();
}

/** The hash before the first record: 32 zero bytes. */
export const GENESIS_HASH = Buffer.alloc(32);
