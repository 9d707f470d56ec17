/**
 * What happens when a risk stage fails (issue #11 item 6): its degraded mode ran (pipeline.ts), and here the
 * failure is
 *
 * - logged with its cause (warn; `error` when the degraded mode failed too),
 * - audited on the login's session with a registered code (`RISK_STAGE_LATE`, `RISK_STAGE_FAILED`,
 *   `RISK_FALLBACK_FAILED`); an audit record that cannot be written fails the assessment (fail closed),
 * - counted (`gateway_risk_stage_failures_total{stage,reason}`).
 */
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.ts';
import type { GatewayErrorCode } from '../error-registry.ts';
import type { RiskMetrics } from './metrics.ts';
import type { StageFailure } from './pipeline.ts';
import type { RiskSignals } from './types.ts';

const CODE: Readonly<Record<StageFailure['reason'], GatewayErrorCode>> = {
  late: 'RISK_STAGE_LATE',
  error: 'RISK_STAGE_FAILED',
  fallback_error: 'RISK_FALLBACK_FAILED',
};

/**
 * @example
 * new RiskPipeline(stages, { onFailure: stageFailureReporter({ audit, logger, metrics }) });
 */
export function stageFailureReporter(deps: {
  audit: Pick<AuditLog, 'append'>;
  logger: Logger;
  metrics: RiskMetrics;
}): (failure: StageFailure, signals: RiskSignals) => Promise<void> {
  return async (failure, signals) => {
    const errorCode = CODE[failure.reason];
    deps.metrics.inc('risk_stage_failures_total', { stage: failure.stage, reason: failure.reason });
    deps.logger[failure.reason === 'fallback_error' ? 'error' : 'warn'](
      {
        loginId: signals.loginId,
        stage: failure.stage,
        code: errorCode,
        fallback: failure.fallback,
        err: failure.cause,
      },
      'risk stage failed',
    );
    await deps.audit.append({
      sessionId: signals.loginId,
      from: null,
      to: 'RISK_STAGE_DEGRADED',
      component: 'risk',
      errorCode,
      details: {
        stage: failure.stage,
        reason: failure.reason,
        ...(failure.fallback ? { fallback: failure.fallback } : {}),
      },
    });
  };
}
