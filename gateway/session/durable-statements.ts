/**
 * The statements of the durable tier (`durable-tier.ts`) on `session_records` and its heads. Those of a login's
 * path are named (`store/prepared.ts`): `session_records` has a partition per day, and planning a statement over
 * them cost more than running it, on every call.
 */
import { prepared } from '../store/prepared.ts';
import { COLUMNS, type RevocationScope } from './stored-record.ts';

/**
 * The current row of the record `$1` is in its head's partition (`session_record_heads`, migrations 0740 and
 * 0750: the `expires_at` of its latest row): compared as a scalar subquery (an init plan), PostgreSQL prunes
 * the other partitions when the statement runs, whatever the statistics. A record key alone is no partition
 * key: the statements filtering on it probed every day partition.
 */
const IN_HEAD_PARTITION = 'r.expires_at = (select h.expires_at from session_record_heads h where h.record_key = $1)';
/** Which sessions a revocation scope matches (`r`: the rows of `session_records`). */
export const SCOPE_MATCH: Readonly<Record<RevocationScope, string>> = {
  session: `r.record_key = $1 and ${IN_HEAD_PARTITION}`,
  account: 'r.account_key = $1',
  idp: 'r.idp = $1',
  issued_before: 'r.created_at < $1',
};

/** The columns of a closed row, as its `ended` successor (same version, same creation time). */
const ENDED = COLUMNS.replace(' state,', " 'ended',");
/** A revoked row's successor (`$2`: revoked, or only its version bumped): the next version, same creation time. */
export const REVOKED_SUCCESSOR = COLUMNS.replace(' version,', ' version + 1,').replace(
  ' state,',
  " case when $2::boolean then 'revoked' else state end,",
);
export const CURRENT = prepared(
  'session_current',
  `select ${COLUMNS} from session_records where record_key = $1 and valid_to is null and expires_at > now() order by valid_from desc limit 1`,
);
/**
 * A record's parameters of `session_record_write` (migration 0780): its columns, the ended row it may reopen, and
 * the digest of the session row it was made over (`conflict`: another request wrote that session since).
 */
const WRITE_PARAMS = 15;
const WRITE = (params: string) => `select ${COLUMNS}, conflict from session_record_write(${params})`;
export const PUT = prepared(
  'session_write',
  WRITE(Array.from({ length: WRITE_PARAMS }, (_, j) => `$${j + 1}`).join(', ')),
);
/** `putMany` of n records: a named statement per n up to 8 (a login writes two at a time), unnamed above. */
export const putOf = (n: number, values: unknown[]) => {
  const text = Array.from({ length: n }, (_, i) =>
    WRITE(Array.from({ length: WRITE_PARAMS }, (__, j) => `$${i * WRITE_PARAMS + j + 1}`).join(', ')),
  ).join(' union all ');
  return n <= 8 ? prepared(`session_write_${n}`, text).with(values) : { text, values };
};
/** A record's write lock, as `session_record_write` takes it (the merge of a session write: `DurableTier`). */
export const LOCK_RECORD = prepared(
  'session_write_lock',
  `select pg_advisory_xact_lock(hashtextextended(encode($1::bytea, 'hex'), 0))`,
);
/**
 * The row `session_record_write` compares a session write with: the current one (no `valid_to`) whatever the clock
 * did, the newest closed one only when none is current.
 */
export const LATEST_FOR_WRITE = prepared(
  'session_write_latest',
  `select ${COLUMNS} from session_records r where r.record_key = $1 and ${IN_HEAD_PARTITION} order by (r.valid_to is null) desc, r.valid_from desc limit 1`,
);
/**
 * The state of a record's current row (null: no row), once a write or end of it under way has committed
 * (`session_record_state`, migration 0810: the record's write lock taken shared, then a fresh read in its head's
 * partition): the check of a session a request read and did not write again (held-writes.ts).
 */
export const CURRENT_STATE = prepared('session_current_state', 'select session_record_state($1) as state');
/**
 * The `ended` row a session's end made (`$2`: its `valid_from`, as `END` answered it), in its head's partition (an
 * end, and a write refused over an ended row, keep the head where it is).
 */
export const ENDED_ROW = prepared(
  'session_ended_row',
  `select ${COLUMNS} from session_records r where r.record_key = $1 and ${IN_HEAD_PARTITION} and r.kind = 'Session'
     and r.state = 'ended' and r.valid_from = $2::timestamptz`,
);
export const FIND_SESSION = {
  lookup: prepared(
    'session_by_lookup',
    `select ${COLUMNS} from session_records where kind = 'Session' and lookup_key = $1 and valid_to is null and expires_at > now() order by valid_from desc limit 1`,
  ),
  sid: prepared(
    'session_by_sid',
    `select ${COLUMNS} from session_records where kind = 'Session' and sid_keys @> array[$1::bytea] and valid_to is null and expires_at > now() order by valid_from desc limit 1`,
  ),
} as const;
/**
 * Ends records, each in its head's partition (`session_records_close`, migrations 0750, 0760); answers the sessions
 * it moved from active to ended, with the ended row it made.
 */
export const END = prepared(
  'session_close',
  // the instant as UTC ISO text (exact to the microsecond, whatever the session's DateStyle and TimeZone)
  `select record_key, to_char(ended_from at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ended_from
   from session_records_close($1::bytea[])`,
);
export const CONSUME = prepared(
  'session_consume',
  `with closed as (
     update session_records r set valid_to = clock_timestamp()
     where r.record_key = $1 and ${IN_HEAD_PARTITION} and r.valid_to is null and r.state = 'active'
       and r.expires_at > now() returning ${COLUMNS})
   insert into session_records (${COLUMNS}) select ${ENDED} from closed returning ${COLUMNS}`,
);

/**
 * The record keys of a grant's artefacts with a current row: found by their heads (migration 0750: a head
 * names its record's grant, in an index that is not partitioned), each checked in its one partition (a
 * subquery per head, not a join: its partition key is a parameter, so the others are pruned when it runs).
 */
export const KEYS_OF_GRANT = prepared(
  'session_keys_of_grant',
  `select h.record_key from session_record_heads h where h.grant_key = $1 and h.expires_at > now() and (
     select true from session_records r
     where r.record_key = h.record_key and r.expires_at = h.expires_at and r.valid_to is null limit 1)`,
);

/**
 * A revocation's outbox row. Sessions ended ($6): their RPs are to be told (migration 0870), by the caller under its
 * lease ($7 holder, $8 ms) or, without one, by a gateway's sweeper; none ended: told already.
 */
export const INSERT_REVOCATION = `insert into session_revocations (scope, target, actor, reason, record_keys, notified_at,
    notify_claimed_by, notify_claimed_until, notify_attempts)
  values ($1, $2, $3, $4, $5,
    case when $6::boolean then null else clock_timestamp() end,
    case when $6::boolean then $7::text end,
    case when $6::boolean and $8::float8 is not null
      then clock_timestamp() + make_interval(secs => $8::float8 / 1000.0) end,
    case when $6::boolean and $7::text is not null then 1 else 0 end)
  returning id`;
