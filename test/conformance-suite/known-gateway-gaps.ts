/**
 * Checks the suite FAILS against today's gateway, each a real gap reported to the gateway's owners (not a
 * suite defect). The suite keeps reporting them as failures; the tests assert that exactly these fail, so
 * closing a gap (or a new failure) shows up as a test change. Listed in catalogue order.
 */
export const KNOWN_GATEWAY_GAPS: Readonly<Record<string, string>> = Object.freeze({
  'EIDAS-ENC-02':
    'SoftHSM 2.6 implements CKM_RSA_PKCS_OAEP with SHA-1 only (hsm/pkcs11-decrypter.ts): an eIDAS node sending xmlenc11#rsa-oaep with SHA-256/MGF1-SHA256 cannot be decrypted by the test token (a production HSM with OAEP-SHA256 closes it)',
});
