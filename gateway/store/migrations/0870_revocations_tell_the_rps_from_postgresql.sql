-- Twenty-eighth round: telling a revoked session's RPs (back channel, CAEP) is work kept in PostgreSQL, not in the
-- revoking process's memory. A revocation made by the session CLI (a process with no RP to tell) reached no RP; one
-- made over the admin API held the operator's request open while every RP was told, and whatever a process stopping
-- meanwhile had not told was never told. Now each revocation row that ended sessions waits with `notified_at` null:
-- the revoking gateway claims it at once (`notify_claimed_by`, `notify_claimed_until`: a lease it renews while it
-- works, and only its holder renews it or marks it told), any gateway's sweeper takes one no process holds
-- (`for update skip locked`, then a lease of its own, `notify_attempts` counted: a row failing 10 times is left for
-- an operator), and the row is marked once every RP of its sessions was told. An attempt that failed for some
-- sessions keeps only those (`notify_pending`) and is taken again after a backoff (1 minute, doubling, 1 hour at
-- most). Rows from before (and from an instance
-- not yet upgraded, which tells its RPs itself) are told already: the column's default, `now()` (not volatile: the
-- column is added without rewriting the table).
alter table session_revocations
  add column if not exists notified_at timestamptz default now(),
  add column if not exists notify_claimed_by text,
  add column if not exists notify_claimed_until timestamptz,
  add column if not exists notify_attempts integer not null default 0,
  add column if not exists notify_pending bytea[];
create index if not exists session_revocations_unnotified on session_revocations (id) where notified_at is null;
