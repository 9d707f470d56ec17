/**
 * The WebAuthn fuzzer's bed: a gateway on `localhost` (WebAuthn needs a domain as RP ID) whose policy sends a
 * 120 € payment to level 2, jean (LoA high at the demo IdP) with one security key enrolled the real way (a
 * fresh forced login, the register page, a software authenticator's `none` attestation), and the steps that
 * bring a browser to each door: a login parked at the step-up (`/webauthn/authenticate`), an enrolment grant
 * confirmed with the existing key (`/webauthn/register`).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relyingPartyOf } from '../../gateway/webauthn/ceremonies.ts';
import type { Browser } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';
import { SoftAuthenticator } from '../webauthn/soft-authenticator.ts';
import { permissivePolicyFile } from '../helpers/permissive-policy.ts';

export interface WebAuthnBed {
  fx: GatewayFixture;
  /** The enrolled key (cross-platform, level 2) and its signature counter (each assertion takes the next). */
  key: SoftAuthenticator;
  counter: { value: number };
  rp: { rpId: string; origin: string };
  accountId: string;
  stop(): Promise<void>;
}

/** A browser at a WebAuthn door: the login id, the form's action and the live challenge. */
export interface AtDoor {
  browser: Browser;
  uid: string;
  action: string;
  challenge: string;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
export const rpIdHash = (rpId: string): Buffer => sha256(rpId);

/** The ceremony options of a WebAuthn page (its JSON data block), or undefined. */
export function optionsIn(html: string): { challenge: string } | undefined {
  const block = /<script type="application\/json" id="webauthn-options">([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (block === undefined) return undefined;
  return JSON.parse(block) as { challenge: string };
}

const PAYMENT_120 = JSON.stringify([
  { type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '120' } },
]);

async function loginOfJean(fx: GatewayFixture, extra: Record<string, string>) {
  const request = await authorizationRequest(fx.rp, extra);
  return loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
}

/** A signed assertion of the enrolled key, for `challenge` (the next counter value). */
export function assertion(bed: WebAuthnBed, challenge: string): string {
  bed.counter.value += 1;
  return JSON.stringify(
    bed.key.assert({ challenge, origin: bed.rp.origin, rpId: bed.rp.rpId, counter: bed.counter.value }),
  );
}

/** A forced LoA-high login of jean, with an enrolment grant; confirmed with the key when the account has one. */
export async function atRegister(bed: WebAuthnBed): Promise<AtDoor> {
  const journey = await loginOfJean(bed.fx, { prompt: 'login' });
  if (!journey.url.searchParams.get('code') || !journey.loginId) throw new Error(`login failed: ${journey.url}`);
  const { browser, loginId: uid } = journey;
  const action = `${bed.fx.url}/interaction/${uid}/webauthn/register?level=2&kind=cross-platform`;
  let page = await browser.request(action);
  let html = await page.text();
  if (/name="step" value="confirm"/.test(html)) {
    const confirm = await browser.request(action, {
      method: 'POST',
      form: { step: 'confirm', response: assertion(bed, optionsIn(html)!.challenge) },
    });
    await confirm.body?.cancel();
    if (confirm.status !== 303) throw new Error(`the existing key did not confirm (HTTP ${confirm.status})`);
    page = await browser.request(action);
    html = await page.text();
  }
  const options = optionsIn(html);
  if (page.status !== 200 || !options) throw new Error(`no register page (HTTP ${page.status})`);
  return { browser, uid, action, challenge: options.challenge };
}

/** A login of jean for a 120 € payment: parked at the WebAuthn step-up (level 2). */
export async function atAuthenticate(bed: WebAuthnBed): Promise<AtDoor> {
  const journey = await loginOfJean(bed.fx, { authorization_details: PAYMENT_120 });
  const options = optionsIn(journey.html);
  if (!journey.url.pathname.endsWith('/webauthn/authenticate') || !options || !journey.loginId)
    throw new Error(`not at the step-up: ${journey.url}`);
  return {
    browser: journey.browser,
    uid: journey.loginId,
    action: journey.url.toString(),
    challenge: options.challenge,
  };
}

export async function startWebAuthnBed(): Promise<WebAuthnBed> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-fuzz-webauthn-'));
  // level 2 for 120 € (tier 2), never a step-up nor a review from the score: the ceremonies are under test
  const policyFile = permissivePolicyFile(dir);
  const fx = await startGatewayFixture({
    gatewayHost: 'localhost',
    riskPolicyFile: policyFile,
    rawConfig: (raw) => void (raw.rateLimit = { enabled: false }),
  });
  const key = new SoftAuthenticator();
  const rp = relyingPartyOf(fx.url);
  const bed: WebAuthnBed = { fx, key, counter: { value: 0 }, rp, accountId: '', stop: () => fx.stop() };
  // enrol the key the real way: a fresh LoA-high login earns a level-2 enrolment
  const door = await atRegister(bed);
  const response = await key.register({
    challenge: door.challenge,
    origin: rp.origin,
    rpId: rp.rpId,
    attachment: 'cross-platform',
    attestation: 'none',
  });
  const enrolled = await door.browser.request(door.action, {
    method: 'POST',
    form: { step: 'register', response: JSON.stringify(response) },
  });
  await enrolled.body?.cancel();
  const { rows } = await fx.gateway.services.pool.query<{ account_id: string }>(
    'select account_id from webauthn_credentials where credential_id = $1',
    [key.credentialId],
  );
  if (enrolled.status !== 200 || !rows[0]) throw new Error(`the key was not enrolled (HTTP ${enrolled.status})`);
  bed.accountId = rows[0].account_id;
  return bed;
}
