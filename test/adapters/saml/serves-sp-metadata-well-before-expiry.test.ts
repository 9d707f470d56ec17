/**
 * Our SP metadata carries the configured validUntil and cacheDuration, is signed in the token, and is
 * signed again on schedule: over three validity periods, at any moment, the document served has at least
 * validity − min(5 min, cacheDuration / 2) left — so an IdP fetching every cacheDuration never holds an
 * expired one (the SimpleSAMLphp "metadata expired" outage of issue #13 item 13). Bad times are refused.
 */
import test from 'ava';
import { AdapterError } from '../../../adapters/contract.ts';
import {
  SpMetadataPublisher,
  resignIntervalMs,
  type SpMetadataEvent,
} from '../../../adapters/saml/sp-metadata-publisher.ts';
import { validateSpMetadataTimes } from '../../../adapters/saml/sp-metadata.ts';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import type { Signer } from '../../../hsm/signer.ts';
import { freshToken } from '../../helpers/services.ts';
import { openSpKeys, SP, type SpKeys } from '../../helpers/saml/test-bed.ts';

const token = freshToken();
let keys: SpKeys;
test.before(async () => {
  keys = await openSpKeys(token);
});
test.after.always(async () => {
  await keys?.store.close();
});

const times = { validitySeconds: 2 * 86400, cacheDurationSeconds: 6 * 3600 };

function publisher(
  clock: { now: number },
  events: SpMetadataEvent[],
  signer: () => Signer = () => keys.store.activeSigner('saml'),
) {
  return new SpMetadataPublisher({
    sp: { ...SP, signingCertificatePem: keys.certificatePem },
    signer,
    times,
    expiryWarningSeconds: 86400,
    now: () => new Date(clock.now),
    onEvent: (e) => events.push(e),
  });
}

test('the document carries the configured validUntil and cacheDuration and verifies with our certificate', async (t) => {
  const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
  const doc = await publisher(clock, []).document();
  t.true(doc.xml.includes(`validUntil="${new Date(clock.now + times.validitySeconds * 1000).toISOString()}"`));
  t.true(doc.xml.includes('cacheDuration="PT21600S"'));
  // verified as an IdP would, with xml-crypto and our certificate
  const dom = new DOMParser().parseFromString(doc.xml, 'text/xml');
  const sig = new SignedXml({ publicCert: keys.certificatePem });
  sig.loadSignature(dom.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0] as never);
  t.true(sig.checkSignature(doc.xml));
  const tampered = doc.xml.replace('PT21600S', 'PT99999S');
  const again = new SignedXml({ publicCert: keys.certificatePem });
  again.loadSignature(
    new DOMParser()
      .parseFromString(tampered, 'text/xml')
      .getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0] as never,
  );
  const verifies = (() => {
    try {
      return again.checkSignature(tampered);
    } catch {
      return false;
    }
  })();
  t.false(verifies, 'a changed cacheDuration breaks the signature');
});

test('over three validity periods the served document never has less than validity − re-sign interval left', async (t) => {
  const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
  const events: SpMetadataEvent[] = [];
  const served = publisher(clock, events);
  const floorMs = times.validitySeconds * 1000 - resignIntervalMs(times);
  t.true(floorMs >= 1.5 * times.cacheDurationSeconds * 1000);
  const end = clock.now + 3 * times.validitySeconds * 1000;
  let signatures = 0;
  let last = '';
  for (; clock.now < end; clock.now += 127_000) {
    const doc = await served.document();
    if (doc.xml !== last) signatures += 1;
    last = doc.xml;
    t.true(
      doc.validUntil - clock.now >= floorMs,
      `only ${(doc.validUntil - clock.now) / 1000} s left at ${new Date(clock.now).toISOString()}`,
    );
    t.is(served.validUntil()?.getTime(), doc.validUntil);
  }
  t.true(signatures > 1, 'signed again without a restart');
  t.deepEqual(events, []);
});

test('a failed re-signing serves the previous document while valid (retrying at most every 30 s), warns inside the horizon, and never serves an expired one', async (t) => {
  const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
  const events: SpMetadataEvent[] = [];
  let broken = false;
  const real = keys.store.activeSigner('saml');
  const failing: Signer = {
    kid: real.kid,
    alg: real.alg,
    purpose: real.purpose,
    publicJwk: real.publicJwk,
    publicKey: () => real.publicKey(),
    sign: async () => Promise.reject(new Error('token gone')),
  };
  const signer = () => (broken ? failing : real);
  const served = publisher(clock, events, signer);
  const first = await served.document();
  broken = true;
  clock.now += 3600_000;
  t.is((await served.document()).xml, first.xml);
  t.is(events[0]?.type, 'resign_failed');
  clock.now += 10_000;
  t.is((await served.document()).xml, first.xml);
  t.is(events.length, 1, 'no retry against a failing token within 30 s');
  clock.now = first.validUntil - 3600_000;
  await served.document();
  t.true(events.some((e) => e.type === 'expiring' && e.remainingSeconds <= 3600));
  clock.now = first.validUntil + 1;
  const error = await t.throwsAsync(served.document());
  t.true(error instanceof AdapterError);
  t.is((error as AdapterError).code, 'SAML_SIGNING_FAILED');
});

test('times an IdP could not work with are refused with SAML_CONFIG_INVALID', (t) => {
  for (const bad of [
    { validitySeconds: 86400, cacheDurationSeconds: 86400 }, // validity < 2 × cacheDuration
    { validitySeconds: 7 * 86400, cacheDurationSeconds: 60 }, // cacheDuration below 5 min
    { validitySeconds: 400 * 86400, cacheDurationSeconds: 86400 }, // beyond a year
    { validitySeconds: 7 * 86400, cacheDurationSeconds: 8 * 86400 },
  ]) {
    const error = t.throws(() => validateSpMetadataTimes(bad));
    t.is((error as AdapterError).code, 'SAML_CONFIG_INVALID');
  }
  t.notThrows(() => validateSpMetadataTimes(times));
});
