/**
 * Observes the login state machine from outside: the same flow, telling an observer the target state of
 * each transition it made and the seconds since the login started (for `gateway_login_duration_seconds`).
 * An observer never fails a login.
 */
import type { LoginFlow } from './login-flow.ts';
import type { LoginState } from './states.ts';

/**
 * Every member is the original's except `transition` and `startThen`, which also report.
 *
 * @example
 * const flow = observeTransitions(new LoginFlow({ ... }), (to, seconds) => metrics.loginEnded(to, seconds));
 */
export function observeTransitions(
  flow: LoginFlow,
  onTransition: (to: LoginState, seconds: number) => void,
): LoginFlow {
  const report = (record: Awaited<ReturnType<LoginFlow['transition']>>) => {
    try {
      onTransition(record.state, (record.enteredAt - record.startedAt) / 1000);
    } catch {
      // an observer never fails a login
    }
    return record;
  };
  const transition: LoginFlow['transition'] = async (loginId, to, meta) =>
    report(await flow.transition(loginId, to, meta));
  // a start is not reported (as `start`), the transition that follows it is
  const startThen: LoginFlow['startThen'] = async (loginId, context, to, meta) =>
    report(await flow.startThen(loginId, context, to, meta));
  return new Proxy(flow, {
    get(target, property) {
      if (property === 'transition') return transition;
      if (property === 'startThen') return startThen;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
