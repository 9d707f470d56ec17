/**
 * Every signature is made inside the token, by a key that was born there and that nobody can read. A key someone
 * imported into the token under one of our labels (its private part known outside: `CKA_LOCAL` false, never
 * `CKA_ALWAYS_SENSITIVE`) was loaded as a signer like any other, and adopted as active (reviewer finding,
 * twenty-seventh round). Now opening the store refuses it, `HSM_KEY_PROVENANCE`, naming its label; the keys the
 * store generates itself pass. Real SoftHSM2 token.
 */
import { generateKeyPairSync } from 'node:crypto';
import test from 'ava';
import pkcs11js from 'pkcs11js';
import { HsmError } from '../../hsm/errors.ts';
import { keyLabel } from '../../hsm/key-label.ts';
import { Pkcs11Token } from '../../hsm/pkcs11/token.ts';
import { ensureKeys } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const born = freshToken();
const imported = freshToken();

test('the keys the store generates were born in the token: the store opens', async (t) => {
  const store = await openTestStore(born);
  t.teardown(() => store.close());
  await ensureKeys(store, [{ purpose: 'id_token', alg: 'ES256' }]);
  const again = await openTestStore(born);
  t.teardown(() => again.close());
  t.is(again.activeSigner('id_token', 'ES256').alg, 'ES256');
});

test('a key imported under our label is refused when the store opens: HSM_KEY_PROVENANCE', async (t) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const d = Buffer.from(jwk.d!, 'base64url');
  // the public half too (DER OCTET STRING of the uncompressed point), so that only the provenance stops it
  const point = Buffer.concat([
    Buffer.from([0x04, 0x41, 0x04]),
    Buffer.from(jwk.x!, 'base64url'),
    Buffer.from(jwk.y!, 'base64url'),
  ]);
  const token = Pkcs11Token.open({ library: imported.library, tokenLabel: imported.label, pin: imported.pin });
  const label = keyLabel('id_token', 'ES256', 'deadbeef01');
  await token.runWritingObjects((session) =>
    token.lib.C_CreateObject(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: Buffer.from('deadbeef01', 'hex') },
      // P-256: the DER OID 1.2.840.10045.3.1.7
      { type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from('06082a8648ce3d030107', 'hex') },
      { type: pkcs11js.CKA_VALUE, value: d },
    ]),
  );
  await token.runWritingObjects((session) =>
    token.lib.C_CreateObject(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_VERIFY, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: Buffer.from('deadbeef01', 'hex') },
      { type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from('06082a8648ce3d030107', 'hex') },
      { type: pkcs11js.CKA_EC_POINT, value: point },
    ]),
  );
  await token.close();
  const error = await t.throwsAsync(openTestStore(imported), { instanceOf: HsmError });
  t.is(error?.code, 'HSM_KEY_PROVENANCE');
  t.regex(error?.detail ?? '', new RegExp(`label=${label}.*CKA_LOCAL`));
});
