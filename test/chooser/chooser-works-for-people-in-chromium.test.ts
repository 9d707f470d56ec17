/**
 * The chooser as a person uses it, in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core): French by default and English on request, IdP buttons reachable and pressed with
 * the keyboard, names and hints exposed to screen readers, AAA text contrast, the IdP used last on this
 * device listed first, IdPs with expired metadata hidden, IdPs below the required level disabled with
 * the reason, and everything working with JavaScript off. Screenshots go to test/artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import * as oidc from 'openid-client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../harness/deployment.ts';
import { authorizationRequest, RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';
import { createTestIdp, idpMetadataXml } from '../helpers/saml/test-idp.ts';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const token = freshToken();
let deployment: Deployment;
let running: Awaited<ReturnType<typeof startGatewayInProcess>>;
let rp: oidc.Configuration;
let browser: Browser;

test.before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-chooser-'));
  const idp = await createTestIdp({ entityId: 'https://low.test.example/metadata' });
  const expired = await createTestIdp({ entityId: 'https://expired.test.example/metadata' });
  const expiredFile = join(dir, 'expired.xml');
  writeFileSync(
    expiredFile,
    idpMetadataXml({
      entityId: expired.entityId,
      ssoUrl: expired.ssoUrl,
      certificatePem: expired.certificatePem,
    }).replace('entityID=', 'validUntil="2020-01-01T00:00:00Z" entityID='),
  );
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
        metadataFile: idp.metadataFile,
        maxLoa: 'http://eidas.europa.eu/LoA/low',
      },
      {
        id: 'expired-idp',
        displayName: 'Expired IdP',
        metadataFile: expiredFile,
        maxLoa: 'http://eidas.europa.eu/LoA/high',
      },
    ],
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
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
test.after.always(async () => {
  await browser?.close();
  await running?.stop();
  await deployment?.stop();
});

async function openChooser(page: Page, acr = 'eidas2'): Promise<void> {
  const { url } = await authorizationRequest(rp, { acr_values: acr });
  await page.goto(url.toString());
  await page.waitForSelector('h1');
}

/** WCAG relative luminance contrast of two `rgb(...)` colours. */
function contrast(a: string, b: string): number {
  const lum = (rgb: string) => {
    const [r, g, bl] = rgb
      .match(/\d+/g)!
      .slice(0, 3)
      .map(Number)
      .map((v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

test.serial(
  'French by default: labelled buttons, disabled below the level with the reason, expired IdP hidden',
  async (t) => {
    const context = await browser.newContext({ locale: 'fr-FR' });
    const page = await context.newPage();
    await openChooser(page);
    t.is(await page.getAttribute('html', 'lang'), 'fr');
    t.is(await page.locator('h1').innerText(), 'Choisissez votre compte pour vous identifier');
    const list = page.getByRole('list', { name: 'Fournisseurs d’identité' });
    t.true(await list.isVisible());
    const demo = page.getByRole('button', { name: 'S’identifier avec Demo IdP (samlify)' });
    t.true(await demo.isEnabled());
    const low = page.getByRole('button', { name: /Compte Mairie/ });
    t.true(await low.isDisabled());
    t.regex(await page.locator(`#${await low.getAttribute('aria-describedby')}`).innerText(), /niveau de garantie/);
    t.is(await page.getByRole('button', { name: /Expired IdP/ }).count(), 0, 'an IdP with expired metadata is hidden');
    const colours = await demo.evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]);
    t.true(contrast(colours[0]!, colours[1]!) >= 7, `button contrast ${contrast(colours[0]!, colours[1]!).toFixed(1)}`);
    await page.screenshot({ path: join(ARTIFACTS, 'chooser-fr.png'), fullPage: true });
    t.true(existsSync(join(ARTIFACTS, 'chooser-fr.png')));
    await context.close();
  },
);

test.serial(
  'a keyboard user reaches the IdP button with Tab and signs in with Enter; the choice is remembered',
  async (t) => {
    const context = await browser.newContext({ locale: 'fr-FR' });
    const page = await context.newPage();
    await openChooser(page);
    let focused = '';
    for (let i = 0; i < 10 && !focused.startsWith('S’identifier avec Demo'); i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.innerText ?? '');
    }
    t.true(focused.startsWith('S’identifier avec Demo IdP'), `focus reached the button (${focused})`);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    t.not(outline, 'none', 'the focused button shows a focus ring');
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/interaction/')), page.keyboard.press('Enter')]);
    t.true(await page.locator('input[name="username"]').isVisible(), 'at the IdP login form');

    await openChooser(page);
    const first = page.locator('ul.idps li').first();
    t.regex(await first.innerText(), /Demo IdP[\s\S]*Utilisé la dernière fois sur cet appareil/);
    await context.close();
  },
);

test.serial('English on request, remembered; the whole chooser works with JavaScript disabled', async (t) => {
  const context = await browser.newContext({ locale: 'fr-FR', javaScriptEnabled: false });
  const page = await context.newPage();
  await openChooser(page);
  await page.getByRole('link', { name: 'English' }).click();
  await page.waitForSelector('html[lang="en"]');
  t.is(await page.locator('h1').innerText(), 'Choose the account you sign in with');
  await page.screenshot({ path: join(ARTIFACTS, 'chooser-en.png'), fullPage: true });
  await openChooser(page);
  t.is(await page.getAttribute('html', 'lang'), 'en', 'the language choice is remembered');
  await page.getByRole('button', { name: 'Sign in with Demo IdP (samlify)' }).click();
  await page.waitForLoadState();
  await page.getByRole('button', { name: /continue/i }).click();
  await page.waitForSelector('input[name="username"]');
  t.pass('the AuthnRequest form posts without JavaScript');
  await context.close();
});
