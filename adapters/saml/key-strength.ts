/**
 * Minimum strength of the keys an IdP signs with, by IdP kind, checked on each certificate of its metadata.
 *
 * - eIDAS (eIDAS cryptographic requirements): RSA ≥ 3072 bits; EC ≥ 256 bits on an approved curve
 *   (P-256, P-384, P-521, brainpoolP256r1, brainpoolP384r1, brainpoolP512r1); nothing else.
 * - legacy IdPs: RSA ≥ 2048 bits by default, configurable only upwards; EC on the same approved curves;
 *   Ed25519/Ed448.
 * A rule is always given explicitly: there is no default rule to fall back on.
 */
import { X509Certificate } from 'node:crypto';

export interface KeyStrengthRule {
  /** Name shown in reports, e.g. `eIDAS`. */
  name: string;
  minRsaBits: number;
  /** Approved named curves (OpenSSL names). */
  curves: readonly string[];
  allowEdwards: boolean;
}

/** Approved curves, by the names `asymmetricKeyDetails.namedCurve` reports. */
export const APPROVED_CURVES = [
  'prime256v1',
  'secp384r1',
  'secp521r1',
  'brainpoolP256r1',
  'brainpoolP384r1',
  'brainpoolP512r1',
] as const;

export const EIDAS_KEY_RULE: KeyStrengthRule = {
  name: 'eIDAS',
  minRsaBits: 3072,
  curves: APPROVED_CURVES,
  allowEdwards: false,
};

/** The legacy rule; `minRsaBits` below 2048 is refused (configurable only upwards). */
export function legacyKeyRule(minRsaBits: number): KeyStrengthRule {
  if (!Number.isInteger(minRsaBits) || minRsaBits < 2048)
    throw new Error(`minimum RSA key size ${minRsaBits} is below 2048`);
  return { name: `legacy (RSA ≥ ${minRsaBits})`, minRsaBits, curves: APPROVED_CURVES, allowEdwards: true };
}

/**
 * Why the certificate's key is too weak for `rule`, or `undefined` when it is strong enough.
 *
 * @example
 * keyStrengthProblem(pem, EIDAS_KEY_RULE) // 'RSA 2048 bits < 3072 (eIDAS)'
 */
export function keyStrengthProblem(certificatePem: string, rule: KeyStrengthRule): string | undefined {
  const key = new X509Certificate(certificatePem).publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- an allow-list: the default refuses every other key type
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      const bits = details.modulusLength ?? 0;
      return bits >= rule.minRsaBits ? undefined : `RSA ${bits} bits < ${rule.minRsaBits} (${rule.name})`;
    }
    case 'ec': {
      const curve = details.namedCurve ?? 'unknown';
      return rule.curves.includes(curve) ? undefined : `EC curve ${curve} is not approved (${rule.name})`;
    }
    case 'ed25519':
    case 'ed448':
      return rule.allowEdwards ? undefined : `${key.asymmetricKeyType} is not allowed (${rule.name})`;
    default:
      return `key type ${String(key.asymmetricKeyType)} is not allowed (${rule.name})`;
  }
}
