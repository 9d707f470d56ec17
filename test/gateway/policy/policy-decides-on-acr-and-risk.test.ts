/** The policy decision: the asserted acr must meet the required one; risk thresholds; bounded step-up. */
import test from 'ava';
import { decide, DEFAULT_THRESHOLDS } from '../../../gateway/policy/decide.ts';
import { minimumAcrOf, requestedAcrValues, requiredAcr } from '../../../gateway/translation/required-acr.ts';
import { GatewayError } from '../../../gateway/errors.ts';
import type { Acr } from '../../../gateway/translate/acr.ts';

const calm = { score: 0, factors: [], stages: [] };
const input = (requiredAcr: Acr, assertedAcr: Acr, idpMaxAcr: Acr = 'eidas3', stepUps = 0, score = 0) => ({
  requiredAcr,
  assertedAcr,
  idpMaxAcr,
  stepUps,
  assessment: { ...calm, score },
});

test('an asserted level that meets the required one is allowed', (t) => {
  t.is(decide(input('eidas2', 'eidas2'), DEFAULT_THRESHOLDS).kind, 'allow');
  t.is(decide(input('eidas1', 'eidas3'), DEFAULT_THRESHOLDS).kind, 'allow');
});

test('a lower asserted level steps up when the IdP can reach the required level, once', (t) => {
  t.deepEqual(decide(input('eidas3', 'eidas2'), DEFAULT_THRESHOLDS), {
    kind: 'step_up',
    requiredAcr: 'eidas3',
    reasons: ['LOA_INSUFFICIENT'],
  });
  t.is(decide(input('eidas3', 'eidas2', 'eidas3', 1), DEFAULT_THRESHOLDS).kind, 'deny');
});

test('a lower asserted level is denied when the IdP cannot reach the required level', (t) => {
  t.deepEqual(decide(input('eidas3', 'eidas2', 'eidas2'), DEFAULT_THRESHOLDS), {
    kind: 'deny',
    requiredAcr: 'eidas3',
    reasons: ['LOA_INSUFFICIENT'],
  });
});

test('risk scores map to step-up, manual review and deny at the configured thresholds', (t) => {
  t.is(
    decide(input('eidas1', 'eidas2', 'eidas3', 0, DEFAULT_THRESHOLDS.stepUpAbove), DEFAULT_THRESHOLDS).kind,
    'step_up',
  );
  t.is(decide(input('eidas1', 'eidas2', 'eidas3', 1, DEFAULT_THRESHOLDS.stepUpAbove), DEFAULT_THRESHOLDS).kind, 'deny');
  t.is(decide(input('eidas1', 'eidas2', 'eidas3', 0, DEFAULT_THRESHOLDS.flagAbove), DEFAULT_THRESHOLDS).kind, 'flag');
  t.is(decide(input('eidas1', 'eidas2', 'eidas3', 0, DEFAULT_THRESHOLDS.denyAbove), DEFAULT_THRESHOLDS).kind, 'deny');
});

test('the required acr is the lowest the RP accepts; unknown values are errors', (t) => {
  t.is(requiredAcr('eidas3 eidas2', [], 'eidas1'), 'eidas2');
  t.is(requiredAcr(undefined, ['eidas2'], 'eidas1'), 'eidas2');
  t.is(requiredAcr(undefined, [], 'eidas1'), 'eidas1');
  t.is(t.throws(() => requiredAcr('eidas2 loa4', [], 'eidas1'), { instanceOf: GatewayError })?.code, 'ACR_UNKNOWN');
});

test('the minimum acr is a floor: asking for nothing or for less never lowers it (issue #10 item 8)', (t) => {
  t.is(requiredAcr(undefined, [], 'eidas2'), 'eidas2', 'nothing asked');
  t.is(requiredAcr('eidas1', [], 'eidas2'), 'eidas2', 'less asked');
  t.is(requiredAcr(undefined, ['eidas1'], 'eidas2'), 'eidas2', 'a client default below the floor');
  t.is(requiredAcr('eidas3', [], 'eidas2'), 'eidas3', 'more asked');
  t.is(minimumAcrOf('eidas2', 'eidas3'), 'eidas3', 'a client may raise the floor');
  t.is(minimumAcrOf('eidas2', 'eidas1'), 'eidas2', 'a client may not lower it');
});

test('an essential acr of the claims parameter is read as acr_values, and wins over them', (t) => {
  const claims = (acr: unknown) => JSON.stringify({ id_token: { acr } });
  t.is(requestedAcrValues({ claims: claims({ essential: true, value: 'eidas3' }) }), 'eidas3');
  t.is(
    requestedAcrValues({ claims: claims({ essential: true, values: ['eidas3', 'eidas2'] }), acr_values: 'eidas1' }),
    'eidas3 eidas2',
  );
  t.is(requestedAcrValues({ claims: { id_token: { acr: { essential: true, value: 'eidas3' } } } }), 'eidas3', 'parsed');
  t.is(requestedAcrValues({ claims: claims({ value: 'eidas3' }), acr_values: 'eidas2' }), 'eidas2', 'not essential');
  t.is(requestedAcrValues({ claims: claims(null), acr_values: 'eidas2' }), 'eidas2');
  t.is(requestedAcrValues({}), undefined);
  t.is(requestedAcrValues(undefined), undefined);
  const odd = requestedAcrValues({ claims: claims({ essential: true, values: [3] }) });
  t.is(t.throws(() => requiredAcr(odd, [], 'eidas2'), { instanceOf: GatewayError })?.code, 'ACR_UNKNOWN');
});
