-- Key hierarchy (issue #3): HSM KEK (in the token, never here) → DEKs stored wrapped by the KEK →
-- purpose keys derived with HKDF-SHA256 in process (never stored). And the private keys of experimental
-- in-process signing rows (ML-DSA-65), stored wrapped by the KEK; their public data is a key_records row.
-- Nothing in these tables is usable without the token that holds the KEK.
create table dek_records (
  domain text not null check (domain ~ '^[a-z0-9_]{1,32}$'),
  version integer not null check (version > 0),
  state text not null check (state in ('active', 'retired')),
  token_label text not null,
  kek_id text not null,
  wrap_mechanism text not null,
  wrapped bytea not null,
  created_at timestamptz not null default now(),
  retired_at timestamptz,
  primary key (domain, version),
  check ((state = 'retired') = (retired_at is not null))
);
-- at most one active DEK per domain
create unique index dek_records_one_active on dek_records (domain) where state = 'active';

create table wrapped_signing_keys (
  kid text primary key,
  alg text not null,
  token_label text not null,
  kek_id text not null,
  wrap_mechanism text not null,
  -- the wrapped private key (ML-DSA: the 32-byte seed of FIPS 204 KeyGen)
  wrapped bytea not null,
  created_at timestamptz not null default now()
);
