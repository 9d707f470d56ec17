-- A WebAuthn credential names the login that enrolled it (its interaction uid), so that a late fraud verdict on
-- that login removes it: a key an attacker enrolled right after a login the verdict later stopped does not stay on
-- the account. Credentials enrolled before this migration name none.
alter table webauthn_credentials add column enrolled_by_login text;
create index webauthn_credentials_enrolled_by_login on webauthn_credentials (enrolled_by_login)
  where enrolled_by_login is not null;
