/**
 * A login queued for stage 4's reprocessing as its degraded mode queues it, on a device the correlation windows
 * (seeded through the real stage) have seen with seven other identities: the late verdict is suspicious, the
 * stage's own, not a stand-in.
 */
import { CorrelationStage } from '../../../gateway/risk/correlation-stage.ts';
import type { Services } from '../../../gateway/services.ts';

/**
 * @example await queueOnAFarmedDevice(bed.gateway.services, loginId, accountId, 'farm-1');
 */
export async function queueOnAFarmedDevice(
  services: Pick<Services, 'redis' | 'fraud'>,
  loginId: string,
  accountId: string,
  device: string,
): Promise<void> {
  const correlation = new CorrelationStage(services.redis);
  const signals = (id: string, account: string) => ({
    loginId: id,
    clientId: 'demo-rp',
    idp: 'demo-idp',
    accountId: account,
    ip: '127.0.0.1',
    userAgent: 'test',
    acr: 'eidas2',
    deviceId: device,
  });
  for (let i = 0; i < 7; i += 1) await correlation.evaluate(signals(`${device}-${i}`, `${device}-victim-${i}`));
  await services.fraud.reprocess.enqueue(signals(loginId, accountId));
}
