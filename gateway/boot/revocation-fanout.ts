/**
 * Every revoked session's RPs are told over the back channel (oidc/backchannel-logout.ts) and, when they
 * registered a receiver, with a CAEP session-revoked SET (oidc/shared-signals/). A SET not sent is logged.
 */
import type { Provider } from 'oidc-provider';
import type { BackchannelLogout } from '../oidc/backchannel-logout.ts';
import { initiatingEntityOf, type SignalTransmitter } from '../oidc/shared-signals/transmitter.ts';
import type { Services } from '../services.ts';

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
    for (const record of records) {
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
    }
  });
}
