/**
 * Issue #13 item 11, in a real headless Chromium: the logout confirmation and the signed-out page are in
 * French by default and in English on request (like the chooser), and signing out — what the person came
 * for — is the primary action, staying signed in the secondary one (styled differently). Screenshots go
 * to test/artifacts/.
 */
import { mkdtempSync } from 'node:fs';
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
let browser: Browser;
let rp: oidc.Configuration;

test.before(async () => {
  deployment = await prepareDeployment({
    dir: mkdtempSync(join(tmpdir(), 'gw-logout-pages-')),
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token,
    rpRedirectUri: RP_REDIRECT,
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
  });
  running = await startGatewayInProcess(deployment);
  rp = await oidc.discovery(
    new URL(running.url),
    deployment.client.client_id,
    deployment.client.client_secret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await running?.stop();
  await deployment?.stop();
});

/** Signs in through the gateway, so that it holds a session to end (the RP's redirect URI answers nothing). */
async function signIn(page: Page): Promise<void> {
  const request = await authorizationRequest(rp);
  const atRp = page.waitForRequest((r) => r.url().startsWith(RP_REDIRECT), { timeout: 30_000 });
  await page.goto(request.url.toString());
  await page.getByRole('button', { name: /Demo IdP/ }).click();
  await page.waitForSelector('input[name="username"]');
  await page.getByLabel('Username').fill('marie');
  await page.getByLabel('Password').fill('marie-demo');
  await page
    .getByRole('button', { name: /sign in/i })
    .click()
    .catch(() => undefined);
  await atRp;
}

for (const [locale, lang, ask, yes, no, done] of [
  [
    'fr-FR',
    'fr',
    'Voulez-vous vous déconnecter ?',
    'Oui, me déconnecter',
    'Non, rester connecté',
    'Vous êtes déconnecté.',
  ],
  ['en-GB', 'en', 'Do you want to sign out?', 'Yes, sign me out', 'No, stay signed in', 'You are signed out.'],
] as const) {
  test.serial(`logout pages in ${lang}: signing out is the primary action`, async (t) => {
    const context = await browser.newContext({ locale });
    await signIn(await context.newPage());
    const page = await context.newPage(); // same cookies, a fresh tab (the first ends on the RP's unreachable address)
    await page.goto(`${running.url}/session/end`);
    t.is(await page.getAttribute('html', 'lang'), lang);
    t.is(await page.locator('h1').innerText(), ask);
    const primary = page.getByRole('button', { name: yes });
    const secondary = page.getByRole('button', { name: no });
    t.is(await primary.getAttribute('class'), 'primary');
    t.is(await secondary.getAttribute('class'), 'secondary');
    const [primaryBg, secondaryBg] = await Promise.all(
      [primary, secondary].map((b) => b.evaluate((el) => getComputedStyle(el).backgroundColor)),
    );
    t.not(primaryBg, secondaryBg, 'the two actions do not look alike');
    t.is(
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.innerText),
      yes,
      'the primary action has the focus',
    );
    await page.screenshot({ path: join(ARTIFACTS, `logout-confirm-${lang}.png`), fullPage: true });
    await primary.click();
    await page.waitForURL(/\/session\/end\/success/);
    t.is(await page.getAttribute('html', 'lang'), lang);
    t.is(await page.locator('h1').innerText(), done);
    await page.screenshot({ path: join(ARTIFACTS, `logout-done-${lang}.png`), fullPage: true });
    await context.close();
  });
}
