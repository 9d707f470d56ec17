/**
 * Shared set-up of the demo IdP tests: one development PKI in a temp dir (made once per test file),
 * a fake SP, and a running demo IdP that knows the SP's metadata.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevPki, type DevPki } from '../../certs/dev-pki.ts';
import {
  buildLoginResponse,
  findUser,
  startDemoIdp,
  type DemoIdp,
  type ResponseOverrides,
} from '../../conformance/saml-idp/index.ts';
import { makeFakeSp, type FakeSp } from './fake-sp.ts';

let pki: DevPki | undefined;
let sharedSp: Promise<FakeSp> | undefined;

/** The development PKI of this test process (made once). */
export function testPki(): DevPki {
  pki ??= ensureDevPki(mkdtempSync(join(tmpdir(), 'dev-pki-')));
  return pki;
}

/** A fake SP (one per test process: key generation is the slow part) and a fresh demo IdP that trusts it. */
export async function startIdpWithFakeSp(
  responseOverrides?: ResponseOverrides,
): Promise<{ idp: DemoIdp; sp: FakeSp; pki: DevPki }> {
  sharedSp ??= makeFakeSp();
  const sp = await sharedSp;
  const keys = testPki();
  const idp = await startDemoIdp({ port: 0, spMetadataXml: sp.metadataXml, keys, responseOverrides });
  return { idp, sp, pki: keys };
}

/** POSTs a form and returns status, code header and body. */
export async function postForm(
  url: string,
  fields: Record<string, string>,
): Promise<{ status: number; code: string | null; body: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  return { status: response.status, code: response.headers.get('x-error-code'), body: await response.text() };
}

/** marie's Response to the request `_req` of `urn:sp`, built (not served) by the demo IdP with `overrides`. */
export function buildTestResponse(overrides?: ResponseOverrides) {
  const keys = testPki();
  return buildLoginResponse({
    idp: { entityId: 'http://127.0.0.1:1/metadata', privateKeyPem: keys.idpKeyPem, certPem: keys.idpCertPem },
    sp: { entityId: 'urn:sp', acsUrl: 'http://127.0.0.1:2/acs' },
    user: findUser('marie')!,
    inResponseTo: '_req',
    overrides,
  });
}
