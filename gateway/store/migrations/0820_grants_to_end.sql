-- Twenty-first round: the grants of a person whose session another person's save replaced (a merge across persons:
-- two people's logins at once on one browser), to end once the merge has surely landed (gateway/session/
-- replaced-persons.ts). Kept here, not in an instance's memory, so that an instance stopping meanwhile loses none:
-- any instance's sweeper takes a due row (`for update skip locked`, then a lease), ends its grants and deletes it.
-- One row per (session, person) until swept: a later merge round, or another save of that person replaced
-- meanwhile, adds its grants to it. No identity in clear: the session's and the grants' record keys (keyed hashes),
-- the person's account key (a keyed hash), the RPs' client ids (public).
create table if not exists session_grants_to_end (
  id bigserial primary key,
  record_key bytea not null,
  account_key bytea not null,
  -- grant record key (hex) → the RP's client id
  grants jsonb not null,
  due_at timestamptz not null,
  checks integer not null default 0,
  -- raised by every merge that adds to the row (and its looks counted afresh): a sweep deletes only the row it took
  version bigint not null default 0,
  created_at timestamptz not null default now(),
  unique (record_key, account_key)
);
create index if not exists session_grants_to_end_due on session_grants_to_end (due_at);
