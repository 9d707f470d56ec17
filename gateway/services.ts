/**
 * The wiring record of the interaction pages (`interaction/`) and the completion step (`completion/`), built
 * once at boot (boot.ts); also what tests read of a booted gateway (`Gateway.services`). Shrinking: the
 * WebAuthn pages (`webauthn/deps.ts`), the RP-facing APIs (`api/`), the operations listener (`admin/`), the
 * readiness probe and the fraud wiring take their own small records, built in boot.ts.
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { AdapterRegistry } from '../adapters/registry.ts';
import type { KeyStore } from '../hsm/signer.ts';
import type { AdapterRoute } from '../adapters/contract/routes.ts';
import type { AuditLog } from './audit/audit-log.ts';
import type { GatewayConfig } from './config/types.ts';
import type { LoginFlow } from './flow/login-flow.ts';
import type { KeyLifecycle } from './keys/key-lifecycle.ts';
import type { AccountStore } from './oidc/accounts.ts';
import type { ProviderHolder } from './oidc/provider-holder.ts';
import type { RiskPipeline } from './risk/pipeline.ts';
import type { FraudService } from './translation/fraud-service.ts';
import type { LoginContextStore } from './session/login-context.ts';
import type { Sessions } from './session/boot-sessions.ts';
import type { GatewayMetrics } from './observability/gateway-metrics.ts';
import type { HsmPressure } from './observability/hsm-pressure.ts';
import type { SectorIdentifiers } from './oidc/sector-identifiers.ts';

export interface Services {
  config: GatewayConfig;
  logger: Logger;
  redis: Redis;
  pool: Pool;
  keys: KeyStore;
  /** Key lifecycle of this instance: records, rotations, per-client algorithms, convergence. */
  lifecycle: KeyLifecycle;
  holder: ProviderHolder;
  adapters: AdapterRegistry;
  flow: LoginFlow;
  audit: AuditLog;
  accounts: AccountStore;
  /** The two-tier session store, the token guard and the revocation API (session/boot-sessions.ts). */
  sessions: Sessions;
  risk: RiskPipeline;
  /** The fraud pipeline's stores, policy, decision cache, review queue and metrics (issue #5). */
  fraud: FraudService;
  logins: LoginContextStore;
  /** Checks the HSM answers (a canary signature); used by /ready (operations listener). */
  hsmReady: () => Promise<boolean>;
  /** The HSM session pool's queue depth, saturation and session loss (gauges, shedding, /ready). */
  hsmPressure: HsmPressure;
  /** The routes the upstream protocols declared (their answers to logins, documents, other endpoints). */
  upstreamRoutes: AdapterRoute[];
  /** Prometheus metrics of this instance (GET /metrics); the fraud counters are included. */
  metrics: GatewayMetrics;
  /** Clients' sector_identifier_uri documents, checked at boot and on refresh (oidc/sector-identifiers.ts). */
  sectors: SectorIdentifiers;
}
