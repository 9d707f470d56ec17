-- Key lifecycle (issue #3): one row per token key, public data only; a single key-set version bumped
-- with every change (instances poll it and listen on Redis pub/sub); an append-only ceremony audit trail;
-- per-client ID-token algorithm choices made at run time.
create table key_set_version (
  id boolean primary key default true check (id),
  version bigint not null
);
insert into key_set_version (id, version) values (true, 0);

create table key_records (
  kid text primary key,
  purpose text not null check (purpose in ('id_token', 'access_token', 'saml', 'saml_decryption', 'audit', 'client_auth')),
  alg text not null,
  state text not null check (state in ('pending', 'next', 'active', 'retired', 'destroyed')),
  token_label text not null,
  cka_id text not null,
  key_label text not null,
  public_jwk jsonb not null,
  created_at timestamptz not null,
  published_at timestamptz,
  activated_at timestamptz,
  retired_at timestamptz,
  not_after timestamptz,
  destroyed_at timestamptz,
  -- X.509 certificate of the public key (SAML metadata), made once and shared by every instance
  certificate_pem text,
  unique (token_label, cka_id),
  check (state <> 'retired' or not_after is not null)
);
create index key_records_by_token_state on key_records (token_label, purpose, state);

create table key_events (
  id bigserial primary key,
  at timestamptz not null default now(),
  action text not null,
  kid text,
  actor text not null,
  version bigint not null,
  detail jsonb not null default '{}'
);
create rule key_events_no_update as on update to key_events do instead nothing;
create rule key_events_no_delete as on delete to key_events do instead nothing;

create table client_signing_algs (
  client_id text primary key,
  id_token_alg text not null,
  updated_at timestamptz not null default now()
);
