/**
 * PKCS#11 numbers the algorithm registry needs, as plain constants (values from the PKCS#11 3.0 header
 * `pkcs11t.h`), so that importing the registry does not load the native addon. pkcs11js has no names for
 * the PKCS#11 3.0 EdDSA numbers at all. `test/hsm/pkcs11-numbers.test.ts` checks every value pkcs11js does
 * name against pkcs11js.
 */

// Key types (CKK_*)
export const CKK_RSA = 0x0;
export const CKK_EC = 0x3;
/** PKCS#11 3.0. */
export const CKK_EC_EDWARDS = 0x40;

// Mechanisms (CKM_*)
export const CKM_RSA_PKCS_KEY_PAIR_GEN = 0x0;
export const CKM_SHA256_RSA_PKCS = 0x40;
export const CKM_SHA256_RSA_PKCS_PSS = 0x43;
export const CKM_SHA256 = 0x250;
export const CKM_SHA384 = 0x260;
export const CKM_EC_KEY_PAIR_GEN = 0x1040;
export const CKM_ECDSA = 0x1041;
/** PKCS#11 3.0. */
export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
/** PKCS#11 3.0. */
export const CKM_EDDSA = 0x1057;

// Mask generation functions (CKG_*)
export const CKG_MGF1_SHA256 = 0x2;

/** DER-encoded OBJECT IDENTIFIERs used as `CKA_EC_PARAMS`. */
export const EC_PARAMS = {
  /** 1.2.840.10045.3.1.7 (secp256r1) */
  'P-256': Buffer.from('06082a8648ce3d030107', 'hex'),
  /** 1.3.132.0.34 (secp384r1) */
  'P-384': Buffer.from('06052b81040022', 'hex'),
  /** 1.3.101.112 (id-Ed25519) */
  Ed25519: Buffer.from('06032b6570', 'hex'),
} as const;
