/** Token labels `gw:<purpose>:<alg>:<shortid>` round-trip, and anything else is refused with a code. */
import test from 'ava';
import { HsmError } from '../../hsm/errors.ts';
import { keyLabel, parseKeyLabel } from '../../hsm/key-label.ts';

test('a label round-trips', (t) => {
  const label = keyLabel('saml', 'RS256', '40d1c82c1c453a31');
  t.is(label, 'gw:saml:RS256:40d1c82c1c453a31');
  t.deepEqual(parseKeyLabel(label), { purpose: 'saml', alg: 'RS256', shortId: '40d1c82c1c453a31' });
});

for (const [label, code] of [
  ['gw:saml:RS256', 'HSM_KEY_MISMATCH'],
  ['xx:saml:RS256:40d1c82c', 'HSM_KEY_MISMATCH'],
  ['gw:login:RS256:40d1c82c', 'HSM_KEY_MISMATCH'],
  ['gw:saml:RS256:NOTHEX!!', 'HSM_KEY_MISMATCH'],
  ['gw:saml:RS256:40d1c82c:extra', 'HSM_KEY_MISMATCH'],
  ['gw:saml:RS1:40d1c82c', 'HSM_ALG_UNKNOWN'],
  ['gw:id_token:HS256:40d1c82c', 'HSM_ALG_UNKNOWN'],
] as const) {
  test(`label ${label} is refused with ${code}`, (t) => {
    const error = t.throws(() => parseKeyLabel(label), { instanceOf: HsmError });
    t.is(error?.code, code);
  });
}
