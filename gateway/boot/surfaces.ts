/**
 * The small records of the surfaces that do not take the services record (`dependency-rules.cjs` forbids
 * `webauthn/`, `api/` and `admin/` to import it): `SurfaceDeps` of `app.ts` (the fraud routes, WebAuthn) and
 * `OpsAppDeps` of `admin/ops-app.ts` (operators, metrics, readiness, revocations, reviews, IdP status).
 */
import { errors } from 'oidc-provider';
import type { OpsAppDeps } from '../admin/ops-app.ts';
import type { SurfaceDeps } from '../app.ts';
import { finish } from '../completion/finish-login.ts';
import { reviewPage } from '../interaction/review-page.ts';
import { signalsHandler } from '../interaction/signals.ts';
import type { Services } from '../services.ts';
import { DPOP_ALGORITHMS, withProofOf } from '../oidc/proof-of-possession.ts';
import { dpopNonceChecker, dpopNonceSecret } from '../oidc/dpop-nonces.ts';

/**
 * Both records, built from the services record once it exists.
 *
 * @example
 * const { surfaces, ops } = surfaceRecords(services, () => upstreams.monitor?.status() ?? []);
 */
export function surfaceRecords(
  services: Services,
  idpStatus: OpsAppDeps['idpStatus'],
): { surfaces: SurfaceDeps; ops: OpsAppDeps } {
  const { config, logger, redis, pool, keys, holder, flow, logins, audit, accounts, sessions, metrics, hsmPressure } =
    services;
  const behaviourSignals = signalsHandler(services.fraud.behaviour);
  const surfaces = {
    fraudRoutes: {
      signals: (ctx, uid) => behaviourSignals(ctx, services, uid),
      reviewPage: (ctx, uid) => reviewPage(ctx, services, uid),
      assessment: {
        issuer: config.issuer,
        accessToken: (value, proof) =>
          withProofOf(proof, () => holder.provider.AccessToken.find(value)).catch((error: unknown) => {
            if (error instanceof errors.InvalidToken) return { result: 'unproven' as const, proven: false };
            throw error;
          }),
        dpopAlgorithms: DPOP_ALGORITHMS,
        dpopNonces: dpopNonceChecker(dpopNonceSecret(config.secrets)),
        redis,
        pool,
        signer: () => keys.activeSigner('risk_assessment'),
      },
    },
    webauthn: {
      config,
      pool,
      redis,
      flow,
      logins,
      audit,
      accounts,
      logger,
      provider: () => holder.provider,
      finish: (ctx, details, uid, outcome, from, methods) =>
        finish(ctx, services, details, uid, outcome, from, methods),
    },
  } satisfies SurfaceDeps;
  const ops: OpsAppDeps = {
    operators: config.ops.operators,
    logger,
    metrics,
    // read through the services record: a test (or an operator tool) swapping the canary swaps it here too
    readiness: { pool, redis, hsmReady: () => services.hsmReady(), hsmPressure },
    revocations: { revoker: sessions.revoker, audit },
    reviews: {
      flow,
      reviews: services.fraud.reviews,
      decisions: services.fraud.cache,
      riskMetrics: services.fraud.metrics,
      logger,
      level3Approvals: config.ops.review.level3Approvals,
      audit,
    },
    idpStatus,
  };
  return { surfaces, ops };
}
