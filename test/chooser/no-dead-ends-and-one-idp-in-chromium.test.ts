/**
 * Issue #13 items 7 and 8, in a real headless Chromium:
 * - when no available IdP can reach the acr the RP requires, the person is not left on a chooser with every
 *   button greyed out: the browser returns to the RP with `error=unmet_authentication_requirements`, its
 *   `state` and the issuer (`iss`, RFC 9207), and no code;
 * - when exactly one IdP can serve the login, the chooser is skipped (`federation.skipChooserWithOneIdp`,
 *   default true): the browser lands on that IdP's login form.
 * Screenshots go to test/artifacts/.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import { chromium, type Browser } from 'playwright-core';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../harness/deployment.ts';
import { authorizationRequest, RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { ARTIFACTS } from '../helpers/chromium.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';
import { createTestIdp } from '../helpers/saml/test-idp.ts';

const token = freshToken();
let deployment: Deployment;
let running: Awaited<ReturnType<typeof startGatewayInProcess>>;
let rp: oidc.Configuration;
let browser: Browser;

test.before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-dead-ends-'));
  const low = await createTestIdp({ entityId: 'https://low.test.example/metadata' });
  deployment = await prepareDeployment({
    dir,
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token,
    rpRedirectUri: RP_REDIRECT,
    extraIdps: [
      {
        id: 'mairie-low',
        displayName: 'Compte Mairie',
        metadataFile: low.metadataFile,
        maxLoa: 'http://eidas.europa.eu/LoA/low',
      },
    ],
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
    skipChooserWithOneIdp: true, // the product's default (the harness's is false)
  });
  // the demo IdP reaches substantial (eidas2) only: an RP asking for eidas3 has no IdP to go to
  const idps = (deployment.rawConfig.saml as { idps: Array<Record<string, unknown>> }).idps;
  idps[0]!.maxLoa = 'http://eidas.europa.eu/LoA/substantial';
  running = await startGatewayInProcess(deployment);
  rp = await oidc.discovery(
    new URL(running.url),
    deployment.client.client_id,
    deployment.client.client_secret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  mkdirSync(ARTIFACTS, { recursive: true });
  // the fixture RP's redirect URI is on port 9, which Chromium blocks unless allowed
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--explicitly-allowed-ports=9',
    ],
  });
});
test.after.always(async () => {
  await browser?.close();
  await running?.stop();
  await deployment?.stop();
});

test.serial(
  'no IdP reaches eidas3: back to the RP with unmet_authentication_requirements, state and iss, no code',
  async (t) => {
    const context = await browser.newContext({ locale: 'fr-FR' });
    const page = await context.newPage();
    const request = await authorizationRequest(rp, { acr_values: 'eidas3' });
    // nothing listens at the fixture RP's redirect URI: the test reads where the browser was sent
    const atRp = page.waitForRequest((r) => r.url().startsWith(RP_REDIRECT));
    await page.goto(request.url.toString()).catch(() => undefined);
    const url = new URL((await atRp).url());
    t.is(url.searchParams.get('error'), 'unmet_authentication_requirements');
    t.is(url.searchParams.get('state'), request.state);
    t.is(url.searchParams.get('iss'), running.url);
    t.is(url.searchParams.get('code'), null);
    await context.close();
  },
);

test.serial('one IdP can serve the login: no chooser, straight to its login form', async (t) => {
  const context = await browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  const request = await authorizationRequest(rp, { acr_values: 'eidas2' });
  await page.goto(request.url.toString());
  await page.waitForSelector('input[name="username"]');
  t.false(new URL(page.url()).pathname.startsWith('/interaction/'), 'not on the chooser');
  t.is(new URL(page.url()).origin, new URL(deployment.idp.url).origin, 'at the demo IdP');
  await page.screenshot({ path: join(ARTIFACTS, 'one-idp-no-chooser.png'), fullPage: true });
  await context.close();
});
