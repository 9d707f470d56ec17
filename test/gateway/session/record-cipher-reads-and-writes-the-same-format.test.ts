/**
 * The record cipher derives each record's key with one HMAC (HKDF-Expand over a PRK held per DEK version)
 * instead of a whole `hkdfSync` per record (issue #14). The format is unchanged: a record sealed as the
 * previous code sealed it (the reference below is its code: `hkdfSync` over the purpose key, a `Buffer`
 * key, `randomBytes` IV) opens, also after a DEK rotation; a record sealed now opens with the reference;
 * the AAD still binds the record key and the DEK version; a tampered record is refused.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import test from 'ava';
import type { KeyHierarchy } from '../../../hsm/hierarchy/key-hierarchy.ts';
import { sessionCipher } from '../../helpers/session-cipher.ts';

const SALT = 'gw-session-record/v1';

async function referenceKey(hierarchy: KeyHierarchy, version: number, recordKey: Buffer): Promise<Buffer> {
  const purpose = await hierarchy.purposeKey('session', version);
  return Buffer.from(hkdfSync('sha256', purpose.key, SALT, recordKey, 32));
}

async function referenceSeal(hierarchy: KeyHierarchy, recordKey: Buffer, plaintext: Buffer): Promise<string> {
  const version = hierarchy.activeVersion;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', await referenceKey(hierarchy, version, recordKey), iv);
  cipher.setAAD(Buffer.concat([Buffer.from(`s1.${version}\0`), recordKey]));
  const body = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `s1.${version}.${body.toString('base64url')}`;
}

async function referenceOpen(hierarchy: KeyHierarchy, recordKey: Buffer, sealed: string): Promise<Buffer> {
  const [, version, b64] = sealed.split('.') as [string, string, string];
  const body = Buffer.from(b64, 'base64url');
  const decipher = createDecipheriv(
    'aes-256-gcm',
    await referenceKey(hierarchy, Number(version), recordKey),
    body.subarray(0, 12),
  );
  decipher.setAAD(Buffer.concat([Buffer.from(`s1.${version}\0`), recordKey]));
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]);
}

test.serial(
  'records sealed by the previous code open, before and after a DEK rotation, and the other way round',
  async (t) => {
    const { cipher, hierarchy, close } = await sessionCipher();
    t.teardown(close);
    const records = Array.from({ length: 40 }, (_, i) => ({
      key: randomBytes(32),
      text: Buffer.from(JSON.stringify({ accountId: `acc-${i}`, pad: 'é'.repeat(i * 7) })),
    }));
    const before = await Promise.all(records.map((r) => referenceSeal(hierarchy, r.key, r.text)));
    const v1 = hierarchy.activeVersion;
    for (const [i, r] of records.entries()) t.deepEqual(await cipher.open(r.key, before[i]!), r.text);
    for (const r of records) {
      const { sealed, dekVersion } = await cipher.seal(r.key, r.text);
      t.is(dekVersion, v1);
      t.deepEqual(await referenceOpen(hierarchy, r.key, sealed), r.text);
    }
    await hierarchy.rotate();
    t.not(hierarchy.activeVersion, v1);
    for (const [i, r] of records.entries()) t.deepEqual(await cipher.open(r.key, before[i]!), r.text);
    const after = await cipher.seal(records[0]!.key, records[0]!.text);
    t.is(after.dekVersion, hierarchy.activeVersion);
    t.true(after.sealed.startsWith(`s1.${hierarchy.activeVersion}.`));
    t.deepEqual(await referenceOpen(hierarchy, records[0]!.key, after.sealed), records[0]!.text);
    t.deepEqual(await cipher.open(records[0]!.key, after.sealed), records[0]!.text);
  },
);

test.serial('a record moved to another key, relabelled to another DEK version or tampered is refused', async (t) => {
  const { cipher, hierarchy, close } = await sessionCipher();
  t.teardown(close);
  const key = randomBytes(32);
  const { sealed } = await cipher.seal(key, Buffer.from('{"sub":"x"}'));
  const v1 = hierarchy.activeVersion;
  await hierarchy.rotate();
  const refused = { code: 'HSM_DECRYPT_FAILED' };
  await t.throwsAsync(cipher.open(randomBytes(32), sealed), refused);
  await t.throwsAsync(cipher.open(key, sealed.replace(`s1.${v1}.`, `s1.${hierarchy.activeVersion}.`)), refused);
  const body = Buffer.from(sealed.split('.')[2]!, 'base64url');
  for (const at of [0, 12, body.length - 1]) {
    const bad = Buffer.from(body);
    bad[at]! ^= 1;
    await t.throwsAsync(cipher.open(key, `s1.${v1}.${bad.toString('base64url')}`), refused);
  }
  t.deepEqual(await cipher.open(key, sealed), Buffer.from('{"sub":"x"}'));
});

test.serial('two seals of the same record never share an IV', async (t) => {
  const { cipher, close } = await sessionCipher();
  t.teardown(close);
  const key = randomBytes(32);
  const ivs = new Set<string>();
  for (let i = 0; i < 600; i++) {
    const { sealed } = await cipher.seal(key, Buffer.from('x'));
    ivs.add(Buffer.from(sealed.split('.')[2]!, 'base64url').subarray(0, 12).toString('hex'));
  }
  t.is(ivs.size, 600);
});
