/**
 * How boot.ts wires issue #5, in one place (so boot.ts changes by a few lines):
 *
 * - the audit spool directory: `fraud.spoolDir`, else `audit.spoolDir`, else
 *   `var/audit-spool/<hash of the database URL>` (one spool per database URL; survives restarts; records left in
 *   the folder of a URL of before are named in a boot warning: audit/spool-location.ts);
 * - the policy set: `fraud.policies`, else the JSON file `risk.policyFile`, else the defaults;
 *   an invalid file stops the boot (`POLICY_INVALID`);
 * - background work: the stage-4 reprocessing worker (every 2 s; a late suspicious verdict revokes the
 *   session the login let through, through the session revocation API) and audit checkpoints signed with
 *   the audit key (every 60 s).
 */
import { takeLoginForLateVerdict } from '../risk/grant-links.ts';
import { enrolmentKey } from '../session/enrolment-key.ts';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import type { AuditLog, AuditLogOptions } from '../audit/audit-log.ts';
import { startCheckpointer } from '../audit/checkpoint.ts';
import { defaultSpoolDir, waitingElsewhere } from '../audit/spool-location.ts';
import { AuditSpool } from '../audit/spool.ts';
import type { GatewayConfig } from '../config/types.ts';
import { geoipFileResolver } from '../risk/geoip-file.ts';
import { ConfigError } from '../errors.ts';
import { parsePolicySet, type PolicySet } from '../policy/policy-set.ts';
import type { Provider } from 'oidc-provider';
import type { Signer } from '../../hsm/signer.ts';
import type { NetworkResolver } from '../risk/network.ts';
import type { Sessions } from '../session/boot-sessions.ts';
import { sessionOfGrant } from '../session/session-of-grant.ts';
import type { LaggingReads } from '../store/replica-router.ts';
import { FraudService, LATE_VERDICT_REVOKE_ABOVE } from './fraud-service.ts';

/** What the background work needs once the gateway is built (boot.ts hands it over). */
export interface FraudStartDeps {
  fraud: FraudService;
  /** The current oidc-provider generation (a late verdict on a login whose session is gone destroys its grant). */
  provider: () => Provider;
  /** The session store and the revocation API (a late verdict revokes the login's session). */
  sessions: Pick<Sessions, 'store' | 'revoker'>;
  /** The audit key's signer now (checkpoints follow its rotation). */
  auditSigner: () => Signer;
  /** Removes, audited, the WebAuthn keys a login enrolled (a late verdict stopped it); how many. */
  removeKeysOf?: (loginId: string) => Promise<number>;
}

export interface FraudBootOptions {
  policies?: PolicySet;
  budgets?: Partial<Record<string, number>>;
  spoolDir?: string;
  resolver?: NetworkResolver;
  /** Audit checkpoint period (ms; 0 = off). Default 60000. */
  checkpointMs?: number;
  /** Stage-4 reprocessing period (ms; 0 = off). Default 2000. */
  reprocessMs?: number;
}

export function fraudWiring(
  config: GatewayConfig,
  pool: Pool,
  redis: Redis,
  logger: Logger,
  metricsRegistry: Registry,
  options: FraudBootOptions = {},
) {
  const chosen = options.spoolDir ?? config.audit.spoolDir;
  const spoolDir = chosen ?? defaultSpoolDir(config.database.url);
  if (chosen === undefined) {
    // records spooled under a database URL of before wait in that URL's folder, which nothing replays
    const elsewhere = waitingElsewhere(spoolDir);
    if (elsewhere.length > 0)
      logger.warn(
        { code: 'AUDIT_SPOOL_ELSEWHERE', spoolDir, elsewhere },
        'audit records wait in other spool folders, left by stopped processes: those of this database (a URL of before) are replayed once their files are moved into spoolDir',
      );
  }
  let policies = options.policies;
  const file = config.risk.policyFile;
  if (!policies && file) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError('risk.policyFile', `cannot read ${file} as JSON: ${(error as Error).message}`);
    }
    policies = parsePolicySet(raw);
  }
  const auditOptions: AuditLogOptions = {
    spool: new AuditSpool(spoolDir),
    onEvent: (event) => {
      const line = { kind: event.kind, count: event.count, spoolDir, ...(event.error ? { err: event.error } : {}) };
      if (event.kind === 'replayed') logger.info(line, 'audit spool replayed');
      else if (event.kind === 'rejected')
        logger.error(
          line,
          'audit spool lines set aside (rejected-* or foreign-* files in the spool folder): look at them',
        );
      else
        logger.warn(
          line,
          event.kind === 'spooled' ? 'audit record spooled: PostgreSQL unreachable' : 'audit spool replay failed',
        );
    },
  };
  // where an address is: the operator's GeoIP file, else the prefix only, and then two checks cannot fire
  let resolver = options.resolver;
  if (!resolver && config.risk.geoipFile) {
    const loaded = geoipFileResolver(config.risk.geoipFile);
    logger.info({ file: config.risk.geoipFile, ranges: loaded.ranges }, 'GeoIP ranges loaded');
    resolver = loaded;
  } else if (!resolver)
    logger.warn(
      { code: 'RISK_GEOIP_MISSING' },
      'no risk.geoipFile: addresses are known by their prefix only, so impossible travel and new-location checks never fire',
    );
  let fraud: FraudService | undefined;
  return {
    auditOptions,
    services(audit: AuditLog, laggingReads?: LaggingReads): { risk: FraudService['pipeline']; fraud: FraudService } {
      fraud = new FraudService({
        redis,
        pool,
        ...(laggingReads ? { laggingReads } : {}),
        audit,
        logger,
        hashKey: createHmac('sha256', config.secrets.pairwiseSalt).update('risk-feature-hash-v1').digest('base64url'),
        interactionTtl: config.ttl.interaction,
        metricsRegistry,
        overload: config.risk.overload,
        ...(policies ? { policies } : {}),
        ...(resolver ? { resolver } : {}),
        ...(options.budgets ? { budgets: options.budgets } : {}),
      });
      return { risk: fraud.pipeline, fraud };
    },
    /** Starts the background work; returns what stops it. */
    start(deps: FraudStartDeps): () => Promise<void> {
      const f = deps.fraud;
      f.revoker = async (loginId, accountId) => {
        // the login's grant, or, when it has none yet (waiting in a review, a step-up, a browser that has not
        // followed its redirect), a hold that refuses its completion (risk/grant-links.ts) for longer than it can
        // still complete: its interaction's life, and an hour for a review and the queue's delay
        const grantId = await takeLoginForLateVerdict(redis, loginId, config.ttl.interaction + 3_600);
        // nor may the login enrol a WebAuthn key on the account afterwards (its enrolment grant, 10 min), and a key
        // it enrolled already is removed. The removal records the stop in PostgreSQL under the login's lock, which an enrolment takes too before it
        // stores (webauthn/keys-of-a-stopped-login.ts): one that spent its grant just before this verdict stores
        // no key after the removal. The session is revoked whether or not this cleanup worked; a failure of it is
        // thrown at the end, so the verdict is tried again (every step is idempotent).
        const cleanup = await (async () => {
          await redis.del(enrolmentKey(loginId));
          await deps.removeKeysOf?.(loginId);
        })().then(
          () => undefined,
          (error: unknown) => ({ error }),
        );
        const revoked = await revokeTheLoginsSession(loginId, accountId, grantId);
        if (cleanup) throw cleanup.error;
        return revoked;
      };
      const revokeTheLoginsSession = async (loginId: string, accountId: string, grantId: string | undefined) => {
        if (!grantId) return 'refused-before-its-grant' as const;
        // the session the login let through is revoked through the revocation API: every token of it is
        // refused at every instance, its RPs get back-channel logout and CAEP session-revoked
        const uid = await sessionOfGrant(deps.sessions.store, accountId, grantId);
        if (uid) {
          await deps.sessions.revoker.revokeSession(
            { uid },
            { actor: 'fraud', reason: `late correlation verdict on login ${loginId}` },
          );
          return 'session-revoked';
        }
        // no live session holds the grant (any more, or yet: the browser has not followed its redirect to the
        // resume): what it issued still goes, and a result still waiting for the resume is replaced by a refusal,
        // so that the resume neither logs the browser's session in nor issues a code
        const provider = deps.provider();
        const grant = await provider.Grant.find(grantId);
        await grant?.destroy();
        await provider.AccessToken.adapter.revokeByGrantId(grantId);
        const waiting = await provider.Interaction.find(loginId);
        if (waiting?.result && !('error' in waiting.result)) {
          waiting.result = { error: 'access_denied', error_description: 'the sign-in was refused' };
          await waiting.save((waiting.exp ?? 0) - Math.floor(Date.now() / 1000));
        }
        return 'grant-ended';
      };
      const stops: Array<() => Promise<void>> = [];
      if (options.reprocessMs !== 0)
        stops.push(f.startReprocessing(options.reprocessMs ?? 2_000, LATE_VERDICT_REVOKE_ABOVE));
      if (options.checkpointMs !== 0) {
        const anchorFile = config.audit.anchorFile;
        if (anchorFile === undefined)
          logger.warn(
            'audit checkpoints are not anchored outside the database (set audit.anchorFile): audit verify needs an anchor',
          );
        stops.push(
          startCheckpointer(
            pool,
            deps.auditSigner,
            options.checkpointMs ?? 60_000,
            (err) => logger.warn({ err }, 'audit checkpoint failed'),
            anchorFile,
          ),
        );
      }
      return async () => {
        for (const stop of stops) await stop();
      };
    },
  };
}
