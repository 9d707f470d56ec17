/**
 * Every signature is made inside the token, by a key that was born there and that nobody can read. A key someone
 * imported into the token under one of our labels (its private part known outside: `CKA_LOCAL` false, never
 * `CKA_ALWAYS_SENSITIVE`) was loaded as a signer like any other, and adopted as active (reviewer finding,
 * twenty-seventh round). Now the store leaves it out (`refusedKeys`, `HSM_KEY_PROVENANCE`, naming its label; the
 * gateway logs it at boot): it never signs, and the other keys still do. The keys the store generates itself pass.
 * Real SoftHSM2 token.
 */
import { generateKeyPairSync } from 'node:crypto';
import test from 'ava';
import pkcs11js from 'pkcs11js';
import { HsmError } from '../../hsm/errors.ts';
import { keyLabel } from '../../hsm/key-label.ts';
import type { Handle } from '../../hsm/pkcs11/module.ts';
import { Pkcs11Token } from '../../hsm/pkcs11/token.ts';
import { ensureKeys } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const born = freshToken();
const imported = freshToken();
const swapped = freshToken();

/** The DER OCTET STRING of an uncompressed P-256 point, as CKA_EC_POINT holds it. */
function ecPoint(jwk: JsonWebKey): Buffer {
  return Buffer.concat([
    Buffer.from([0x04, 0x41, 0x04]),
    Buffer.from(jwk.x!, 'base64url'),
    Buffer.from(jwk.y!, 'base64url'),
  ]);
}

/** P-256: the DER OID 1.2.840.10045.3.1.7, as CKA_EC_PARAMS holds it. */
const P256 = Buffer.from('06082a8648ce3d030107', 'hex');

/** Puts a P-256 public key object on the token (in a writing session), under `id` and, when given, `label`. */
function createPublicObject(token: Pkcs11Token, session: Handle, id: Buffer, jwk: JsonWebKey, label?: string): void {
  token.lib.C_CreateObject(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_VERIFY, value: true },
    ...(label === undefined ? [] : [{ type: pkcs11js.CKA_LABEL, value: label }]),
    { type: pkcs11js.CKA_ID, value: id },
    { type: pkcs11js.CKA_EC_PARAMS, value: P256 },
    { type: pkcs11js.CKA_EC_POINT, value: ecPoint(jwk) },
  ]);
}

test("a born key whose public object was replaced by another key's is left out: /jwks would publish that key", async (t) => {
  const store = await openTestStore(swapped);
  await ensureKeys(store, [{ purpose: 'id_token', alg: 'ES256' }]);
  const signer = store.activeSigner('id_token', 'ES256');
  const id = Buffer.from(signer.ckaId, 'hex');
  await store.close();
  const outsider = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  const token = Pkcs11Token.open({ library: swapped.library, tokenLabel: swapped.label, pin: swapped.pin });
  await token.runWritingObjects((session) => {
    token.lib.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_ID, value: id },
    ]);
    const handles = token.lib.C_FindObjects(session, 10);
    token.lib.C_FindObjectsFinal(session);
    for (const handle of handles) token.lib.C_DestroyObject(session, handle);
    createPublicObject(token, session, id, outsider);
  });
  await token.close();
  const reopened = await openTestStore(swapped);
  t.teardown(() => reopened.close());
  t.is(reopened.refusedKeys.length, 1);
  t.regex(reopened.refusedKeys[0]!.detail, /does not verify/);
  t.throws(() => reopened.activeSigner('id_token', 'ES256'), { instanceOf: HsmError });
});

test('the keys the store generates were born in the token: the store opens', async (t) => {
  const store = await openTestStore(born);
  t.teardown(() => store.close());
  await ensureKeys(store, [{ purpose: 'id_token', alg: 'ES256' }]);
  const again = await openTestStore(born);
  t.teardown(() => again.close());
  t.is(again.activeSigner('id_token', 'ES256').alg, 'ES256');
});

test('a key imported under our label is left out when the store opens: HSM_KEY_PROVENANCE, it never signs', async (t) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const d = Buffer.from(jwk.d!, 'base64url');
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
      { type: pkcs11js.CKA_EC_PARAMS, value: P256 },
      { type: pkcs11js.CKA_VALUE, value: d },
    ]),
  );
  // the public half too, so that only the provenance stops it
  await token.runWritingObjects((session) =>
    createPublicObject(token, session, Buffer.from('deadbeef01', 'hex'), jwk, label),
  );
  await token.close();
  const store = await openTestStore(imported);
  t.teardown(() => store.close());
  t.is(store.refusedKeys.length, 1);
  t.is(store.refusedKeys[0]!.label, label);
  t.regex(store.refusedKeys[0]!.detail, /CKA_LOCAL/);
  const error = t.throws(() => store.activeSigner('id_token', 'ES256'), { instanceOf: HsmError });
  t.is(error?.code, 'HSM_KEY_NOT_FOUND', 'it never signs');
  t.false(await store.refresh(), 'and a refresh does not take it up');
  t.is(store.refusedKeys.length, 1);
});
