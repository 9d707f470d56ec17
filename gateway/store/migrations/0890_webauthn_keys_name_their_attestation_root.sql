-- Thirty-fourth round: a level-3 key records the attestation root its certificate chain ended at (hex SHA-256 of the
-- root's public key, SPKI DER: webauthn/attestation.ts rootOfChain). A root an operator takes out of
-- `webauthn.attestation.rootCertificateFiles` (a vendor's CA found compromised) then no longer vouches for the keys it
-- attested: they stop standing in for level 3 (webauthn/credential-levels.ts). Keys enrolled before this column have
-- none recorded (null): their attestation was not kept, so they keep level 3 even if their root is removed.
alter table webauthn_credentials add column if not exists attestation_root text;
