/**
 * `adapters/saml/verify/reference-lookup.ts` replaces three internals of xml-crypto's `SignedXml` (and calls
 * four more of it and of its utils) with DOM walks that select what the library's own code selects, as that
 * code reads in xml-crypto 6.3.2; `check-on-document.ts` reproduces `checkSignature`'s steps on the strict
 * parse, and `signed-element.ts` wraps the objects `findCanonicalizationAlgorithm` returns, `load-signature.ts`
 * replaces `loadSignature` and `canonicalize.ts` replaces `canonicalize`. Internals are not an API: a dependency update that changes them must stop
 * here, so that someone re-reads the walks against the new code (and the differential test
 * `dereferences-without-xpath.test.ts` on the new version) before the gateway verifies a signature with them.
 *
 * To update: read the new methods, adapt `reference-lookup.ts` (and the two files above), run the differential test, then put the new
 * fingerprints below (printed by this test when they differ).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import test from 'ava';

const require = createRequire(import.meta.url);

/** sha-256 (first 16 hex) of each method's source, as installed for xml-crypto 6.3.2. */
const PINNED = {
  version: '6.3.2',
  'SignedXml.validateReference': '4061b327beb3754a',
  'SignedXml.getCanonSignedInfoXml': '1ba55c9cdef5d107',
  'SignedXml.findLoadedSignature': '4a1e03237e77e501',
  'SignedXml.getCanonXml': 'e79ae3dbd30b73f0',
  'SignedXml.canonicalize': 'a7218ae7b461217d',
  'SignedXml.findHashAlgorithm': 'af7bbf9b9656022d',
  // check-on-document.ts reproduces checkSignature's steps on the strict parse and calls these
  'SignedXml.checkSignature': 'bae91fbd542c70aa',
  'SignedXml.loadReference': '846cec1e6c9aaf77',
  'SignedXml.findSignatureAlgorithm': 'cf5cf91218415b49',
  // load-signature.ts sets what this sets; canonicalize.ts replaces `canonicalize` and calls this
  'SignedXml.loadSignature': '0c2f7d17a9a7f824',
  'SignedXml.parseTransformInput': '47aeda6428b5496d',
  // signed-element.ts wraps what this returns
  'SignedXml.findCanonicalizationAlgorithm': '888e00301baf98da',
  'utils.findAncestorNsForElement': 'd4288298dbeefbd0',
  'utils.findChildren': '725c109185b3cd70',
  'utils.validateDigestValue': '85c6a4227655516a',
  'utils.isArrayHasLength': 'ee635aa8756d3535',
} as const;

const fingerprint = (f: unknown) => createHash('sha256').update(String(f)).digest('hex').slice(0, 16);

test('the xml-crypto internals the reference lookup replaces or calls are the ones it was written against', (t) => {
  const { SignedXml } = require('xml-crypto') as { SignedXml: { prototype: Record<string, unknown> } };
  const utils = require('xml-crypto/lib/utils.js') as Record<string, unknown>;
  const installed: Record<string, string> = {
    version: (require('xml-crypto/package.json') as { version: string }).version,
  };
  for (const name of Object.keys(PINNED).filter((k) => k !== 'version')) {
    const [owner, method] = name.split('.') as [string, string];
    const f = owner === 'utils' ? utils[method] : SignedXml.prototype[method];
    t.is(typeof f, 'function', `${name} is still a function`);
    installed[name] = fingerprint(f);
  }
  t.deepEqual(installed, { ...PINNED }, 'xml-crypto changed: re-read adapters/saml/verify/reference-lookup.ts');
});
