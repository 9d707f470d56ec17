-- WebAuthn credentials stand in for one policy level (issue #10 item 10): the level of the fresh login
-- they were enrolled after, recorded here and never exceeded. 2 = LoA high step-up (user verification),
-- 3 = physical security key with verified attestation, usable only after the configured cool-down.
-- Rows enrolled before this migration were granted after any ordinary login: they get level 1, which
-- satisfies no decision (the person enrols again after a fresh login at the level).
alter table webauthn_credentials add column level smallint not null default 1 check (level between 1 and 3);
alter table webauthn_credentials alter column level drop default;
-- the attestation statement format that was verified ('none' when none was asked for)
alter table webauthn_credentials add column attestation_format text not null default 'none';
alter table webauthn_credentials alter column attestation_format drop default;
