-- WebAuthn credentials enrolled at the gateway (issue #5, policy levels 2 and 3). One row per credential,
-- bound to the pairwise account it was enrolled for. `attachment` is what the browser reported at
-- enrolment ('platform' = built-in authenticator, 'cross-platform' = roaming security key); `counter` is the
-- authenticator's signature counter, which may only grow (0 = the authenticator keeps none).
create table webauthn_credentials (
  credential_id text primary key,
  account_id    text        not null,
  public_key    bytea       not null,
  counter       bigint      not null check (counter >= 0),
  attachment    text        not null check (attachment in ('platform', 'cross-platform')),
  transports    text[]      not null default '{}',
  user_verified boolean     not null,
  aaguid        text        not null,
  created_at    timestamptz not null default now(),
  last_used_at  timestamptz
);
create index webauthn_credentials_account on webauthn_credentials (account_id);
