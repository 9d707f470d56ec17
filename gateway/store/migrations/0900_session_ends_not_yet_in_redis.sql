-- Thirty-ninth round: an end (a logout, a token or grant revoked) or an eviction that Redis did not take is written
-- down here, beside the process's memory, until Redis takes it (gateway/session/hot-ends-ledger.ts). A process that
-- stopped or died meanwhile left Redis holding the ended records as current for up to their whole life; the next
-- process to boot reads these rows and makes the ends. Idempotent: two processes making one end is harmless.
create table if not exists session_hot_pending (
  id bigserial primary key,
  kind text not null check (kind in ('end', 'evict')),
  record_keys bytea[] not null,
  lookups bytea[] not null default '{}',
  queued_at timestamptz not null default now()
);
