/**
 * XML Encryption as an eIDAS Proxy-Service does it (the sender's side): a fresh AES-GCM key encrypts the
 * Assertion (IV ‖ ciphertext ‖ 16-byte tag) and RSA-OAEP transports it to the SP's encryption certificate
 * (from its metadata, `use="encryption"`).
 *
 * - Honest variants (eIDAS Cryptographic Requirements §3, EID-C2): `aes256-gcm` / `aes128-gcm`; key
 *   transport `xmlenc#rsa-oaep-mgf1p` (SHA-1 digest and MGF1, the eIDAS-Node default) or `xmlenc11#rsa-oaep`
 *   with SHA-256 digest and `mgf1sha256`.
 * - Hostile variants: AES-CBC content, `rsa-1_5` key transport, a truncated GCM tag, a flipped ciphertext
 *   bit, or another recipient's certificate.
 */
import { constants, createCipheriv, publicEncrypt, randomBytes, X509Certificate } from 'node:crypto';

const XENC = 'http://www.w3.org/2001/04/xmlenc#';
const XENC11 = 'http://www.w3.org/2009/xmlenc11#';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

/** Algorithm URIs of XML Encryption. */
export const ENC = {
  aes128Gcm: `${XENC11}aes128-gcm`,
  aes256Gcm: `${XENC11}aes256-gcm`,
  aes128Cbc: `${XENC}aes128-cbc`,
  aes256Cbc: `${XENC}aes256-cbc`,
  rsaOaepMgf1p: `${XENC}rsa-oaep-mgf1p`,
  rsaOaep: `${XENC11}rsa-oaep`,
  rsa15: `${XENC}rsa-1_5`,
} as const;

const CONTENT: Readonly<Record<string, { cipher: string; keyBytes: number; ivBytes: number; gcm: boolean }>> =
  Object.freeze({
    [ENC.aes128Gcm]: { cipher: 'aes-128-gcm', keyBytes: 16, ivBytes: 12, gcm: true },
    [ENC.aes256Gcm]: { cipher: 'aes-256-gcm', keyBytes: 32, ivBytes: 12, gcm: true },
    [ENC.aes128Cbc]: { cipher: 'aes-128-cbc', keyBytes: 16, ivBytes: 16, gcm: false },
    [ENC.aes256Cbc]: { cipher: 'aes-256-cbc', keyBytes: 32, ivBytes: 16, gcm: false },
  });

/** How to encrypt. Unset = the eIDAS-Node default (aes256-gcm, rsa-oaep-mgf1p with SHA-1). */
export interface EncryptionOptions {
  /** Content algorithm (an `ENC` URI). */
  content?: string;
  /** Key transport (an `ENC` URI). */
  keyTransport?: string;
  /** OAEP digest and MGF1 hash (default sha1; `rsa-oaep-mgf1p` always uses MGF1-SHA1). */
  oaepHash?: 'sha1' | 'sha256';
  /** Cut bytes off the end of the ciphertext (a short GCM tag). */
  truncateTag?: number;
  /** Flip one ciphertext bit (the tag must then fail). */
  tamper?: boolean;
  /** Encrypt to this certificate instead of the SP's. */
  recipientCertificatePem?: string;
}

/**
 * The `saml:EncryptedAssertion` of `assertionXml` for `certificatePem`.
 *
 * @example const body = encryptAssertion(assertionXml, sp.encryptionCertificatePem, { keyTransport: ENC.rsaOaep, oaepHash: 'sha256' });
 */
export function encryptAssertion(
  assertionXml: string,
  certificatePem: string,
  options: EncryptionOptions = {},
): string {
  const contentUri = options.content ?? ENC.aes256Gcm;
  const content = Object.hasOwn(CONTENT, contentUri) ? CONTENT[contentUri] : undefined;
  if (content === undefined) throw new Error(`the suite eIDAS node cannot encrypt with ${contentUri}`);
  const transport = options.keyTransport ?? ENC.rsaOaepMgf1p;
  if (transport !== ENC.rsaOaepMgf1p && transport !== ENC.rsaOaep && transport !== ENC.rsa15)
    throw new Error(`the suite eIDAS node cannot transport keys with ${transport}`);
  const oaepHash = transport === ENC.rsaOaepMgf1p ? 'sha1' : (options.oaepHash ?? 'sha1');

  const key = randomBytes(content.keyBytes);
  const iv = randomBytes(content.ivBytes);
  const cipher = createCipheriv(content.cipher, key, iv);
  const encrypted = Buffer.concat([cipher.update(assertionXml, 'utf8'), cipher.final()]);
  let data = Buffer.concat([
    iv,
    encrypted,
    content.gcm
      ? (cipher as ReturnType<typeof createCipheriv> & { getAuthTag(): Buffer }).getAuthTag()
      : Buffer.alloc(0),
  ]);
  if (options.truncateTag !== undefined) data = data.subarray(0, data.length - options.truncateTag);
  if (options.tamper) data[content.ivBytes + 2] = (data[content.ivBytes + 2] ?? 0) ^ 1;

  const publicKey = new X509Certificate(options.recipientCertificatePem ?? certificatePem).publicKey;
  const wrapped =
    transport === ENC.rsa15
      ? publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, key)
      : publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, key);
  const digest =
    transport === ENC.rsa15
      ? ''
      : `<ds:DigestMethod xmlns:ds="${DSIG}" Algorithm="${oaepHash === 'sha1' ? `${DSIG}sha1` : `${XENC}sha256`}"/>`;
  const mgf =
    transport === ENC.rsaOaep ? `<xenc11:MGF xmlns:xenc11="${XENC11}" Algorithm="${XENC11}mgf1${oaepHash}"/>` : '';
  return (
    `<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">` +
    `<xenc:EncryptedData xmlns:xenc="${XENC}" Type="${XENC}Element"><xenc:EncryptionMethod Algorithm="${contentUri}"/>` +
    `<ds:KeyInfo xmlns:ds="${DSIG}"><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="${transport}">${digest}${mgf}</xenc:EncryptionMethod>` +
    `<xenc:CipherData><xenc:CipherValue>${wrapped.toString('base64')}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>` +
    `<xenc:CipherData><xenc:CipherValue>${data.toString('base64')}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAssertion>`
  );
}
