/**
 * Decryption through the HSM: an RSA-OAEP(SHA-1) encrypted content key is unwrapped inside SoftHSM and the
 * AES-256-GCM content decrypts in process; a tampered tag fails with a code; OAEP-SHA256 is refused by
 * SoftHSM 2.6.1 (a production HSM must support it); the decryption key is non-extractable and cannot sign.
 */
import { constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import test from 'ava';
import { HsmError } from '../../hsm/errors.ts';
import { decryptAesGcm } from '../../hsm/pkcs11-decrypter.ts';
import type { TokenKeyStore } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let store: TokenKeyStore;
test.before(async () => {
  store = await openTestStore(token);
  await store.generate('saml_decryption', 'RS256');
});
test.after.always(async () => {
  await store?.close();
});

const oaep = (key: ReturnType<TokenKeyStore['decrypter']>, data: Buffer, hash: string) =>
  publicEncrypt({ key: key.publicKey(), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, data);

async function codeOf(work: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (error) {
    return error instanceof HsmError ? error.code : 'not-an-HsmError';
  }
  return undefined;
}

test('RSA-OAEP (SHA-1) unwraps the content key in the token; AES-256-GCM decrypts in process', async (t) => {
  const decrypter = store.decrypter();
  const cek = randomBytes(32);
  const unwrapped = await decrypter.unwrap(oaep(decrypter, cek, 'sha1'), { oaepHash: 'sha1', mgf1Hash: 'sha1' });
  t.deepEqual(Buffer.from(unwrapped), cek);

  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', cek, iv);
  const body = Buffer.concat([cipher.update('<saml:Assertion/>'), cipher.final()]);
  const message = Buffer.concat([iv, body, cipher.getAuthTag()]);
  t.is(decryptAesGcm(unwrapped, message).toString(), '<saml:Assertion/>');
  message[message.length - 1]! ^= 1;
  t.is(await codeOf(() => decryptAesGcm(unwrapped, message)), 'HSM_DECRYPT_FAILED');
});

test('a wrong ciphertext, an unknown hash and OAEP-SHA256 on SoftHSM 2.6.1 fail with codes', async (t) => {
  const decrypter = store.decrypter();
  t.is(await codeOf(decrypter.unwrap(randomBytes(384), { oaepHash: 'sha1', mgf1Hash: 'sha1' })), 'HSM_DECRYPT_FAILED');
  t.is(
    await codeOf(decrypter.unwrap(randomBytes(384), { oaepHash: 'md5' as 'sha1', mgf1Hash: 'sha1' })),
    'HSM_ALG_UNKNOWN',
  );
  // SoftHSM 2.6.1 implements OAEP with SHA-1 only; a production HSM must pass this with the same bytes.
  const sha256 = await codeOf(
    decrypter.unwrap(oaep(decrypter, randomBytes(32), 'sha256'), { oaepHash: 'sha256', mgf1Hash: 'sha256' }),
  );
  t.is(sha256, 'HSM_DECRYPT_FAILED');
});

test('the decryption key is sensitive, non-extractable and cannot sign', async (t) => {
  const key = store.activeSigner('saml_decryption');
  t.deepEqual(await key.keyFlags(), {
    sensitive: true,
    extractable: false,
    alwaysSensitive: true,
    neverExtractable: true,
  });
  t.is(await codeOf(key.sign(new Uint8Array([1]))), 'HSM_SIGN_FAILED');
});
