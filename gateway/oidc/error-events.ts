/**
 * Every error oidc-provider answers is seen: one structured log line per error event (`error`,
 * `error_description`, `client_id`, the request id), counted by event and OAuth error
 * (`gateway_oidc_errors_total`: a client stuck on `use_dpop_nonce`, a wave of `invalid_grant`), and an audit record for each refused second
 * presentation of a one-time artefact (code, refresh token, `request_uri`, DPoP proof or client assertion
 * `jti`) — the trace of a stolen code or a replay attempt — and for each login refused because another request
 * ended or revoked its session meanwhile (`SESSION_CLOSED_MEANWHILE`).
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { declareCounter } from '../observability/metrics.ts';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import { markProtocolStep } from '../http/protocol-step.ts';

/** What a refused reuse writes; the sink is the audit log (wired in boot.ts). */
export interface ReuseRecord {
  sessionId: string;
  to: 'OIDC_ARTIFACT_REUSED' | 'SESSION_CLOSED_MEANWHILE';
  component: 'oidc';
  errorCode: 'OIDC_ARTIFACT_REUSED' | 'SESSION_CLOSED_MEANWHILE';
  requestId?: string;
  details: Record<string, unknown>;
}

/** oidc-provider's error events (each emitted with `(ctx, error)`). */
const ERROR_EVENTS = [
  'authorization.error',
  'backchannel.error',
  'challenge.error',
  'discovery.error',
  'end_session.error',
  'end_session_confirm.error',
  'end_session_success.error',
  'grant.error',
  'introspection.error',
  'jwks.error',
  'pushed_authorization_request.error',
  'registration_create.error',
  'registration_delete.error',
  'registration_read.error',
  'registration_update.error',
  'revocation.error',
  'server_error',
  'userinfo.error',
] as const;

/** Refusals that mean "this one-time artefact was already presented". */
const REUSE = /already (consumed|used)|Replay detected|must only be used once/i;

interface OidcError {
  error?: string;
  error_description?: string;
  /** oidc-provider's precise reason (its `error_description` is generic). */
  error_detail?: string;
  /** The gateway's own reason, logged and audited, never sent (e.g. a session closed meanwhile: by a logout or a revocation). */
  reason?: string;
  status?: number;
  message?: string;
}

/**
 * @example
 * observeProviderErrors(provider, logger, (record) => audit.append({ ...record, from: null }));
 */
export function observeProviderErrors(
  provider: Provider,
  logger: Logger,
  onReuse: (record: ReuseRecord) => Promise<void>,
  registry?: Registry,
): void {
  const emitter = provider as unknown as NodeJS.EventEmitter;
  const counted =
    registry &&
    declareCounter(registry, 'gateway_oidc_errors_total', 'OIDC errors answered, by event and OAuth error', [
      'event',
      'error',
    ]);
  for (const event of ERROR_EVENTS) {
    emitter.on(event, (ctx: KoaContextWithOIDC, error: OidcError) => {
      // an OAuth error code is one of a small set; anything else is counted as `other` (bounded labels)
      counted?.inc({ event, error: /^[a-z_]{1,48}$/.test(error.error ?? '') ? error.error! : 'other' });
      const requestId = String(ctx.res.getHeader('x-request-id') ?? '') || undefined;
      const clientId = ctx.oidc?.client?.clientId;
      const line = {
        event,
        error: error.error ?? 'server_error',
        error_description: error.error_description ?? error.message,
        error_detail: error.error_detail,
        reason: error.reason,
        client_id: clientId,
        status: error.status,
        requestId,
      };
      if (event === 'server_error') logger.error({ ...line, err: error }, 'oidc error');
      // a DPoP nonce handed to a client (dpop-nonces.ts): a protocol step, not a failure for the rate limiter
      // (http/protocol-step.ts). A client without one: debug. A proof whose nonce was refused (stale, another
      // secret's, made up): info, so that a client stuck on it, or a fleet whose instances hold different nonce
      // secrets, shows in the logs.
      else if (error.error === 'use_dpop_nonce') {
        markProtocolStep(ctx.res, 'use_dpop_nonce');
        if (/invalid nonce/i.test(line.error_description ?? '')) logger.info(line, 'oidc: DPoP nonce refused');
        else logger.debug(line, 'oidc: DPoP nonce asked for');
      } else logger.warn(line, 'oidc error');
      if (error.error_detail === 'SESSION_CLOSED_MEANWHILE') {
        // a login whose session another request closed meanwhile: its code was not handed out (request-writes-together.ts)
        const loginId = ctx.oidc?.entities?.Interaction?.uid;
        onReuse({
          sessionId: loginId ?? `client:${clientId ?? 'unknown'}`, // the login's own trail (its id)
          to: 'SESSION_CLOSED_MEANWHILE',
          component: 'oidc',
          errorCode: 'SESSION_CLOSED_MEANWHILE',
          requestId,
          details: { event, error: error.error, detail: error.reason ?? error.error_description, clientId },
        }).catch((failure: unknown) => logger.error({ err: failure, requestId }, 'audit of a closed session failed'));
        return;
      }
      if (!REUSE.test(`${error.error_detail ?? ''} ${error.error_description ?? ''} ${error.message ?? ''}`)) return;
      const grantId = ctx.oidc?.entities?.AuthorizationCode?.grantId ?? ctx.oidc?.entities?.RefreshToken?.grantId;
      const record: ReuseRecord = {
        sessionId: grantId ? `grant:${grantId}` : `client:${clientId ?? 'unknown'}`,
        to: 'OIDC_ARTIFACT_REUSED',
        component: 'oidc',
        errorCode: 'OIDC_ARTIFACT_REUSED',
        requestId,
        details: { event, error: error.error, detail: error.error_detail ?? error.error_description, clientId },
      };
      onReuse(record).catch((failure: unknown) =>
        logger.error({ err: failure, requestId }, 'audit of a reused artefact failed'),
      );
    });
  }
  // an error that left oidc-provider's own handler (thrown by a middleware of ours mounted inside it, or a client
  // that hung up mid-body): Koa printed it to stderr, a multi-line stack outside the JSON log; now one line here
  emitter.on('error', (error: Error & { status?: number; expose?: boolean }, ctx?: KoaContextWithOIDC) => {
    if (error.status === 404 || error.expose) return;
    const requestId = ctx ? String(ctx.res.getHeader('x-request-id') ?? '') || undefined : undefined;
    logger.warn({ err: error, requestId }, 'oidc-provider request failed outside its error handler');
  });
}
