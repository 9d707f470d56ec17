/**
 * Every revoked session's RPs are told over the back channel (oidc/backchannel-logout.ts) and, when they
 * registered a receiver, with a CAEP session-revoked SET (oidc/shared-signals/). A SET not sent is logged.
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
      const loaded = await sessions.store.load<{ accountId?: unknown; authorizations?: unknown }>(
        'Session',
        record.recordKey,
      );
      if (loaded)
        await Promise.all([
          backchannel.sessionEnded(deps.provider(), loaded.payload),
          signals
            .sessionRevoked(deps.provider(), loaded.payload, initiatingEntityOf(actor))
            .catch((err: unknown) => logger.warn({ err }, 'shared signals not sent')),
        ]);
    };
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const record = records[next++]!;
        await tell(record).catch((err: unknown) => logger.warn({ err }, 'a revoked session’s RPs not told'));
      }
    };
    await Promise.all(Array.from({ length: Math.min(SESSIONS_AT_ONCE, records.length) }, worker));
  });
}
