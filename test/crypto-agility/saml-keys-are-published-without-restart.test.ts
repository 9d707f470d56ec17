/**
 * Every `saml` key the gateway may sign with is in its SP metadata (KeyDescriptor use="signing"), RSA and
 * ECDSA alike, and a key generated while it runs (state `next`, ahead of activation) is published at the next
 * fetch, without a restart: IdPs learn the key for the whole lead time before it signs an AuthnRequest.
 * The document stays signed by the metadata signer, with that signer's certificate as KeyInfo. When the
 * new key is activated, the next AuthnRequest is signed with it and its own certificate, and the login goes
 * through (samlify, as the demo IdP, checks the request's certificate against our metadata).
 */
import { X509Certificate } from 'node:crypto';
import test from 'ava';
import type { LifecycleKeyStore } from '../../hsm/lifecycle/lifecycle-keystore.ts';
import { logIn, startSessionBed, type SessionBed } from '../gateway/session/session-bed.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed({ extraKeys: [{ purpose: 'saml', alg: 'ES256' }] });
});
test.after.always(async () => {
  await bed?.stop();
});

/** The key types of the signing certificates of the SP metadata, and the whole document. */
async function signingKeys(): Promise<{ types: string[]; xml: string }> {
  const xml = await (await fetch(`${bed.url}/saml/metadata`)).text();
  const descriptors = [...xml.matchAll(/<md:KeyDescriptor use="signing">([\s\S]*?)<\/md:KeyDescriptor>/g)];
  const types = descriptors.map((m) => {
    const body = /<ds:X509Certificate>([^<]+)</.exec(m[1] ?? '')![1]!;
    return new X509Certificate(Buffer.from(body, 'base64')).publicKey.asymmetricKeyType ?? '?';
  });
  return { types, xml };
}

test.serial('the SP metadata publishes the RSA and the ECDSA saml keys', async (t) => {
  const { types } = await signingKeys();
  t.deepEqual([...types].sort(), ['ec', 'rsa']);
});

test.serial('a saml key generated while the gateway runs is published at the next fetch', async (t) => {
  const keys = bed.gateway.services.keys as LifecycleKeyStore;
  const record = await keys.generate('saml', 'ES256', { state: 'next' });
  const { types, xml } = await signingKeys();
  t.deepEqual([...types].sort(), ['ec', 'ec', 'rsa']);
  const certificate = await keys.certificate(record.kid, () => Promise.reject(new Error('made by the gateway')));
  t.true(xml.includes(new X509Certificate(certificate).raw.toString('base64')), 'the new key’s certificate is listed');
  // it certified itself; it still signs nothing else until it is activated
  const next = keys.signersIn('saml', 'next').find((s) => s.kid === record.kid)!;
  const refused = await t.throwsAsync(next.sign(Buffer.from('an AuthnRequest')));
  t.is((refused as { code?: string }).code, 'HSM_KEY_NOT_ACTIVE');
});

test.serial('a new RSA saml key, published then activated while the gateway runs, signs the next login', async (t) => {
  const keys = bed.gateway.services.keys as LifecycleKeyStore;
  const previous = keys.activeSigner('saml', 'RS256').kid;
  const record = await keys.generate('saml', 'RS256', { state: 'next' });
  t.deepEqual([...(await signingKeys()).types].sort(), ['ec', 'ec', 'rsa', 'rsa'], 'published ahead of activation');
  await keys.activate(record.kid, { force: true }); // the lead time is the IdPs' fetch interval: skipped here
  t.is(keys.activeSigner('saml', 'RS256').kid, record.kid);
  t.not(record.kid, previous);
  const session = await logIn(bed); // the demo IdP verifies the AuthnRequest against the metadata it fetched
  t.truthy(session.accessToken);
  const { xml } = await signingKeys();
  const certificate = await keys.certificate(record.kid, () => Promise.reject(new Error('made by the gateway')));
  const signedWith = /<ds:Signature[\s\S]*?<ds:X509Certificate>([^<]+)</.exec(xml)?.[1];
  t.is(signedWith, new X509Certificate(certificate).raw.toString('base64'), 'the metadata signer is the new key');
});
