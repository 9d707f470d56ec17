/**
 * What the WebAuthn step-up uses, as two small records instead of the services hub (issue #11 item 3):
 *
 * - {@link StepUpDeps}: where the interaction pages hand a login to WebAuthn (step-up.ts); a subset of what
 *   those pages hold, so they pass their own record;
 * - {@link WebAuthnDeps}: the ceremony pages (routes.ts), built once in boot.ts.
 */
import type { Context } from 'koa';
import type { Redis } from 'ioredis';
import type { Provider } from 'oidc-provider';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.ts';
import type { GatewayConfig } from '../config/types.ts';
import type { LoginFlow } from '../flow/login-flow.ts';
import type { AccountStore } from '../oidc/accounts.ts';
import type { LoginContextStore, LoginOutcome } from '../session/login-context.ts';

/** The credentials (PostgreSQL), the flow, the login contexts (and the parked step-ups, sealed), two config sections. */
export interface StepUpDeps {
  config: Pick<GatewayConfig, 'webauthn' | 'saml'>;
  pool: Pool;
  redis: Redis;
  flow: Pick<LoginFlow, 'transition'>;
  logins: Pick<LoginContextStore, 'load' | 'prefetch' | 'holdSealed' | 'peekSealed' | 'takeSealed' | 'dropSealed'>;
}

export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

/** Ends a verified login with the RP (completion/finish-login.ts, bound to its own collaborators in boot.ts). */
export type FinishLogin = (
  ctx: Context,
  details: InteractionDetails,
  uid: string,
  outcome: Extract<LoginOutcome, { status: 'verified' }>,
  from: 'TOKEN_GENERATION',
  stepUpMethods: readonly string[],
) => Promise<void>;

/** The ceremony pages: the step-up's collaborators, plus the audit log, the accounts, the provider and the finish. */
export interface WebAuthnDeps extends StepUpDeps {
  config: Pick<GatewayConfig, 'issuer' | 'webauthn' | 'saml' | 'secrets' | 'cookies'>;
  audit: Pick<AuditLog, 'append' | 'appendWithin'>;
  accounts: Pick<AccountStore, 'load'>;
  logger: Logger;
  /** The current oidc-provider generation (oidc/provider-holder.ts). */
  provider(): Provider;
  finish: FinishLogin;
}
