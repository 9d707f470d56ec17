/**
 * What `make run` promises, done by a real browser: a person opens the demo RP, clicks "log in", chooses
 * the IdP on the gateway's chooser page, signs in as a demo user at the samlify IdP, and lands back on the
 * RP page, which shows the verified ID-token claims. Screenshots go to test/artifacts/.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startDemoRp, type DemoRp } from '../../conformance/oidc-rp/index.ts';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../harness/deployment.ts';
import { freePort } from '../harness/services/free-port.ts';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';

let deployment: Deployment;
let gateway: Awaited<ReturnType<typeof startGatewayInProcess>>;
let rp: DemoRp;
let browser: Browser;

test.before(async () => {
  const rpPort = await freePort();
  deployment = await prepareDeployment({
    dir: mkdtempSync(join(tmpdir(), 'gw-chromium-')),
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    rpRedirectUri: `http://127.0.0.1:${rpPort}/callback`,
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

test('a person logs in from the demo RP through the chooser and the demo IdP and sees their claims', async (t) => {
  const page = await browser.newPage();
  await page.goto(rp.url);
  await page.getByRole('button', { name: /log in with the gateway/i }).click();
  await page.waitForURL(/\/interaction\//);
  await page.screenshot({ path: join(ARTIFACTS, 'login-1-chooser.png'), fullPage: true });
  await page.getByRole('button', { name: /demo idp/i }).click();
  await page.waitForURL(new RegExp(deployment.idp.url.replace(/[.:/]/g, '\\$&')));
  await page.getByLabel('Username').fill('marie');
  await page.getByLabel('Password').fill('marie-demo');
  await page.screenshot({ path: join(ARTIFACTS, 'login-2-idp.png'), fullPage: true });
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL((url) => url.toString().startsWith(rp.url) && !url.pathname.startsWith('/callback'), {
    timeout: 30_000,
  });
  await page.screenshot({ path: join(ARTIFACTS, 'login-3-rp-claims.png'), fullPage: true });
  const text = await page.textContent('body');
  t.regex(text ?? '', /Marie/);
  t.regex(text ?? '', /Dupont/);
  t.regex(text ?? '', /eidas2/);
  await page.close();
});
