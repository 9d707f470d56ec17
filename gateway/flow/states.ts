/**
 * The login state machine as tables: every state, how long a login may stay in it, where it goes when that
 * time is up, and which states may follow it.
 *
 * - a state not in the table is not a state: {@link parseState} throws `FLOW_UNKNOWN_STATE`;
 * - a terminal state (COMPLETED, FAILED, DENIED) has no timeout and no successor;
 * - a timeout always leads to a terminal state that the table of transitions allows.
 *
 * ```
 * INITIATED → AUTHENTICATING ⇄ (step-up) → FRAUD_CHECK → TOKEN_GENERATION → COMPLETED
 *     ↘ (a login on an existing session: SSO) ↗    ↘ FLAGGED → MANUAL_REVIEW → COMPLETED | DENIED
 * any live state → FAILED
 * ```
 */
import { FlowError } from './flow-error.ts';

export interface StateRow {
  /** Seconds a login may stay in this state; `null` for a terminal state. */
  readonly timeoutSeconds: number | null;
  /** Where the sweeper sends a login whose time in this state is up; `null` for a terminal state. */
  readonly onTimeout: 'FAILED' | 'DENIED' | null;
  /** The states a transition from this one may reach. */
  readonly next: readonly string[];
}

/** The one table of states. Read it as a sentence: "from X, within N seconds, go to one of ..., else to ...". */
export const STATES = {
  //                timeout  on timeout  may go to
  INITIATED: { timeoutSeconds: 300, onTimeout: 'FAILED', next: ['AUTHENTICATING', 'FRAUD_CHECK', 'FAILED'] },
  AUTHENTICATING: { timeoutSeconds: 600, onTimeout: 'FAILED', next: ['FRAUD_CHECK', 'AUTHENTICATING', 'FAILED'] },
  FRAUD_CHECK: {
    timeoutSeconds: 30,
    onTimeout: 'FAILED',
    next: ['TOKEN_GENERATION', 'FLAGGED', 'AUTHENTICATING', 'FAILED'],
  },
  TOKEN_GENERATION: { timeoutSeconds: 5, onTimeout: 'FAILED', next: ['COMPLETED', 'FAILED'] },
  FLAGGED: { timeoutSeconds: 60, onTimeout: 'DENIED', next: ['MANUAL_REVIEW', 'DENIED', 'FAILED'] },
  MANUAL_REVIEW: { timeoutSeconds: 900, onTimeout: 'DENIED', next: ['COMPLETED', 'DENIED'] },
  COMPLETED: { timeoutSeconds: null, onTimeout: null, next: [] },
  FAILED: { timeoutSeconds: null, onTimeout: null, next: [] },
  DENIED: { timeoutSeconds: null, onTimeout: null, next: [] },
} as const satisfies Record<string, StateRow>;

/** A state of a login: `'INITIATED' | 'AUTHENTICATING' | ... | 'DENIED'`. */
export type LoginState = keyof typeof STATES;

/** Every state, in table order. */
export const LOGIN_STATES = Object.keys(STATES) as LoginState[];

/** The state a login starts in. */
export const INITIAL_STATE = 'INITIATED' satisfies LoginState;

/**
 * Reads a state name from outside (Redis, a request); anything not in the table throws `FLOW_UNKNOWN_STATE`.
 *
 * @example
 * parseState('FRAUD_CHECK') // 'FRAUD_CHECK'
 * parseState('fraud_check') // throws FlowError FLOW_UNKNOWN_STATE
 */
export function parseState(name: unknown): LoginState {
  if (typeof name === 'string' && Object.hasOwn(STATES, name)) return name as LoginState;
  throw new FlowError('FLOW_UNKNOWN_STATE', 'unknown login state', { detail: String(name) });
}

/** The table row of a state; an unknown state throws `FLOW_UNKNOWN_STATE`. */
export function stateRow(state: LoginState): StateRow {
  return STATES[parseState(state)];
}

/**
 * Whether the table allows `from → to`. Unknown states throw rather than answer `false`.
 *
 * @example
 * canTransition('FRAUD_CHECK', 'FLAGGED') // true
 * canTransition('COMPLETED', 'FAILED')    // false: terminal
 */
export function canTransition(from: LoginState, to: LoginState): boolean {
  const target = parseState(to);
  return stateRow(from).next.includes(target);
}

/** Whether a state is terminal (no timeout, no successor). */
export function isTerminal(state: LoginState): boolean {
  return stateRow(state).timeoutSeconds === null;
}
