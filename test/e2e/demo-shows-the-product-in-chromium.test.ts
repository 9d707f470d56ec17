/**
 * Issue #13 item 12 — the demo as `make run` sets it up (test/harness/demo.ts: gateway and RP on
 * `http://localhost:…`, so that WebAuthn's RP ID is a domain), in a real headless Chromium: the demo RP
 * offers "Log in with the gateway", "Log in at eidas3" and "Log out", and after a login shows `amr`,
 * `fraud_score` and the signed risk assessment (verified against the gateway's JWKS). Screenshots go to
 * test/artifacts/.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startDemoRp, type DemoRp } from '../../conformance/oidc-rp/index.ts';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../harness/deployment.ts';
import { freePort } from '../harness/services/free-port.ts';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';

let deployment: Deployment;
let gateway: Awaited<ReturnType<typeof startGatewayInProcess>>;
let rp: DemoRp;
let browser: Browser;
let rpUrl: string;

test.before(async () => {
  const rpPort = await freePort();
  rpUrl = `http://localhost:${rpPort}`;
  deployment = await prepareDeployment({
    dir: mkdtempSync(join(tmpdir(), 'gw-demo-product-')),
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    gatewayHost: 'localhost',
    idpPort: await freePort(),
    rpRedirectUri: `${rpUrl}/callback`,
    logLevel: 'silent',
  });
  gateway = await startGatewayInProcess(deployment);
  rp = await startDemoRp({
    port: rpPort,
    issuer: deployment.gatewayUrl,
    clientId: deployment.client.client_id,
    clientSecret: deployment.client.client_secret,
    redirectUri: deployment.client.redirect_uri,
  });
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await rp?.stop();
  await gateway?.stop();
  await deployment?.stop();
});

async function signIn(page: Page, button: RegExp, username: string): Promise<void> {
  await page.getByRole('button', { name: button }).click();
  await page.waitForURL(/\/interaction\//);
  await page.getByRole('button', { name: /demo idp/i }).click();
  await page.waitForSelector('input[name="username"]');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(`${username}-demo`);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL(
    (url) =>
      (url.toString().startsWith(rpUrl) && !url.pathname.startsWith('/callback')) || url.pathname.endsWith('/complete'),
    { timeout: 30_000 },
  );
  if (new URL(page.url()).pathname.endsWith('/complete')) {
    // the policy asked for a stronger check: the page says so (step-up-page.ts); continue and sign in again
    await page.getByRole('button', { name: /Continuer vers Demo IdP/ }).click();
    await page.waitForSelector('input[name="username"]');
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(`${username}-demo`);
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.waitForURL((url) => url.toString().startsWith(rpUrl) && !url.pathname.startsWith('/callback'), {
      timeout: 30_000,
    });
  }
}

test.serial(
  'the demo runs on localhost; the RP shows amr, fraud_score and the verified risk assessment; logs in at eidas3; logs out',
  async (t) => {
    t.is(new URL(deployment.gatewayUrl).hostname, 'localhost', 'a WebAuthn RP ID browsers accept');
    const context = await browser.newContext({ locale: 'fr-FR' });
    const page = await context.newPage();
    await page.goto(rpUrl);
    t.true(await page.getByRole('button', { name: 'Log in at eidas3 (LoA high)' }).isVisible());
    t.is(await page.getByRole('button', { name: 'Log out' }).count(), 0, 'no log out before a login');

    await signIn(page, /log in with the gateway/i, 'marie');
    const summary = page.locator('table', { has: page.locator('caption', { hasText: 'How you authenticated' }) });
    const row = (name: string) =>
      summary
        .locator('tr', { has: page.locator(`th code:text-is("${name}")`) })
        .locator('td')
        .innerText();
    t.is(await row('acr'), 'eidas2');
    t.is(await row('amr'), '["mfa"]');
    t.regex(await row('fraud_score'), /^\d(\.\d+)?$/);
    t.is(await row('risk assessment'), 'allow (signature verified)');
    t.regex(await page.locator('body').innerText(), /Signed risk assessment/);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-rp-after-login.png'), fullPage: true });

    await signIn(page, /log in at eidas3/i, 'jean'); // jean's account is at LoA high (demo-users.ts)
    t.is(await row('acr'), 'eidas3');
    await page.screenshot({ path: join(ARTIFACTS, 'demo-rp-eidas3.png'), fullPage: true });

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Oui, me déconnecter' }).click();
    await page.waitForURL((url) => url.toString().startsWith(rpUrl));
    t.regex(await page.locator('body').innerText(), /You are logged out/);
    t.is(await page.getByRole('button', { name: 'Log out' }).count(), 0);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-rp-logged-out.png'), fullPage: true });
    await context.close();
  },
);
