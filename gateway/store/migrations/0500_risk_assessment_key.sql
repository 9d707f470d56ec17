-- Signed risk assessments get their own key purpose (issue #10 item 14): the audit key signs audit
-- checkpoints only, so a leak or rotation of one never touches the other.
alter table key_records drop constraint key_records_purpose_check;
alter table key_records add constraint key_records_purpose_check
  check (purpose in ('id_token', 'access_token', 'saml', 'saml_decryption', 'audit', 'client_auth', 'risk_assessment'));
