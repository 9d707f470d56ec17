/**
 * One session-store record as both tiers hold it (`StoredRecord`, its payload sealed), and its row in
 * `session_records` (migration 0620): the column list in the order of `session_record_put`'s parameters, a row
 * read back as a record, a record as that function's parameters.
 */
export type RecordState = 'active' | 'revoked' | 'ended';
export type RecordKind = 'Session' | 'Grant' | 'AccessToken' | 'RefreshToken' | 'Identity' | 'UpstreamSession';
export type RevocationScope = 'session' | 'account' | 'idp' | 'issued_before';
/**
 * The kinds whose ids are never reused, so never written again once ended (migration 0830): a grant, a token. Not a
 * session (a login's cookie-id rotation ends it and writes it again), nor a person's identity or upstream login
 * (written again at their next login).
 */
export const ENDED_FOR_GOOD: ReadonlySet<RecordKind> = new Set<RecordKind>(['Grant', 'AccessToken', 'RefreshToken']);

/** One record as both tiers hold it (the payload sealed). */
export interface StoredRecord {
  recordKey: Buffer;
  kind: RecordKind;
  lookupKey: Buffer | null;
  sidKeys: Buffer[];
  grantKey: Buffer | null;
  accountKey: Buffer | null;
  idp: string | null;
  version: number;
  state: RecordState;
  dekVersion: number;
  sealed: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface Row {
  record_key: Buffer;
  kind: RecordKind;
  lookup_key: Buffer | null;
  sid_keys: Buffer[] | null;
  grant_key: Buffer | null;
  account_key: Buffer | null;
  idp: string | null;
  version: number;
  state: RecordState;
  dek_version: number;
  sealed: string;
  created_at: Date;
  expires_at: Date;
}

export const toRecord = (r: Row): StoredRecord => ({
  recordKey: r.record_key,
  kind: r.kind,
  lookupKey: r.lookup_key,
  sidKeys: r.sid_keys ?? [],
  grantKey: r.grant_key,
  accountKey: r.account_key,
  idp: r.idp,
  version: r.version,
  state: r.state,
  dekVersion: r.dek_version,
  sealed: r.sealed,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

/** The columns of a record row, in the order of `session_record_put`'s parameters. */
export const COLUMNS =
  'record_key, kind, lookup_key, sid_keys, grant_key, account_key, idp, version, state, dek_version, sealed, created_at, expires_at';
/** A record's columns, in the order of {@link COLUMNS} (the parameters of `session_record_put`). */
export const rowValues = (r: StoredRecord): unknown[] => [
  r.recordKey,
  r.kind,
  r.lookupKey,
  r.sidKeys.length > 0 ? r.sidKeys : null,
  r.grantKey,
  r.accountKey,
  r.idp,
  r.version,
  r.state,
  r.dekVersion,
  r.sealed,
  r.createdAt,
  r.expiresAt,
];
