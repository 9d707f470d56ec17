/**
 * Gateway-side WebAuthn for policy levels 2 and 3, end to end in a real headless Chromium whose
 * authenticators are CDP virtual authenticators (ctap2; `usb` = a roaming FIDO2 security key,
 * `internal` = the device's platform authenticator with user verification):
 * - level 3 (a 1,000 € transaction) without an enrolled key falls back to manual review, and the page says why;
 * - after an ordinary login the same browser enrols a security key; the next level-3 login is confirmed
 *   with it at the gateway and the ID token's `amr` carries `hwk`;
 * - a platform authenticator with user verification answers level 2 (120 €): `amr` carries `user` + `mfa`;
 * - enrolment is refused outside a just-completed login; three refused answers fail the login.
 * The issuer is http://localhost (browsers refuse an IP address as WebAuthn RP ID).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../harness/deployment.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';

let RP_REDIRECT: string;
let rpServer: Server;
const policyFile = join(mkdtempSync(join(tmpdir(), 'gw-policy-')), 'policy.json');
writeFileSync(policyFile, JSON.stringify({ default: { thresholds: { stepUp: 0.99, biometric: 0.99, token: 0.99, review: 0.995, deny: 1 }, tierLevels: [0, 0, 2, 3, 3] } }));
process.env.GW_RISK_POLICY_FILE = policyFile;

let deployment: Deployment;
let gateway: Awaited<ReturnType<typeof startGatewayInProcess>>;
let browser: Browser;
let rp: oidc.Configuration;
let issuer: string;

test.before(async () => {
  rpServer = createServer((_req, res) => res.end('rp'));
  await new Promise<void>((resolve) => rpServer.listen(0, '127.0.0.1', resolve));
  RP_REDIRECT = `http://127.0.0.1:${(rpServer.address() as AddressInfo).port}/callback`;
  deployment = await prepareDeployment({
    dir: mkdtempSync(join(tmpdir(), 'gw-webauthn-')),
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    rpRedirectUri: RP_REDIRECT,
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
    gatewayHost: 'localhost', // WebAuthn needs a domain as RP ID: browsers refuse an IP address
  });
  issuer = deployment.gatewayUrl;
  gateway = await startGatewayInProcess(deployment);
  rp = await oidc.discovery(new URL(issuer), deployment.client.client_id, deployment.client.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await gateway?.stop();
  await deployment?.stop();
  rpServer?.close();
});

async function withAuthenticator(transport: 'usb' | 'internal'): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport, hasResidentKey: false, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  // The IdP (127.0.0.1) and the gateway (localhost) are different sites here, unlike a deployment with
  // a dev issuer on one loopback host: carry the SameSite=Lax binding cookie to the ACS by hand.
  await page.route(`${issuer}/saml/acs`, async (route) => route.fulfill({ response: await route.fetch({ maxRedirects: 0 }) }));
  return page;
}

/** A login through the chooser and the demo IdP; stops at the RP or at the first other gateway page. */
async function login(page: Page, username: string, amountEur?: string) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: RP_REDIRECT, scope: 'openid profile', prompt: 'login', state, nonce, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    ...(amountEur ? { authorization_details: JSON.stringify([{ type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: amountEur } }]) } : {}),
  });
  await page.goto(url.toString());
  await page.waitForURL(/\/interaction\//);
  const uid = new URL(page.url()).pathname.split('/')[2]!;
  await page.getByRole('button', { name: /demo idp/i }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(`${username}-demo`);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL((u) => u.toString().startsWith(RP_REDIRECT) || /\/(review|webauthn\/authenticate)$/.test(u.pathname), { timeout: 30_000 });
  const tokens = async () => oidc.authorizationCodeGrant(rp, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  return { uid, tokens };
}

async function trail(uid: string): Promise<string[]> {
  const { rows } = await gateway.gateway.services.pool.query('select from_state, to_state from audit_log where session_id = $1 order by audit_log.seq', [uid]);
  return rows.map((r) => `${r.from_state ?? '∅'}→${r.to_state}`);
}

test.serial('level 3 without an enrolled key falls back to manual review and the page says why', async (t) => {
  const page = await withAuthenticator('usb');
  const { uid } = await login(page, 'marie', '1000');
  t.is(new URL(page.url()).pathname, `/interaction/${uid}/review`);
  t.regex((await page.textContent('body')) ?? '', /needs a security key, and none is registered/);
  await page.context().close();
});

test.serial('a person enrols a security key after a login, then a level-3 login is confirmed with it (amr hwk)', async (t) => {
  const page = await withAuthenticator('usb');
  const first = await login(page, 'marie');
  t.true(page.url().startsWith(RP_REDIRECT), 'tier 0: allowed');
  await page.goto(`${issuer}/interaction/${first.uid}/webauthn/register?kind=cross-platform`);
  await page.getByRole('button', { name: /register my security key/i }).click();
  await page.getByRole('heading', { name: /security key added/i }).waitFor();
  const { rows } = await gateway.gateway.services.pool.query('select attachment from webauthn_credentials');
  t.deepEqual(rows, [{ attachment: 'cross-platform' }]);
  t.is((await page.goto(`${issuer}/interaction/${first.uid}/webauthn/register`))?.status(), 403, 'one enrolment per login');

  const second = await login(page, 'marie', '1000');
  t.is(new URL(page.url()).pathname, `/interaction/${second.uid}/webauthn/authenticate`);
  await page.getByRole('button', { name: /use my security key/i }).click();
  await page.waitForURL((u) => u.toString().startsWith(RP_REDIRECT));
  const tokens = await second.tokens();
  t.deepEqual(tokens.claims()!.amr, ['mfa', 'hwk', 'rba']);
  t.deepEqual((await trail(second.uid)).slice(-4), ['FRAUD_CHECK→AUTHENTICATING', 'AUTHENTICATING→FRAUD_CHECK', 'FRAUD_CHECK→TOKEN_GENERATION', 'TOKEN_GENERATION→COMPLETED']);
  await page.context().close();
});

test.serial('a platform authenticator with user verification answers level 2 (amr user + mfa)', async (t) => {
  const page = await withAuthenticator('internal');
  const first = await login(page, 'jean');
  t.true(page.url().startsWith(RP_REDIRECT));
  await page.goto(`${issuer}/interaction/${first.uid}/webauthn/register?kind=platform`);
  await page.getByRole('button', { name: /register this device/i }).click();
  await page.getByRole('heading', { name: /security key added/i }).waitFor();
  const second = await login(page, 'jean', '120');
  t.is(new URL(page.url()).pathname, `/interaction/${second.uid}/webauthn/authenticate`);
  await page.getByRole('button', { name: /confirm with this device/i }).click();
  await page.waitForURL((u) => u.toString().startsWith(RP_REDIRECT));
  t.deepEqual((await second.tokens()).claims()!.amr, ['mfa', 'hwk', 'user', 'rba'], 'jean: LoA high upstream, then user verification');
  await page.context().close();
});

test.serial('enrolment is refused to a browser that did not just log in', async (t) => {
  const page = await withAuthenticator('usb');
  const response = await page.goto(`${issuer}/interaction/someone-else/webauthn/register`);
  t.is(response?.status(), 403);
  t.regex((await page.textContent('body')) ?? '', /WEBAUTHN_ENROLMENT_NOT_ALLOWED|only right after signing in/);
  await page.context().close();
});

test.serial('refused answers show the code and a fresh challenge; the third fails the login with access_denied', async (t) => {
  // jean (LoA high): alex (low) is below the federation's minimum acr (eidas2) and never gets a token to enrol after
  const page = await withAuthenticator('usb');
  const first = await login(page, 'jean');
  await page.goto(`${issuer}/interaction/${first.uid}/webauthn/register?kind=cross-platform`);
  await page.getByRole('button', { name: /register my security key/i }).click();
  await page.getByRole('heading', { name: /security key added/i }).waitFor();
  const second = await login(page, 'jean', '1000');
  const forged = async () => {
    const answered = page.waitForResponse((r) => r.url().endsWith('/webauthn/authenticate') && r.request().method() === 'POST');
    await page.evaluate(() => {
      const form = document.getElementById('webauthn') as HTMLFormElement;
      (form.elements.namedItem('response') as HTMLInputElement).value = '{"id":"x","response":{"authenticatorData":"AA"}}';
      form.submit();
    }).catch(() => undefined); // the submission navigates away while evaluate returns
    return answered;
  };
  t.is((await forged()).status(), 400);
  await page.waitForSelector('[role=alert]');
  t.regex((await page.textContent('[role=alert]')) ?? '', /WEBAUTHN_CREDENTIAL_UNKNOWN/);
  t.is((await forged()).status(), 400);
  await page.waitForSelector('[role=alert]');
  await forged();
  await page.waitForURL((u) => u.toString().startsWith(RP_REDIRECT));
  t.is(new URL(page.url()).searchParams.get('error'), 'access_denied');
  const { rows } = await gateway.gateway.services.pool.query("select error_code from audit_log where session_id = $1 and to_state = 'FAILED'", [second.uid]);
  t.deepEqual(rows, [{ error_code: 'WEBAUTHN_ATTEMPTS_EXHAUSTED' }]);
  await page.context().close();
});
