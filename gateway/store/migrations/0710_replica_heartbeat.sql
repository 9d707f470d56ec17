-- The replica-lag heartbeat (issue #15): each gateway process updates its own row on the primary every
-- second (a sequence number) and reads it back on the streaming replica; how far behind the replica is
-- decides where the reads that may lag go (gateway/store/replica-router.ts). Tiny, never read by anything else.
create table replica_heartbeat (
  instance   text        primary key,
  seq        bigint      not null,
  written_at timestamptz not null default now()
);
