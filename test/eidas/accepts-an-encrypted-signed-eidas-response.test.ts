/**
 * An eIDAS node's answer as the profile wants it: Response signed (RSA-PSS or ECDSA), Assertion
 * encrypted (AES-GCM, RSA-OAEP) is accepted, and the identity carries internal names and values.
 * Parametrised over the node's signature methods and key transports.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { freshToken } from '../helpers/services.ts';
import {
  createEidasBed,
  hsmDecrypter,
  HIGH,
  openEidasSpKeys,
  type EidasBed,
  type EidasSpKeys,
} from '../helpers/saml/eidas-bed.ts';
import {
  ECDSA_SHA256,
  ECDSA_SHA384,
  ERIKA,
  PSS_SHA256,
  PSS_SHA384,
  type NodeKeyKind,
} from '../helpers/saml/eidas-node.ts';
import { softwareDecrypter } from '../helpers/saml/software-decrypter.ts';
import type { KeyTransportDecrypter } from '../../adapters/saml/xmlenc/decrypter.ts';

const token = freshToken();
let keys: EidasSpKeys;
let decrypter: KeyTransportDecrypter;
const beds: EidasBed[] = [];

test.before(async () => {
  keys = await openEidasSpKeys(token);
  decrypter = await hsmDecrypter(keys);
});
test.after.always(async () => {
  for (const bed of beds) await bed.close();
  await keys?.store.close();
});

const acceptsSignedWith = test.macro({
  async exec(t: ExecutionContext, kind: NodeKeyKind, method: string) {
    const bed = await createEidasBed(keys, decrypter, { kind, method });
    beds.push(bed);
    const { requestId, loginId } = await bed.start();
    const result = await bed.finish(bed.response(requestId));
    t.is(result.loginId, loginId);
    const id = result.identity;
    t.is(id.idp, 'eidas-de');
    t.is(id.loa, HIGH);
    t.deepEqual(id.attributes, {
      person_identifier: [ERIKA.personIdentifier],
      family_name: ['Mustermann'],
      given_name: ['Erika'],
      birthdate: ['1964-08-12'],
      gender: ['female'],
      birth_name: ['Gabler'],
      place_of_birth: ['Berlin'],
      current_address: [ERIKA.currentAddress!],
    });
    t.is(id.evidence.signaturesVerified, 1, 'the Response signature');
    t.is(id.evidence.issuer, bed.entityId);
  },
  title: (_ = '', kind: NodeKeyKind, method: string) =>
    `an encrypted assertion in a Response signed with ${method.split('#')[1]} (${kind}) is accepted`,
});

test.serial(acceptsSignedWith, 'rsa', PSS_SHA256);
test.serial(acceptsSignedWith, 'rsa', PSS_SHA384);
test.serial(acceptsSignedWith, 'ec-p256', ECDSA_SHA256);
test.serial(acceptsSignedWith, 'ec-p384', ECDSA_SHA384);

test.serial('the assertion may also carry its own signature inside the encryption', async (t) => {
  const bed = await createEidasBed(keys, decrypter);
  beds.push(bed);
  const { requestId } = await bed.start();
  const result = await bed.finish(bed.response(requestId, { signAssertion: true }));
  t.is(result.identity.evidence.signaturesVerified, 2);
});

test.serial(
  'RSA-OAEP with SHA-256 (xmlenc11#rsa-oaep, MGF1-SHA256) and AES-128-GCM decrypt too (software key: SoftHSM 2.6 has OAEP-SHA1 only)',
  async (t) => {
    const bed = await createEidasBed(keys, await softwareDecrypter());
    beds.push(bed);
    const { requestId } = await bed.start();
    const xml = bed.response(requestId, {
      encrypt: {
        keyTransport: 'http://www.w3.org/2009/xmlenc11#rsa-oaep',
        oaepHash: 'sha256',
        content: 'http://www.w3.org/2009/xmlenc11#aes128-gcm',
        keyPlacement: 'sibling',
      },
    });
    const result = await bed.finish(xml);
    t.is(result.identity.attributes.given_name?.[0], 'Erika');
  },
);
