-- Thirty-fourth round: a level-3 key records the attestation root its certificate chain ended at (the SHA-256
-- fingerprint of the root certificate, as node's X509Certificate.fingerprint256 writes it). A root an operator takes
-- out of `webauthn.attestation.rootCertificateFiles` (a vendor's CA found compromised) then no longer vouches for the
-- keys it attested: they stop standing in for level 3 (webauthn/credential-levels.ts). Keys enrolled before this
-- column have none recorded (null) and are judged as before.
alter table webauthn_credentials add column if not exists attestation_root text;
