/**
 * Observes the login state machine's transitions without touching it: the flow writes one audit record
 * per transition (and only the winner of a race writes it), so an `AuditLog` whose `append` also reports
 * the record once PostgreSQL (or the spool) took it sees every transition, the sweeper's included.
 */
import type { AuditLog, AuditRecord } from './audit-log.ts';

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
