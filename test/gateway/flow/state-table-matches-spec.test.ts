import test from 'ava';
import {
  canTransition,
  isTerminal,
  LOGIN_STATES,
  parseState,
  STATES,
  type LoginState,
} from '../../../gateway/flow/states.ts';

/** The specification, written independently of the table it checks. */
const SPEC: Record<LoginState, { timeout: number | null; next: LoginState[] }> = {
  // a login on an existing gateway session (SSO) goes to FRAUD_CHECK without going upstream (issue #12 item 1)
  INITIATED: { timeout: 300, next: ['AUTHENTICATING', 'FRAUD_CHECK', 'FAILED'] },
  AUTHENTICATING: { timeout: 600, next: ['FRAUD_CHECK', 'FAILED', 'AUTHENTICATING'] },
  FRAUD_CHECK: { timeout: 30, next: ['TOKEN_GENERATION', 'FLAGGED', 'FAILED', 'AUTHENTICATING'] },
  TOKEN_GENERATION: { timeout: 5, next: ['COMPLETED', 'FAILED'] },
  FLAGGED: { timeout: 60, next: ['MANUAL_REVIEW', 'DENIED', 'FAILED'] },
  MANUAL_REVIEW: { timeout: 900, next: ['COMPLETED', 'DENIED'] },
  COMPLETED: { timeout: null, next: [] },
  FAILED: { timeout: null, next: [] },
  DENIED: { timeout: null, next: [] },
};

test('the table has exactly the states of the specification', (t) => {
  t.deepEqual([...LOGIN_STATES].sort(), Object.keys(SPEC).sort());
});

for (const state of Object.keys(SPEC) as LoginState[]) {
  test(`${state}: timeout and successors match the specification`, (t) => {
    t.is(STATES[state].timeoutSeconds as number | null, SPEC[state].timeout);
    t.deepEqual([...STATES[state].next].sort(), [...SPEC[state].next].sort());
    for (const to of LOGIN_STATES) t.is(canTransition(state, to), SPEC[state].next.includes(to), `${state} → ${to}`);
    t.is(isTerminal(state), SPEC[state].timeout === null);
  });
}

test('a timeout leads to FAILED, or to DENIED from FLAGGED and MANUAL_REVIEW, always along an allowed transition', (t) => {
  for (const state of LOGIN_STATES) {
    const target = STATES[state].onTimeout;
    if (isTerminal(state)) {
      t.is(target, null);
      continue;
    }
    t.is(target, state === 'FLAGGED' || state === 'MANUAL_REVIEW' ? 'DENIED' : 'FAILED', state);
    t.true(canTransition(state, target!), `${state} → ${target}`);
  }
});

test('an unknown state throws FLOW_UNKNOWN_STATE rather than being guessed', (t) => {
  for (const name of ['fraud_check', 'PENDING', '', '__proto__', 'toString', null, 3]) {
    t.throws(() => parseState(name), { code: 'FLOW_UNKNOWN_STATE' } as never, String(name));
  }
  t.throws(() => canTransition('INITIATED', 'DONE' as LoginState), { code: 'FLOW_UNKNOWN_STATE' } as never);
  t.throws(() => canTransition('DONE' as LoginState, 'FAILED'), { code: 'FLOW_UNKNOWN_STATE' } as never);
});
