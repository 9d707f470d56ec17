/**
 * XML Encryption as an eIDAS node does it (the sender's side, for tests): a fresh AES-GCM key encrypts
 * the Assertion (IV ‖ ciphertext ‖ 16-byte tag), RSA-OAEP transports the key to the recipient's
 * certificate. Knobs produce the refused shapes (CBC, rsa-1_5, ECDH-ES, truncated tag, …).
 */
import { constants, createCipheriv, publicEncrypt, randomBytes, X509Certificate } from 'node:crypto';

const XENC = 'http://www.w3.org/2001/04/xmlenc#';
const XENC11 = 'http://www.w3.org/2009/xmlenc11#';

export interface EncryptOptions {
  /** Content algorithm URI (default aes256-gcm). */
  content?: string;
  /** Key transport URI (default rsa-oaep-mgf1p). */
  keyTransport?: string;
  /** OAEP digest for Node (default sha1; the DigestMethod is written when not sha1). */
  oaepHash?: 'sha1' | 'sha256';
  /** Put the EncryptedKey in EncryptedData/KeyInfo (default) or as a sibling. */
  keyPlacement?: 'keyinfo' | 'sibling';
  /** Cut bytes off the end of the ciphertext (tag truncation). */
  truncateTag?: number;
  /** Flip a bit of the ciphertext. */
  tamper?: boolean;
  /** Replace KeyInfo content by an ECDH-ES AgreementMethod. */
  agreement?: boolean;
}

const KEY_BYTES: Record<string, number> = {
  [`${XENC11}aes128-gcm`]: 16,
  [`${XENC11}aes256-gcm`]: 32,
  [`${XENC}aes128-cbc`]: 16,
  [`${XENC}aes256-cbc`]: 32,
};

/** The `saml:EncryptedAssertion` for `assertionXml`, encrypted to `certificatePem`. */
export function encryptAssertion(assertionXml: string, certificatePem: string, options: EncryptOptions = {}): string {
  const content = options.content ?? `${XENC11}aes256-gcm`;
  const transport = options.keyTransport ?? `${XENC}rsa-oaep-mgf1p`;
  const oaepHash = options.oaepHash ?? 'sha1';
  const key = randomBytes(KEY_BYTES[content] ?? 32);
  let data: Buffer;
  if (content.endsWith('-gcm')) {
    const iv = randomBytes(12);
    const cipher = createCipheriv(`aes-${key.length * 8}-gcm` as 'aes-256-gcm', key, iv);
    data = Buffer.concat([iv, cipher.update(assertionXml, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  } else {
    const iv = randomBytes(16);
    const cipher = createCipheriv(`aes-${key.length * 8}-cbc`, key, iv);
    data = Buffer.concat([iv, cipher.update(assertionXml, 'utf8'), cipher.final()]);
  }
  if (options.truncateTag) data = data.subarray(0, data.length - options.truncateTag);
  if (options.tamper) data[20] = data[20]! ^ 1;
  const publicKey = new X509Certificate(certificatePem).publicKey;
  const wrapped = transport.endsWith('rsa-1_5')
    ? publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, key)
    : publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, key);
  const digest =
    oaepHash === 'sha1'
      ? ''
      : `<ds:DigestMethod xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="${XENC}sha256"/>`;
  const mgf =
    transport === `${XENC11}rsa-oaep` && oaepHash !== 'sha1'
      ? `<xenc11:MGF xmlns:xenc11="${XENC11}" Algorithm="${XENC11}mgf1sha256"/>`
      : '';
  const encryptedKey =
    `<xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="${transport}">${digest}${mgf}</xenc:EncryptionMethod>` +
    `<xenc:CipherData><xenc:CipherValue>${wrapped.toString('base64')}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey>`;
  const keyInfo = options.agreement
    ? `<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:AgreementMethod Algorithm="${XENC11}ECDH-ES"/></ds:KeyInfo>`
    : options.keyPlacement === 'sibling'
      ? ''
      : `<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">${encryptedKey}</ds:KeyInfo>`;
  return (
    `<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><xenc:EncryptedData xmlns:xenc="${XENC}" Type="${XENC}Element">` +
    `<xenc:EncryptionMethod Algorithm="${content}"/>${keyInfo}` +
    `<xenc:CipherData><xenc:CipherValue>${data.toString('base64')}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>` +
    (options.keyPlacement === 'sibling'
      ? encryptedKey.replace('<xenc:EncryptedKey>', `<xenc:EncryptedKey xmlns:xenc="${XENC}">`)
      : '') +
    `</saml:EncryptedAssertion>`
  );
}
