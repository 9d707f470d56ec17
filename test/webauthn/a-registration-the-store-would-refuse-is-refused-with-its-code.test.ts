/**
 * Enrolment answers the database would refuse are refused before it, with their codes, and cost the person
 * nothing (issue #15, found by the WebAuthn fuzzer: each was a 500 after the enrolment grant was used up):
 * - `registration.enrolled-key-again`: an authenticator registering a credential id that is already
 *   registered (WebAuthn L3 §7.1 step 26: the RP should refuse) → 400 WEBAUTHN_CREDENTIAL_ALREADY_REGISTERED;
 * - `registration.transports-*`: `response.transports` that is not a short list of transport names (a
 *   string, numbers, objects, a huge name, a hundred entries) → 400 WEBAUTHN_VERIFICATION_FAILED.
 * The page is shown again with the code and a fresh challenge, no credential is added, and the grant still
 * enrols a genuine new key afterwards.
 */
import test from 'ava';
import { SoftAuthenticator } from './soft-authenticator.ts';
import { atRegister, optionsIn, startWebAuthnBed, type AtDoor, type WebAuthnBed } from '../fuzz/webauthn-bed.ts';

let bed: WebAuthnBed;
test.before(async () => {
  bed = await startWebAuthnBed();
});
test.after.always(async () => {
  await bed?.stop();
});

const codeOf = (html: string) => /<code>([A-Z0-9_]+)<\/code>/.exec(html)?.[1];

async function credentials(): Promise<string[]> {
  const { rows } = await bed.fx.gateway.services.pool.query<{ credential_id: string }>(
    'select credential_id from webauthn_credentials order by credential_id',
  );
  return rows.map((r) => r.credential_id);
}

async function post(door: AtDoor, response: unknown) {
  const answer = await door.browser.request(door.action, {
    method: 'POST',
    form: { step: 'register', response: JSON.stringify(response) },
  });
  const html = await answer.text();
  const next = optionsIn(html)?.challenge;
  if (next) door.challenge = next;
  return { status: answer.status, code: codeOf(html), html };
}

const registration = (key: SoftAuthenticator, door: AtDoor) =>
  key.register({
    challenge: door.challenge,
    origin: bed.rp.origin,
    rpId: bed.rp.rpId,
    attachment: 'cross-platform',
    attestation: 'none',
  });

test.serial(
  'registration.enrolled-key-again: 400 WEBAUTHN_CREDENTIAL_ALREADY_REGISTERED, the grant kept',
  async (t) => {
    const door = await atRegister(bed);
    const before = await credentials();
    const again = await post(door, await registration(bed.key, door));
    t.is(again.status, 400);
    t.is(again.code, 'WEBAUTHN_CREDENTIAL_ALREADY_REGISTERED');
    t.deepEqual(await credentials(), before);
    const genuine = await post(door, await registration(new SoftAuthenticator(), door));
    t.is(genuine.status, 200, 'the grant still enrols a new key');
    t.regex(genuine.html, /Security key added/);
    t.is((await credentials()).length, before.length + 1);
  },
);

const TRANSPORTS: [string, unknown][] = [
  ['registration.transports-a-string', 'usb'],
  ['registration.transports-numbers', [1, 2]],
  ['registration.transports-objects', [{}]],
  ['registration.transports-a-huge-name', ['x'.repeat(5000)]],
  ['registration.transports-a-hundred', Array.from({ length: 100 }, () => 'usb')],
];

for (const [shape, transports] of TRANSPORTS) {
  test.serial(`${shape}: 400 WEBAUTHN_VERIFICATION_FAILED, nothing stored, the grant kept`, async (t) => {
    const door = await atRegister(bed);
    const before = await credentials();
    const valid = await registration(new SoftAuthenticator(), door);
    const refused = await post(door, { ...valid, response: { ...valid.response, transports } });
    t.is(refused.status, 400);
    t.is(refused.code, 'WEBAUTHN_VERIFICATION_FAILED');
    t.deepEqual(await credentials(), before);
    const genuine = await post(door, await registration(new SoftAuthenticator(), door));
    t.is(genuine.status, 200, 'the grant still enrols a new key');
  });
}
