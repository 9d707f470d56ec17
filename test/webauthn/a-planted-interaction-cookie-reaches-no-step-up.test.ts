/**
 * A login parked at its WebAuthn step-up answers only in the browser it went upstream from (its binding cookie):
 * the attacker's interaction cookie, planted in a person's browser by a sibling site (path-scoped, so it cannot be
 * `__Host-`), neither shows the step-up there nor takes an attempt: 403 `INTERACTION_INVALID`, audited `REJECTED`
 * at `webauthn`, the step-up left for the login's own browser. Real gateway, Redis, PostgreSQL, SoftHSM2, a
 * software authenticator enrolled the real way (the WebAuthn fuzzer's bed).
 */
import test from 'ava';
import { Browser } from '../helpers/browser.ts';
import { atAuthenticate, startWebAuthnBed, type WebAuthnBed } from '../fuzz/webauthn-bed.ts';

let bed: WebAuthnBed;
test.before(async () => {
  bed = await startWebAuthnBed();
});
test.after.always(async () => {
  await bed?.stop();
});

test("the attacker's interaction cookie planted in another browser reaches no step-up", async (t) => {
  const door = await atAuthenticate(bed);
  const action = new URL(door.action);
  const victim = new Browser();
  for (const name of ['_interaction', '_interaction.sig'])
    victim.plant(action, name, door.browser.cookie(action, name)!, `/interaction/${door.uid}`);

  const shown = await victim.request(action);
  t.is(shown.status, 403);
  t.regex(await shown.text(), /INTERACTION_INVALID/);
  const answered = await victim.request(action, { method: 'POST', form: { step: 'authenticate', response: '{}' } });
  t.is(answered.status, 403, 'no attempt taken');
  await answered.body?.cancel();
  const { rows } = await bed.fx.gateway.services.pool.query<{ details: { at?: string } }>(
    "select details from audit_log where session_id = $1 and to_state = 'REJECTED' and error_code = 'INTERACTION_INVALID'",
    [door.uid],
  );
  t.deepEqual(
    rows.map((r) => r.details.at),
    ['webauthn', 'webauthn'],
  );

  const own = await door.browser.request(action);
  t.is(own.status, 200, 'the step-up is still there for the login’s own browser');
  await own.body?.cancel();
});
