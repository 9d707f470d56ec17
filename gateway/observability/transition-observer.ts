/**
 * Observes the login state machine's transitions without touching it: the flow writes one audit record
 * per transition (and only the winner of a race writes it), so an `AuditLog` whose `append` also reports
 * the record once PostgreSQL (or the spool) took it sees every transition, the sweeper's included.
 */
import type { AuditLog, AuditRecord } from '../audit/audit-log.ts';
import type { LoginFlow } from '../flow/login-flow.ts';
import type { LoginState } from '../flow/states.ts';

/**
 * The same audit log, telling `onRecord` about each record it wrote. Every other member is the original's.
 *
 * @example
 * const flow = new LoginFlow({ redis, audit: observeAppends(audit, (r) => metrics.transition(r.to)) });
 */
export function observeAppends(audit: AuditLog, onRecord: (record: AuditRecord) => void): AuditLog {
  const append = async (record: AuditRecord): Promise<void> => {
    await audit.append(record);
    try {
      onRecord(record);
    } catch {
      // an observer never fails a login
    }
  };
  return new Proxy(audit, {
    get(target, property) {
      if (property === 'append') return append;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * The same login flow, telling `onTransition` the target state of each transition it made and the seconds
 * since the login started (for `gateway_login_duration_seconds`). Every other member is the original's.
 *
 * @example
 * const flow = observeTransitions(new LoginFlow({ ... }), (to, seconds) => metrics.loginEnded(to, seconds));
 */
export function observeTransitions(flow: LoginFlow, onTransition: (to: LoginState, seconds: number) => void): LoginFlow {
  const transition: LoginFlow['transition'] = async (loginId, to, meta) => {
    const record = await flow.transition(loginId, to, meta);
    try {
      onTransition(record.state, (record.enteredAt - record.startedAt) / 1000);
    } catch {
      // an observer never fails a login
    }
    return record;
  };
  return new Proxy(flow, {
    get(target, property) {
      if (property === 'transition') return transition;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
