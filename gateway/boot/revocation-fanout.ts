/**
 * Every revoked session's RPs are told over the back channel (oidc/backchannel-logout.ts) and, when they
 * registered a receiver, with a CAEP session-revoked SET (oidc/shared-signals/). A SET not sent is logged (the
 * receiver's failure); an error of ours fails the listener, so that the revocation is told again later.
 * The sessions of one revocation are told {@link SESSIONS_AT_ONCE} at a time: an IdP's or a key compromise's
 * revocation ends many, and one RP that does not answer (three tries of a few seconds each) must not hold the
 * others back for hours.
 */
import type { Provider } from 'oidc-provider';
import type { BackchannelLogout } from '../oidc/backchannel-logout.ts';
import { initiatingEntityOf, type SignalTransmitter } from '../oidc/shared-signals/transmitter.ts';
import type { Services } from '../services.ts';

/** Sessions of one revocation whose RPs are told at once. */
export const SESSIONS_AT_ONCE = 16;

export interface RevocationFanoutDeps {
  sessions: Services['sessions'];
  backchannel: BackchannelLogout;
  signals: SignalTransmitter;
  /** The current oidc-provider generation. */
  provider: () => Provider;
  logger: Services['logger'];
}

/**
 * Subscribes to the revocation API: each revoked session's RPs are told.
 *
 * @example
 * tellRpsOfRevocations({ sessions, backchannel, signals, provider: () => holder.provider, logger });
 */
export function tellRpsOfRevocations(deps: RevocationFanoutDeps): void {
  const { sessions, backchannel, signals, logger } = deps;
  sessions.revoker.onRevoked(async (records, { actor }) => {
    const tell = async (record: (typeof records)[number]) => {
      // the revocation's own row (revoked, current): a session expired meanwhile is told too (the RP's own session
      // may outlive ours); opened, not read again
      const payload = await sessions.store.open<{ accountId?: unknown; authorizations?: unknown }>(record);
      await Promise.all([
        backchannel.sessionEnded(deps.provider(), payload),
        signals
          .sessionRevoked(deps.provider(), payload, initiatingEntityOf(actor))
          .catch((err: unknown) => logger.warn({ err }, 'shared signals not sent')),
      ]);
    };
    const failures: unknown[] = [];
    const failedRecords: Buffer[] = [];
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const record = records[next++]!;
        await tell(record).catch((err: unknown) => {
          logger.warn({ err }, 'a revoked session’s RPs not told');
          failures.push(err);
          failedRecords.push(record.recordKey);
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(SESSIONS_AT_ONCE, records.length) }, worker));
    // an error of ours (a record that could not be opened, an RP's registration unreadable): the revocation is not
    // marked told, and only these sessions are taken again after a backoff (revocation-notices.ts)
    if (failures.length > 0)
      throw Object.assign(new AggregateError(failures, `${failures.length} revoked sessions' RPs not told`), {
        failedRecords,
      });
  });
}
