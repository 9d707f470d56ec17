/**
 * Builds a running gateway from a validated configuration: connects PostgreSQL (and migrates), Redis
 * and the HSM, starts the upstream protocols (their adapters and routes, `idps/start-idps.ts`), builds
 * the first oidc-provider generation, and returns the Koa app with a `close()` that releases it all.
 * Anything missing fails here, at boot, with a clear message.
 */
import { checkOnlyClients } from './idps/idp-clients.ts';
import { removeKeysOfAStoppedLogin } from './webauthn/keys-of-a-stopped-login.ts';
import { createHmac } from 'node:crypto';
import type Koa from 'koa';
import { startUpstreams } from './idps/start-idps.ts';
import { LifecycleKeyStore, type LifecycleTimes } from '../hsm/lifecycle/lifecycle-keystore.ts';
import { PgKeyRecords } from '../hsm/lifecycle/pg-key-records.ts';
import { DEFAULT_ROTATION_POLICY, type RotationRule } from '../hsm/lifecycle/rotation-plan.ts';
import { openKeyStore } from '../hsm/token-keystore.ts';
import { selfSignedCertificate } from '../hsm/x509.ts';
import { createApp } from './app.ts';
import { createOpsApp } from './admin/ops-app.ts';
import { KeyLifecycle } from './keys/key-lifecycle.ts';
import { RotationScheduler } from './keys/rotation-scheduler.ts';
import { AuditLog } from './audit/audit-log.ts';
import type { GatewayConfig } from './config/types.ts';
import { LoginFlow } from './flow/login-flow.ts';
import { LoginContextStore } from './session/login-context.ts';
import { startSessions } from './session/boot-sessions.ts';
import { AccountStore } from './oidc/accounts.ts';
import { ProviderHolder } from './oidc/provider-holder.ts';
import { buildProvider } from './oidc/provider.ts';
import { silentSso, ssoAtAuthorization, standingOf } from './completion/sso.ts';
import { refreshRefusals } from './boot/refresh-refusals.ts';
import { BackchannelLogout } from './oidc/backchannel-logout.ts';
import { InFlight } from './oidc/in-flight.ts';
import { pingAtBoot } from './store/ping-at-boot.ts';
import { PushDelivery } from './oidc/shared-signals/push-delivery.ts';
import { SignalTransmitter } from './oidc/shared-signals/transmitter.ts';
import { observeProviderErrors } from './oidc/error-events.ts';
import { routeLibraryNotices } from './oidc/library-notices.ts';
import { observeIgnoredScopes } from './oidc/ignored-scopes.ts';
import { SectorIdentifiers } from './oidc/sector-identifiers.ts';
import type { Provider } from 'oidc-provider';
import { createLogger } from './observability/logger.ts';
import { GatewayMetrics } from './observability/gateway-metrics.ts';
import { newRegistry } from './observability/metrics.ts';
import { HsmPressure } from './observability/hsm-pressure.ts';
import { redisWatch } from './observability/redis-watch.ts';
import { replicaWatch } from './observability/replica-watch.ts';
import { shareWithClusterPrimary } from './observability/cluster-metrics.ts';
import { observeAppends } from './audit/observe-appends.ts';
import { observeTransitions } from './flow/observe-transitions.ts';
import { fraudWiring, type FraudBootOptions } from './translation/boot-fraud.ts';
import type { Services } from './services.ts';
import { migrate } from './store/migrate.ts';
import { auditTrailWritableBy } from './store/runtime-role.ts';
import { createPool } from './store/postgres.ts';
import { startReplicaReads } from './store/replica-reads.ts';
import { closeRedis, createRedis } from './store/redis.ts';
import { RedisStateStore } from './store/redis-state-store.ts';
import { upstreamLogoutInProvider } from './interaction/upstream-logout-in-provider.ts';
import { requireClientKeys, warnOfSharedAccessTokenKeys } from './boot/client-keys.ts';
import { tellRpsAddedDuringLogout } from './boot/logout-late-rps.ts';
import { tellRpsOfRevocations } from './boot/revocation-fanout.ts';
import { surfaceRecords } from './boot/surfaces.ts';
import { longestRecordSeconds, sessionLifeSeconds } from './session/session-life.ts';

export interface Gateway {
  /** The public listener's app (OIDC, the upstream protocols' routes, pages, /health). */
  app: Koa;
  /** The operations listener's app (admin API, /metrics, /ready); listened on only when `ops.enabled`. */
  opsApp: Koa;
  services: Services;
  close(): Promise<void>;
}

export interface BootOptions {
  /** The first retry of a sector identifier document the boot could not reach, ms (tests; default 30 s). */
  sectorRetryMs?: number;
  logger?: Services['logger'];
  /** Key lifecycle times; retention defaults to the longest session/token lifetime + 5 minutes. */
  keyTimes?: Partial<LifecycleTimes>;
  /** Scheduled rotation rules (default DEFAULT_ROTATION_POLICY) and the scheduler tick (default 60 s; 0 = off). */
  rotation?: { policy?: readonly RotationRule[]; intervalMs?: number };
  /** How often an instance polls the key-set version (default 500 ms). */
  keyPollMs?: number;
  /** How long the key-set reload may fail on an unreachable PostgreSQL before it is logged as an error (default 30 s). */
  keyReloadEscalateMs?: number;
  /** Fraud pipeline, policy, audit spool and admin API settings (issue #5; defaults in risk/boot-fraud.ts). */
  fraud?: FraudBootOptions;
  /** How often the IdPs' enabled state is matched to the durable registry (default 30 s: idps/control.ts). */
  idpReconcileMs?: number;
}

export async function bootGateway(config: GatewayConfig, options: BootOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.logging.level);
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (error) {
        logger.warn({ err: error }, 'shutdown step failed');
      }
    }
    closers.length = 0;
  };
  try {
    const metrics = new GatewayMetrics(newRegistry({ processMetrics: true }));
    shareWithClusterPrimary(metrics.registry); // a no-op unless this process is a cluster worker
    const stopNotices = routeLibraryNotices(logger);
    closers.push(async () => stopNotices());
    // sector_identifier_uri documents first: a client whose document fails is refused (its logins), never the boot
    const sectors = await SectorIdentifiers.start({
      clients: config.clients,
      ...config.sectorIdentifiers,
      ...(options.sectorRetryMs === undefined ? {} : { unreachedRetryMs: options.sectorRetryMs }),
      logger,
      // awaited by refresh(): the audit record is written before a refresh resolves; a failure is logged there
      onChange: async (change) => {
        logger[change.errorCode ? 'error' : 'info'](
          {
            code: change.errorCode ?? undefined,
            client_id: change.clientId,
            sector_identifier_uri: change.uri,
            detail: change.detail,
          },
          change.errorCode
            ? 'client refused: sector identifier document not valid or not reachable'
            : 'client restored: sector identifier document valid again',
        );
        await audit.append({
          sessionId: `client:${change.clientId}`,
          from: null,
          to: change.errorCode ?? 'SECTOR_IDENTIFIER_VALID',
          component: 'oidc',
          ...(change.errorCode ? { errorCode: change.errorCode } : {}),
          details: { sector_identifier_uri: change.uri, detail: change.detail },
        });
      },
    });
    closers.push(() => sectors.stop());
    const pool = createPool(config.database.url);
    closers.push(() => pool.end());
    await migrate(pool, (line) => logger.info(line));
    // the audit trail's triggers bind every role but the tables' owner (store/runtime-role.ts)
    const rewriter = await auditTrailWritableBy(pool).catch(() => undefined);
    if (rewriter !== undefined)
      logger.warn(
        { code: 'AUDIT_LOG_OWNED_BY_GATEWAY', why: rewriter },
        'the gateway can rewrite the audit trail written since its last checkpoint: run it as a role apart from the owner (README, database roles)',
      );
    const laggingReads = startReplicaReads(config.database, pool, replicaWatch(metrics.registry, logger), closers);

    const redisWatcher = redisWatch(metrics.registry, logger);
    const redis = createRedis({
      ...config.redis,
      onError: (err) => logger.error({ err: err.message }, 'redis unavailable'),
      onUnavailable: (command) => redisWatcher.unavailable(command),
    });
    redisWatcher.watch(redis);
    closers.push(() => closeRedis(redis));
    await pingAtBoot(redis);

    const tokens = await openKeyStore({
      library: config.hsm.library,
      tokenLabel: config.hsm.tokenLabel,
      pin: config.hsm.pin,
      poolSize: config.hsm.poolSize,
      maxWaiting: config.hsm.maxWaiting,
      acquireTimeoutMs: config.hsm.acquireTimeoutMs,
      onSign: (o) => metrics.hsmSigned(o),
    });
    closers.push(async () => tokens.close());
    for (const refused of tokens.refusedKeys)
      logger.error(
        { code: 'HSM_KEY_PROVENANCE', label: refused.label, detail: refused.detail },
        'a key on the token never signs: it was not generated there as a key nobody can read (destroy it)',
      );
    const actor = `gateway:${process.pid}`;
    // a retired key stays published as long as anything it signed may still be presented: an ID token as a logout's
    // id_token_hint while its session lives (up to twice ttl.session: session/session-life.ts), an access token, a grant
    const retentionMs =
      (Math.max(sessionLifeSeconds(config.ttl), config.ttl.idToken, config.ttl.accessToken, config.ttl.grant) + 300) *
      1000;
    const keys = await LifecycleKeyStore.open({
      tokens,
      records: new PgKeyRecords(pool),
      actor,
      times: { retentionMs, ...options.keyTimes },
    });
    for (const label of keys.unrecordedKeys)
      logger.warn(
        { code: 'HSM_KEY_UNRECORDED', label },
        'a key on the token has no lifecycle record: it neither signs nor is published until one names it (a `generate` under way records it; else `node hsm/cli.ts generate` keys instead of `init`)',
      );
    requireClientKeys(config.clients, keys, logger);

    const upstreams = await startUpstreams({
      config,
      pool,
      redis,
      logger,
      ...(options.idpReconcileMs === undefined ? {} : { reconcileMs: options.idpReconcileMs }),
      deps: {
        context: {
          keys,
          state: new RedisStateStore(redis),
          digestKey: adapterDigestKey(config.secrets.pairwiseSalt),
          baseUrl: config.issuer,
          now: () => new Date(),
        },
        tokens,
        logger,
        onMetadataEvent: (event) => metrics.metadataEvent(event),
        certificateOf: (signer, subject) =>
          keys.certificate(signer.kid, () => selfSignedCertificate(signer, { subject, days: 365 })),
      },
    });
    closers.push(() => upstreams.stop());
    const { adapters } = upstreams;
    checkOnlyClients(
      adapters.list(),
      config.clients.map((c) => c.client_id),
    );
    metrics.watchIdps(() => upstreams.monitor?.status() ?? []);
    metrics.watchSpMetadata(() => upstreams.publishedValidUntil());

    const wiring = fraudWiring(config, pool, redis, logger, metrics.registry, options.fraud);
    const audit = new AuditLog(pool, wiring.auditOptions);
    closers.push(() => audit.close());
    // deliveries to RPs under way (back-channel logout, Shared Signals) write their outcome to the audit log: waited
    // for after the session store closed (no revocation starts one then), before the audit log and the HSM close
    const deliveries = new InFlight();
    closers.push(async () => {
      const left = await deliveries.drain();
      if (left > 0)
        logger.warn(
          { code: 'DELIVERIES_CUT_SHORT', left },
          'deliveries to RPs still under way at close: their outcome may not be audited',
        );
    });
    // the sector checks audit what they find: stopped (a check under way finished) before the audit log closes
    closers.push(() => sectors.stop());
    await sectors.reportBootVerdicts();
    audit.startReplayer(1_000);
    const flow = observeTransitions(
      new LoginFlow({
        redis,
        audit: observeAppends(audit, (record) => metrics.transition(record.to)),
        onSweepError: (err) => logger.warn({ err }, 'flow sweep failed'),
      }),
      (to, seconds) => metrics.loginEnded(to, seconds),
    );
    flow.startSweeper(5_000);
    closers.push(async () => flow.stopSweeper());
    const sessions = await startSessions({
      token: tokens.token,
      pool,
      redis,
      logger,
      audit,
      registry: metrics.registry,
      channel: `${config.redis.keyPrefix}sessions:revoked`,
      maxTtlSeconds: longestRecordSeconds(config.ttl),
      redisCommandTimeoutMs: config.redis.commandTimeoutMs,
      actor,
      timers: true,
    });
    closers.push(() => sessions.close());
    // a person's record, and each login's identity in it, as long as a session standing on that login may live
    const accounts = new AccountStore(sessions.store, sessionLifeSeconds(config.ttl));
    let rebuild = (): void => undefined;
    const lifecycle = await KeyLifecycle.start({
      keys,
      pool,
      redis,
      logger,
      actor,
      pollMs: options.keyPollMs,
      escalateAfterMs: options.keyReloadEscalateMs,
      channel: `${config.redis.keyPrefix}keys:version`,
      onChange: () => rebuild(),
    });
    closers.push(() => lifecycle.close());
    // Shared Signals: CAEP events to the RPs that registered a receiver (oidc/shared-signals/)
    const pushes = new PushDelivery({ audit, registry: metrics.registry, inFlight: deliveries });
    const signals = new SignalTransmitter({
      issuer: config.issuer,
      clients: config.clients,
      keys,
      pairwiseSalt: config.secrets.pairwiseSalt,
      delivery: pushes,
      inFlight: deliveries,
    });
    const observe = (provider: Provider) => {
      observeProviderErrors(provider, logger, (record) => audit.append({ ...record, from: null }), metrics.registry);
      observeIgnoredScopes(provider, logger);
      signals.install(provider, (err) => logger.warn({ err }, 'shared signals not sent'));
      // Single Logout upstream: each login's upstream session linked to its gateway session; RP-initiated logout
      // ends the upstream session too
      provider.use(upstreamLogoutInProvider(() => services));
      // an RP another request added while a logout ran is told too (its back-channel token, its CAEP event)
      provider.use(tellRpsAddedDuringLogout({ sessions, backchannel, signals, logger }));
    };
    // what a refresh re-runs (oidc/refresh-policy.ts): the RP's deny level, read when a refresh happens
    const refresh = refreshRefusals({
      accounts,
      sessions,
      audit,
      policies: () => services.fraud.policies,
      adapters,
      sectors,
    });
    const backchannel = new BackchannelLogout({ audit, registry: metrics.registry, inFlight: deliveries });
    const holder = new ProviderHolder(() =>
      buildProvider({
        config,
        keys,
        redis,
        accounts,
        durable: sessions.models,
        clientAlgorithms: lifecycle.clientAlgorithms,
        observe,
        refresh,
        backchannel,
        // every request on a session is a login of its own (completion/sso.ts); services exist by the first request
        sso: {
          mayStand: async (ctx) => (await standingOf(ctx, services)) !== null,
          silent: (ctx) => silentSso(ctx, services),
          atAuthorization: (ctx, interaction) => ssoAtAuthorization(ctx, services, interaction),
        },
      }),
    );
    rebuild = () => {
      warnOfSharedAccessTokenKeys(config.clients, keys, logger);
      void holder.rebuild();
    };
    tellRpsOfRevocations({ sessions, backchannel, signals, provider: () => holder.provider, logger });
    const scheduler = new RotationScheduler({
      lifecycle,
      pool,
      logger,
      policy: options.rotation?.policy ?? DEFAULT_ROTATION_POLICY,
      intervalMs: options.rotation?.intervalMs,
    });
    if (options.rotation?.intervalMs !== 0) scheduler.start();
    closers.push(() => scheduler.stop());
    const canary = new Uint8Array([0]);
    const hsmReady = async () => (await keys.activeSigner('id_token').sign(canary)).length > 0;
    const logins = new LoginContextStore(redis, config.ttl.interaction, sessions.cipher);
    const hsmPressure = new HsmPressure(() => tokens.token.stats(), config.hsm.shedQueueDepth, metrics.registry);
    const services: Services = {
      config,
      logger,
      redis,
      pool,
      keys,
      lifecycle,
      holder,
      adapters,
      flow,
      audit,
      accounts,
      sessions,
      ...wiring.services(audit, laggingReads),
      logins,
      hsmReady,
      hsmPressure,
      upstreamRoutes: upstreams.routes,
      metrics,
      sectors,
    };
    closers.push(
      wiring.start({
        fraud: services.fraud,
        provider: () => holder.provider,
        sessions,
        auditSigner: () => keys.activeSigner('audit'),
        removeKeysOf: (loginId) => removeKeysOfAStoppedLogin(pool, audit, loginId),
      }),
    );
    const { surfaces, ops } = surfaceRecords(services, () => upstreams.monitor?.status() ?? []);
    const opsApp = createOpsApp(ops);
    // pushed last, so stopped first: the shedder audits its changes and the audit log closes before it otherwise
    const app = createApp(services, surfaces, (closer) => closers.push(closer));
    return { app, opsApp, services, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The adapters' digest key (`AdapterContext.digestKey`): HMAC(pairwise salt, label), as the risk side derives its
 * feature-hash key from the same secret (translation/boot-fraud.ts); the label keeps the two apart.
 */
export function adapterDigestKey(pairwiseSalt: string): Buffer {
  return createHmac('sha256', pairwiseSalt).update('adapter-state-digest-v1').digest();
}
