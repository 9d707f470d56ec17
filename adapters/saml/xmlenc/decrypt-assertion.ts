/**
 * Decrypts one saml:EncryptedAssertion (XML-Enc 1.1, SAML-ENC-01/02/04).
 *
 * - Exactly one xenc:EncryptedData (Type, when present, = Element); its EncryptedKey either in its
 *   ds:KeyInfo or as a sibling; when several, only the one whose Recipient is our entityID. No
 *   RetrievalMethod, no OAEPparams (`SAML_SCHEMA_INVALID`).
 * - Every algorithm is checked against `algorithms.ts` before the key is touched
 *   (`SAML_ENC_ALG_NOT_ALLOWED`, `SAML_ENC_KEY_AGREEMENT_UNSUPPORTED`).
 * - The key is unwrapped through the `KeyTransportDecrypter` (the HSM); the content is AES-GCM with a
 *   12-byte IV and a full 16-byte tag. Any failure from here on (unwrap, key length, tag, UTF-8) is the
 *   one uniform `SAML_DECRYPTION_FAILED`: no padding or tag oracle.
 */
import { createDecipheriv } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { samlError } from '../errors.ts';
import {
  attr,
  childrenNamed,
  descendantsNamed,
  elementChildren,
  optionalChild,
  requiredChild,
  textOnly,
} from '../xml/dom.ts';
import { NS } from '../xml/namespaces.ts';
import {
  contentAlgorithm,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  KEY_AGREEMENT,
  KEY_TRANSPORT,
  MGF_ALGORITHMS,
  OAEP_DIGESTS,
  type ContentAlgorithm,
} from './algorithms.ts';
import type { KeyTransportDecrypter, OaepHash } from './decrypter.ts';

const TYPE_ELEMENT = 'http://www.w3.org/2001/04/xmlenc#Element';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

interface KeyTransport {
  cipherValue: Buffer;
  oaepHash: OaepHash;
  mgf1Hash: OaepHash;
}

/**
 * The decrypted Assertion XML of `encrypted`.
 *
 * @example
 * const assertionXml = await decryptAssertion(encryptedAssertionElement, decrypter, sp.entityId);
 */
export async function decryptAssertion(
  encrypted: Element,
  decrypter: KeyTransportDecrypter | undefined,
  spEntityId: string,
): Promise<string> {
  const data = childrenNamed(encrypted, NS.xenc, 'EncryptedData');
  if (data.length !== 1) throw samlError('SAML_SCHEMA_INVALID', { detail: `${data.length} EncryptedData elements` });
  const encryptedData = data[0]!;
  const type = attr(encryptedData, 'Type');
  if (type !== undefined && type !== TYPE_ELEMENT)
    throw samlError('SAML_SCHEMA_INVALID', { detail: `EncryptedData Type ${type}` });
  const content = contentAlgorithmOf(encryptedData);
  const transport = keyTransportOf(encrypted, encryptedData, spEntityId);
  const cipherText = base64(
    textOnly(requiredChild(requiredChild(encryptedData, NS.xenc, 'CipherData'), NS.xenc, 'CipherValue')),
  );
  if (!decrypter) throw samlError('SAML_DECRYPTION_KEY_MISSING', { detail: 'no decryption key configured' });

  try {
    const key = Buffer.from(
      await decrypter.unwrap(transport.cipherValue, { oaepHash: transport.oaepHash, mgf1Hash: transport.mgf1Hash }),
    );
    return gcmDecrypt(content, key, cipherText);
  } catch (cause) {
    throw samlError('SAML_DECRYPTION_FAILED', { detail: 'EncryptedAssertion does not decrypt', cause });
  }
}

function contentAlgorithmOf(encryptedData: Element): ContentAlgorithm {
  const uri = attr(requiredChild(encryptedData, NS.xenc, 'EncryptionMethod'), 'Algorithm') ?? '';
  const row = contentAlgorithm(uri);
  if (!row) throw samlError('SAML_ENC_ALG_NOT_ALLOWED', { detail: `content encryption ${uri}` });
  return row;
}

function keyTransportOf(encrypted: Element, encryptedData: Element, spEntityId: string): KeyTransport {
  const keyInfo = optionalChild(encryptedData, NS.dsig, 'KeyInfo');
  if (keyInfo && descendantsNamed(keyInfo, NS.dsig, 'RetrievalMethod').length > 0) {
    throw samlError('SAML_SCHEMA_INVALID', { detail: 'RetrievalMethod is not followed' });
  }
  const agreements = [...descendantsNamed(encrypted, NS.xenc, 'AgreementMethod')];
  if (agreements.length > 0) {
    const uri = attr(agreements[0]!, 'Algorithm') ?? '';
    throw samlError('SAML_ENC_KEY_AGREEMENT_UNSUPPORTED', {
      detail: `${KEY_AGREEMENT.includes(uri) ? 'key agreement' : 'unknown agreement'} ${uri}`,
    });
  }
  let keys = [
    ...(keyInfo ? childrenNamed(keyInfo, NS.xenc, 'EncryptedKey') : []),
    ...childrenNamed(encrypted, NS.xenc, 'EncryptedKey'),
  ];
  if (keys.length > 1) keys = keys.filter((k) => attr(k, 'Recipient') === spEntityId);
  if (keys.length !== 1)
    throw samlError('SAML_SCHEMA_INVALID', { detail: `${keys.length} EncryptedKey elements for us` });
  const encryptedKey = keys[0]!;
  const method = requiredChild(encryptedKey, NS.xenc, 'EncryptionMethod');
  const uri = attr(method, 'Algorithm') ?? '';
  if (uri !== KEY_TRANSPORT.rsaOaepMgf1p && uri !== KEY_TRANSPORT.rsaOaep) {
    throw samlError('SAML_ENC_ALG_NOT_ALLOWED', { detail: `key transport ${uri}` });
  }
  let oaepHash: OaepHash = 'sha1';
  let mgf1Hash: OaepHash = 'sha1';
  for (const child of elementChildren(method)) {
    const algorithm = attr(child, 'Algorithm') ?? '';
    if (
      child.namespaceURI === NS.dsig &&
      child.localName === 'DigestMethod' &&
      Object.hasOwn(OAEP_DIGESTS, algorithm)
    ) {
      oaepHash = OAEP_DIGESTS[algorithm]!;
    } else if (
      uri === KEY_TRANSPORT.rsaOaep &&
      child.namespaceURI === NS.xenc11 &&
      child.localName === 'MGF' &&
      Object.hasOwn(MGF_ALGORITHMS, algorithm)
    ) {
      mgf1Hash = MGF_ALGORITHMS[algorithm]!;
    } else {
      throw samlError('SAML_ENC_ALG_NOT_ALLOWED', {
        detail: `key transport parameter ${child.localName ?? ''} ${algorithm}`,
      });
    }
  }
  const cipherValue = base64(
    textOnly(requiredChild(requiredChild(encryptedKey, NS.xenc, 'CipherData'), NS.xenc, 'CipherValue')),
  );
  return { cipherValue, oaepHash, mgf1Hash };
}

function gcmDecrypt(row: ContentAlgorithm, key: Buffer, data: Buffer): string {
  if (key.length !== row.keyBytes) throw new Error(`unwrapped key has ${key.length} bytes`);
  if (data.length <= GCM_IV_BYTES + GCM_TAG_BYTES) throw new Error('ciphertext too short');
  const iv = data.subarray(0, GCM_IV_BYTES);
  const tag = data.subarray(data.length - GCM_TAG_BYTES);
  const decipher = createDecipheriv(row.cipher, key, iv, { authTagLength: GCM_TAG_BYTES });
  decipher.setAuthTag(tag);
  const plain = Buffer.concat([
    decipher.update(data.subarray(GCM_IV_BYTES, data.length - GCM_TAG_BYTES)),
    decipher.final(),
  ]);
  return new TextDecoder('utf-8', { fatal: true }).decode(plain);
}

function base64(text: string): Buffer {
  const compact = text.replace(/[\r\n\t ]+/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw samlError('SAML_SCHEMA_INVALID', { detail: 'CipherValue is not base64' });
  }
  return Buffer.from(compact, 'base64');
}
