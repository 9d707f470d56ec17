/** CKA_EC_POINT is a DER OCTET STRING around the point; a bare point is accepted; anything else is refused. */
import test from 'ava';
import { HsmError } from '../../hsm/errors.ts';
import { unwrapEcPoint } from '../../hsm/pkcs11/public-jwk.ts';

const p256 = Buffer.concat([Buffer.from([0x04]), Buffer.alloc(64, 0xab)]);
const p384 = Buffer.concat([Buffer.from([0x04]), Buffer.alloc(96, 0xcd)]);
const ed25519 = Buffer.alloc(32, 0x11);

test('DER-wrapped points are unwrapped (short and long length forms)', (t) => {
  t.deepEqual(unwrapEcPoint(Buffer.concat([Buffer.from([0x04, 65]), p256]), 65), p256);
  t.deepEqual(unwrapEcPoint(Buffer.concat([Buffer.from([0x04, 0x81, 97]), p384]), 97), p384);
  t.deepEqual(unwrapEcPoint(Buffer.concat([Buffer.from([0x04, 32]), ed25519]), 32), ed25519);
});

test('bare points are accepted', (t) => {
  t.deepEqual(unwrapEcPoint(p256, 65), p256);
  t.deepEqual(unwrapEcPoint(ed25519, 32), ed25519);
});

test('a point of the wrong size is refused with HSM_KEY_MISMATCH', (t) => {
  for (const value of [
    Buffer.concat([Buffer.from([0x04, 65]), p256]).subarray(0, 40),
    Buffer.concat([Buffer.from([0x04, 97]), p384]),
    Buffer.alloc(0),
  ]) {
    const error = t.throws(() => unwrapEcPoint(value, 65), { instanceOf: HsmError });
    t.is(error?.code, 'HSM_KEY_MISMATCH');
  }
});
