/**
 * The HTTP-Redirect binding for AuthnRequests (SAML Bindings §3.4.4.1), chosen per IdP from its metadata:
 * the query string `SAMLRequest=…&RelayState=…&SigAlg=…` is signed in the token, and samlify — an
 * independent implementation, as IdP — inflates the request and verifies that signature with the
 * certificate of our signed SP metadata. A tampered query string is refused by samlify; a binding the
 * IdP's metadata does not offer is refused by us (`SAML_BINDING_UNAVAILABLE`).
 */
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import test from 'ava';
import * as samlify from 'samlify';
import { AdapterError, type LoginStart } from '../../../adapters/contract.ts';
import { signedSpMetadata } from '../../../adapters/saml/sp-metadata.ts';
import { createIdpEntity, type IdpEntity } from '../../../conformance/saml-idp/idp-entity.ts';
import { freshToken } from '../../helpers/services.ts';
import { createSamlTestBed, openSpKeys, SP, type SpKeys } from '../../helpers/saml/test-bed.ts';
import { createTestIdp } from '../../helpers/saml/test-idp.ts';

const token = freshToken();
let keys: SpKeys;
let idp: IdpEntity;
let sp: samlify.ServiceProviderInstance;
let metadataFile: string;
let redirectOnlyFile: string;
let postOnlyFile: string;

test.before(async () => {
  keys = await openSpKeys(token);
  const software = await createTestIdp();
  idp = createIdpEntity('https://idp.redirect.example', {
    privateKeyPem: software.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem: software.certificatePem,
  });
  const dir = await mkdtemp(join(tmpdir(), 'gw-redirect-'));
  metadataFile = join(dir, 'both.xml');
  redirectOnlyFile = join(dir, 'redirect-only.xml');
  postOnlyFile = join(dir, 'post-only.xml');
  const without = (binding: string) => {
    const xml = idp.metadataXml.replace(
      new RegExp(`<SingleSignOnService[^>]*bindings:${binding}"[^>]*>(</SingleSignOnService>)?`),
      '',
    );
    if (xml === idp.metadataXml)
      throw new Error(`samlify's metadata changed shape: no ${binding} SingleSignOnService to remove`);
    return xml;
  };
  await writeFile(metadataFile, idp.metadataXml);
  await writeFile(redirectOnlyFile, without('HTTP-POST'));
  await writeFile(postOnlyFile, without('HTTP-Redirect'));
  const spMetadata = await signedSpMetadata(
    { ...SP, signingCertificatePem: keys.certificatePem },
    keys.store.activeSigner('saml'),
    new Date(),
  );
  sp = samlify.ServiceProvider({ metadata: spMetadata });
});
test.after.always(async () => {
  await keys?.store.close();
});

/** The raw (still URL-encoded) value of each query parameter, in order, as the browser delivers it. */
function rawParams(url: string): [string, string][] {
  return new URL(url).search
    .slice(1)
    .split('&')
    .map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)];
    });
}

/** What an IdP's HTTP layer hands samlify: the decoded query and the octet string rebuilt from the raw values (§3.4.4.1). */
function asReceived(url: string): { query: Record<string, string>; octetString: string } {
  const raw = rawParams(url);
  const octetString = raw
    .filter(([k]) => k !== 'Signature')
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  return { query: Object.fromEntries(raw.map(([k, v]) => [k, decodeURIComponent(v)])), octetString };
}

async function start(idpConfig: Parameters<typeof createSamlTestBed>[1]): Promise<LoginStart> {
  const bed = await createSamlTestBed(keys, idpConfig);
  try {
    return await bed.adapter.startLogin({
      loginId: 'L-redirect',
      browserBinding: 'B',
      minimumLoa: 'http://eidas.europa.eu/LoA/substantial',
      forceAuthn: true,
    });
  } finally {
    await bed.close();
  }
}

test('a legacy IdP set to redirect gets a query string signed in the token, which samlify verifies', async (t) => {
  const started = await start({ metadataFile, authnRequestBinding: 'redirect' });
  if (started.binding !== 'redirect') return t.fail(`expected the Redirect binding, got ${started.binding}`);
  t.true(started.url.startsWith(`${idp.ssoUrl}?SAMLRequest=`));
  t.deepEqual(
    rawParams(started.url).map(([k]) => k),
    ['SAMLRequest', 'RelayState', 'SigAlg', 'Signature'],
  );
  const received = asReceived(started.url);
  t.is(received.query.SigAlg, 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');

  const parsed = await idp.entity.parseLoginRequest(sp, 'redirect', received);
  t.is(parsed.sigAlg, 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
  t.is(parsed.extract.issuer, SP.entityId);
  const xml = inflateRawSync(Buffer.from(received.query.SAMLRequest!, 'base64')).toString('utf8');
  t.false(xml.includes('Signature'), 'the XML carries no enveloped signature in the Redirect binding');
  t.true(xml.includes(`Destination="${idp.ssoUrl}"`));
  t.true(xml.includes('ForceAuthn="true"'));
});

test('samlify refuses the redirect request when RelayState, SAMLRequest or SigAlg was changed on the way', async (t) => {
  const started = await start({ metadataFile, authnRequestBinding: 'redirect' });
  if (started.binding !== 'redirect') return t.fail('expected the Redirect binding');
  const received = asReceived(started.url);
  const tampered = [
    received.octetString.replace(/RelayState=[^&]+/, 'RelayState=attacker'),
    received.octetString.replace(
      /SAMLRequest=[^&]+/,
      `SAMLRequest=${encodeURIComponent(Buffer.from('<x/>').toString('base64'))}`,
    ),
    received.octetString.replace(
      /SigAlg=[^&]+/,
      `SigAlg=${encodeURIComponent('http://www.w3.org/2001/04/xmldsig-more#rsa-sha512')}`,
    ),
  ];
  for (const octetString of tampered) {
    await t.throwsAsync(idp.entity.parseLoginRequest(sp, 'redirect', { query: received.query, octetString }), {
      message: /ERR_FAILED_MESSAGE_SIGNATURE_VERIFICATION|ERR_INVALID_XML/,
    });
  }
  const otherSignature = {
    ...received,
    query: { ...received.query, Signature: Buffer.alloc(384, 7).toString('base64') },
  };
  await t.throwsAsync(idp.entity.parseLoginRequest(sp, 'redirect', otherSignature), {
    message: 'ERR_FAILED_MESSAGE_SIGNATURE_VERIFICATION',
  });
});

test('from the metadata: POST when the IdP offers it, Redirect when it offers only Redirect', async (t) => {
  t.is((await start({ metadataFile })).binding, 'post');
  t.is((await start({ metadataFile: postOnlyFile })).binding, 'post');
  const redirected = await start({ metadataFile: redirectOnlyFile });
  if (redirected.binding !== 'redirect') return t.fail('expected the Redirect binding');
  await t.notThrowsAsync(idp.entity.parseLoginRequest(sp, 'redirect', asReceived(redirected.url)));
});

test('a binding the IdP metadata does not offer is refused with SAML_BINDING_UNAVAILABLE', async (t) => {
  const error = await t.throwsAsync(start({ metadataFile: postOnlyFile, authnRequestBinding: 'redirect' }));
  t.true(error instanceof AdapterError);
  t.is((error as AdapterError).code, 'SAML_BINDING_UNAVAILABLE');
  const post = await t.throwsAsync(start({ metadataFile: redirectOnlyFile, authnRequestBinding: 'post' }));
  t.is((post as AdapterError).code, 'SAML_BINDING_UNAVAILABLE');
});

test('the pending request of a redirect login is stored, so the IdP answer to it is accepted', async (t) => {
  const bed = await createSamlTestBed(keys, { authnRequestBinding: 'redirect' });
  t.teardown(() => bed.close());
  const started = await bed.adapter.startLogin({
    loginId: 'L-answer',
    browserBinding: 'browser-binding-A',
    minimumLoa: 'http://eidas.europa.eu/LoA/substantial',
    forceAuthn: false,
  });
  if (started.binding !== 'redirect') return t.fail('expected the Redirect binding');
  const xml = inflateRawSync(Buffer.from(asReceived(started.url).query.SAMLRequest!, 'base64')).toString('utf8');
  const requestId = /\sID="([^"]+)"/.exec(xml)![1]!;
  const result = await bed.finish(bed.signedResponse(bed.fields(requestId)));
  t.is(result.loginId, 'L-answer');
});
