/** The records the session store takes and gives, and what it reports to (`session-store.ts`). */
import type { RecordKind, StoredRecord } from './durable-tier.ts';

/** What the revocation feed's local cache answers of a record (`LocalRevocations`). */
export interface KnownRevocations {
  get(recordKeyHex: string): { state: string } | undefined;
}

/** The few counters the store reports (gateway/observability's registry in the gateway). */
export interface SessionMetrics {
  read(kind: RecordKind, source: 'cache' | 'db' | 'miss'): void;
  refused(code: string): void;
  revoked(scope: string, count: number): void;
  /** A session write merged into another request's write of the same session. */
  merged(): void;
}

export interface PutInput {
  kind: RecordKind;
  id: string;
  payload: unknown;
  expiresIn: number;
  /** Sessions: the cookie id (oidc-provider's jti). */
  lookupId?: string;
  /** Sessions: every per-RP sid. */
  sids?: readonly string[];
  grantId?: string;
  accountId?: string;
  idp?: string;
  /** Tokens: the version of their session when issued. */
  version?: number;
}

export interface Loaded<T> {
  record: StoredRecord;
  payload: T;
}

/**
 * A person whose session another person's save replaced (a merge across persons, `session-save-merger.ts`): the
 * grants their saves named, to end once the merged save has surely landed (`replaced-persons.ts`).
 */
export interface ReplacedPerson {
  /** The session's record key. */
  recordKey: Buffer;
  /** The replaced person's account key. */
  accountKey: Buffer;
  /** Grant record key (hex) → the RP's client id. */
  grants: Map<string, string>;
}

/** What became of a replaced person's grants: ended, or left because the session names that person (again). */
export type ReplacedOutcome = 'ended' | 'stood';
