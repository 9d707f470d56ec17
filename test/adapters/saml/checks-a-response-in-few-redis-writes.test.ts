/**
 * Issue #14 (round trips): a Response's checks against the shared state leave in as few Redis writes as their
 * order allows, counted on the state client's socket (a write to the kernel is a round trip), not timed.
 *
 * - A plain Response: the assertion ID's replay mark and the pending request's take, one write (two before).
 * - An encrypted one: before the HSM unwrap, the signed Response's replay mark, the pending request's read and the
 *   once-only decryption mark in one write (three before); after it, the two above in one more.
 *
 * Every check is still made, in the same order of answers: `decrypts-only-for-a-pending-request.test.ts` and
 * `binds-responses-to-their-request.test.ts` hold their codes.
 */
import test from 'ava';
import type { KeyTransportDecrypter } from '../../../adapters/saml/xmlenc/decrypter.ts';
import { freshToken } from '../../helpers/services.ts';
import { assertionXml, responseXml } from '../../helpers/saml/response-builder.ts';
import { softwareDecrypter } from '../../helpers/saml/software-decrypter.ts';
import { createSamlTestBed, openSpKeys, type SamlTestBed, type SpKeys } from '../../helpers/saml/test-bed.ts';
import { createTestIdp, signElement } from '../../helpers/saml/test-idp.ts';
import { encryptAssertion } from '../../helpers/saml/xml-encrypt.ts';

const token = freshToken();
let keys: SpKeys;
let plain: SamlTestBed;
let encrypting: SamlTestBed;
let software: KeyTransportDecrypter;

test.before(async () => {
  keys = await openSpKeys(token);
  software = await softwareDecrypter();
  plain = await createSamlTestBed(keys, { id: 'plain' });
  encrypting = await createSamlTestBed(
    keys,
    { id: 'sealed', requiredSignatures: 'assertion', encryptedAssertions: 'required' },
    undefined,
    { idp: await createTestIdp({ entityId: 'https://sealed.example/md' }), decrypter: software },
  );
});
test.after.always(async () => {
  await plain?.close();
  await encrypting?.close();
  await keys?.store.close();
});

type Writable = { _write: (...a: unknown[]) => void; _writev?: (...a: unknown[]) => void };

/** The writes `bed`'s Redis socket makes while `work` runs. */
async function writesDuring(bed: SamlTestBed, work: () => Promise<unknown>): Promise<number> {
  const socket = (bed.redis as unknown as { stream: Writable }).stream;
  const originals = { _write: socket._write, _writev: socket._writev };
  let writes = 0;
  for (const name of ['_write', '_writev'] as const) {
    const original = originals[name];
    if (!original) continue;
    socket[name] = (...a: unknown[]) => {
      writes += 1;
      original.apply(socket, a);
    };
  }
  try {
    await work();
  } finally {
    Object.assign(socket, originals);
  }
  return writes;
}

test.serial('a signed Response is checked against Redis in one write', async (t) => {
  const { requestId } = await plain.start();
  const xml = plain.signedResponse(plain.fields(requestId));
  const writes = await writesDuring(plain, () => plain.finish(xml));
  t.is(writes, 1, 'the replay mark and the take of the pending request, together');
});

test.serial('an encrypted Response is checked in one write before decryption and one after', async (t) => {
  const { requestId } = await encrypting.start();
  const f = encrypting.fields(requestId);
  const idpKey = { privateKey: encrypting.idp.privateKey, certificatePem: encrypting.idp.certificatePem };
  const assertion = signElement(assertionXml(f), { id: f.assertionId, ...idpKey });
  const unsignedAround = responseXml({ ...f, assertionOverride: encryptAssertion(assertion, software.certificatePem) });
  const xml = signElement(unsignedAround, { id: f.responseId, ...idpKey });
  let identity = '';
  const writes = await writesDuring(encrypting, async () => {
    identity = (await encrypting.finish(xml)).identity.idp;
  });
  t.is(identity, 'sealed', 'decrypted and accepted');
  t.is(writes, 2, 'the response mark, the pending read and the decryption mark; then the replay mark and the take');
});
