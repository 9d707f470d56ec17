-- Issue #4: identity providers onboarded or changed with the admin CLI (gateway/idps/cli.ts), on top of
-- the configuration file. `entry` is a raw `saml.idps[]` entry, validated like the configuration; it is
-- null for a row that only changes the state of an IdP of the configuration.
create table idp_registry (
  id         text        primary key,
  entry      jsonb,
  state      text        not null check (state in ('enabled', 'disabled', 'removed')),
  updated_at timestamptz not null default now(),
  updated_by text        not null
);
