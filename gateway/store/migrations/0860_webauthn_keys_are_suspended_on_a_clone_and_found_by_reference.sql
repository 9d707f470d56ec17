-- A WebAuthn key whose signed answer carries a counter that did not grow (a cloned authenticator, WebAuthn L3
-- §6.1.1) is suspended: it stands in for nothing until the service desk removes it and the person enrols again.
-- Every key also has a reference the pages show and the service desk types (`node gateway/webauthn/cli.ts`): the
-- first 16 base64url characters of the SHA-256 of its id, as audit records name keys (credentialRef). A trigger
-- computes it, so a writer of an older version that does not know the column still gives its keys one.
alter table webauthn_credentials add column suspended_at timestamptz;
alter table webauthn_credentials add column suspended_reason text;
alter table webauthn_credentials add column key_ref text;

create function webauthn_key_ref(credential_id text) returns text language sql stable as
  $$ select left(translate(encode(sha256(convert_to(credential_id, 'UTF8')), 'base64'), '+/', '-_'), 16) $$;

create function webauthn_credentials_key_ref() returns trigger language plpgsql as $$
begin
  new.key_ref := webauthn_key_ref(new.credential_id);
  return new;
end $$;

create trigger webauthn_credentials_key_ref before insert or update of credential_id on webauthn_credentials
  for each row execute function webauthn_credentials_key_ref();

update webauthn_credentials set key_ref = webauthn_key_ref(credential_id);
create index webauthn_credentials_key_ref on webauthn_credentials (key_ref);
