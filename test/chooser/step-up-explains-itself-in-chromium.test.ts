/**
 * Issue #13 item 9, in a real headless Chromium: a login that the policy steps up (a 120 € payment,
 * transaction tier 2 → level 1) is not silently sent back to the IdP's password form: the person first
 * sees a page, in French or English, that says a stronger check is asked and why in general words (no
 * score, no detection factor), with one primary action that continues to the IdP. Screenshots go to
 * test/artifacts/.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../harness/deployment.ts';
import { authorizationRequest, RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';

const token = freshToken();
let deployment: Deployment;
let running: Awaited<ReturnType<typeof startGatewayInProcess>>;
let rp: oidc.Configuration;
let browser: Browser;
const payment = JSON.stringify([
  { type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '120.00' } },
]);

test.before(async () => {
  deployment = await prepareDeployment({
    dir: mkdtempSync(join(tmpdir(), 'gw-step-up-page-')),
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token,
    rpRedirectUri: RP_REDIRECT,
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
    skipChooserWithOneIdp: true,
  });
  running = await startGatewayInProcess(deployment);
  rp = await oidc.discovery(
    new URL(running.url),
    deployment.client.client_id,
    deployment.client.client_secret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await running?.stop();
  await deployment?.stop();
});

async function signInUpstream(page: Page): Promise<void> {
  await page.waitForSelector('input[name="username"]');
  await page.getByLabel('Username').fill('marie');
  await page.getByLabel('Password').fill('marie-demo');
  await page.getByRole('button', { name: /sign in/i }).click();
}

for (const [locale, lang, title, go] of [
  ['fr-FR', 'fr', 'Une vérification supplémentaire est nécessaire', 'Continuer vers Demo IdP (samlify)'],
  ['en-GB', 'en', 'An extra check is needed', 'Continue to Demo IdP (samlify)'],
] as const) {
  test.serial(`a step-up shows why before going upstream again (${lang})`, async (t) => {
    const context = await browser.newContext({ locale });
    const page = await context.newPage();
    const request = await authorizationRequest(rp, { authorization_details: payment });
    await page.goto(request.url.toString());
    await signInUpstream(page);
    await page.waitForSelector('h1');
    t.regex(new URL(page.url()).pathname, /^\/interaction\/[\w-]+\/complete$/, 'still at the gateway');
    t.is(await page.getAttribute('html', 'lang'), lang);
    t.is(await page.locator('h1').innerText(), title);
    const body = await page.locator('main').innerText();
    t.notRegex(body, /score|factor|tier|device:|correlation|behaviour|0\.\d/i, 'no detection detail');
    const button = page.getByRole('button', { name: go });
    t.true(await button.isVisible());
    t.is(await button.getAttribute('class'), 'primary');
    await page.screenshot({ path: join(ARTIFACTS, `step-up-explained-${lang}.png`), fullPage: true });
    await button.click();
    await page.waitForSelector('input[name="username"]');
    t.is(new URL(page.url()).origin, new URL(deployment.idp.url).origin, 'continued to the IdP');
    await context.close();
  });
}
