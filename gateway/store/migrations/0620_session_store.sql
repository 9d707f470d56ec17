-- The durable tier of the two-tier session store (issue #12 item 2; gateway/session/).
--
-- * Insert-only: a change of a record is a new row; the row it replaces gets `valid_to` (the soft delete).
--   The current row of a record is the one whose `valid_to` is null. Nothing is ever updated but `valid_to`.
-- * Keys are SHA-256(kind ‖ id ‖ secret) (the id is never stored); identity and artefact payloads are
--   sealed (AES-256-GCM under a per-record key derived by HKDF from a DEK of the key hierarchy): nothing
--   here reads in clear without the HSM's KEK.
-- * Range-partitioned by `expires_at`, one partition per UTC day, made ahead by `session_records_maintain`;
--   the same function drops the partitions whose rows all expired longer ago than the retention it is
--   given (run at boot and daily by every gateway instance, and by `node gateway/session/cli.ts retention`).
--   A default partition catches a row whose day was not made yet; the function deletes its expired rows.
create table session_records (
  record_key   bytea not null,
  -- oidc-provider model name (Session, Grant, AccessToken) or Identity (a person's pivot identity)
  kind         text not null check (kind in ('Session', 'Grant', 'AccessToken', 'Identity')),
  -- sessions: SHA-256 of the cookie id (oidc-provider's jti; the record key hashes the session uid)
  lookup_key   bytea,
  -- sessions: SHA-256 of each per-RP `sid` the session handed out (tokens carry it)
  sid_keys     bytea[],
  grant_key    bytea,
  account_key  bytea,
  idp          text,
  -- the session's security version (sessions) or the session version a token was issued under (tokens)
  version      integer not null check (version > 0),
  state        text not null check (state in ('active', 'revoked', 'ended')),
  dek_version  integer not null check (dek_version > 0),
  sealed       text not null,
  -- when the session began (kept across its rows: revokeIssuedBefore compares it)
  created_at   timestamptz not null,
  valid_from   timestamptz not null default clock_timestamp(),
  valid_to     timestamptz,
  expires_at   timestamptz not null
) partition by range (expires_at);

create table session_records_default partition of session_records default;

create index session_records_key_expiry on session_records (record_key, expires_at);
create index session_records_lookup on session_records (lookup_key) where lookup_key is not null and valid_to is null;
create index session_records_sids on session_records using gin (sid_keys) where kind = 'Session' and valid_to is null;
create index session_records_grant on session_records (grant_key) where grant_key is not null and valid_to is null;
create index session_records_account on session_records (account_key) where kind = 'Session' and valid_to is null;
create index session_records_idp on session_records (idp) where kind = 'Session' and valid_to is null;

-- Revocations, as decided (the outbox of the hot tier): a revocation lands here in the same transaction as
-- its rows; `synced_at` is set once Redis has it and the other instances were told. While Redis is down
-- it stays null and every instance re-applies it when Redis answers again.
create table session_revocations (
  id          bigserial primary key,
  scope       text not null check (scope in ('session', 'account', 'idp', 'issued_before')),
  -- hashed session uid or account, IdP id, or an ISO instant: never a person's identifier in clear
  target      text not null,
  actor       text not null,
  reason      text not null,
  record_keys bytea[] not null,
  at          timestamptz not null default clock_timestamp(),
  synced_at   timestamptz
);
create index session_revocations_unsynced on session_revocations (id) where synced_at is null;

-- Makes the daily partitions from yesterday to `p_now + p_ahead`, drops those wholly expired before
-- `p_now - p_keep`, and deletes expired rows of the default partition. Returns the dropped partitions.
create function session_records_maintain(p_now timestamptz, p_ahead interval, p_keep interval)
returns setof text language plpgsql as $$
declare
  day date;
  part text;
  upper_bound date;
begin
  perform pg_advisory_xact_lock(hashtext('gw-session-partitions'));
  day := (p_now at time zone 'UTC')::date - 1;
  while day <= ((p_now + p_ahead) at time zone 'UTC')::date loop
    part := 'session_records_' || to_char(day, 'YYYYMMDD');
    if to_regclass(part) is null
       and not exists (select 1 from session_records_default
                       where expires_at >= (day::timestamp at time zone 'UTC')
                         and expires_at < ((day + 1)::timestamp at time zone 'UTC')) then
      execute format('create table %I partition of session_records for values from (%L) to (%L)',
        part, day::timestamp at time zone 'UTC', (day + 1)::timestamp at time zone 'UTC');
    end if;
    day := day + 1;
  end loop;
  for part in
    select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'session_records'::regclass and c.relname ~ '^session_records_[0-9]{8}$'
  loop
    upper_bound := to_date(substr(part, 17), 'YYYYMMDD') + 1;
    if (upper_bound::timestamp at time zone 'UTC') < p_now - p_keep then
      execute format('drop table %I', part);
      return next part;
    end if;
  end loop;
  delete from session_records_default where expires_at < p_now - p_keep;
end;
$$;
