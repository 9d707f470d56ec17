/**
 * GET /risk/assessment — the signed assessment a relying party is entitled to: the one of the login behind
 * the access token it presents (`Authorization: Bearer`), and only its own (the token's client).
 * A compact JWS made in the HSM with its own key (purpose `risk_assessment`, published in `/jwks`; never the
 * audit key) (`typ: risk-assessment+jwt`) carrying the score,
 * decision, level, warnings and per-stage outcome, time and degradation — not the factors (they would
 * teach an attacker which signal fired). `RISK_ASSESSMENT_NOT_FOUND` (404) otherwise.
 */
import type { Redis } from 'ioredis';
import type { Context } from 'koa';
import type { Pool } from 'pg';
import type { Signer } from '../../hsm/signer.ts';
import { GatewayError } from '../errors.ts';

/** What the endpoint uses, built once in boot.ts. */
export interface AssessmentDeps {
  /** Our issuer (`iss` of the JWS). */
  issuer: string;
  /** The access token behind a bearer value, in the current oidc-provider generation. */
  accessToken(value: string): Promise<{ grantId?: string | undefined; clientId?: string | undefined } | undefined>;
  /** `risk:grant:<grantId>` → the login (written by completion/finish-login.ts). */
  redis: Pick<Redis, 'get'>;
  /** `risk_assessments`, one row per login. */
  pool: Pick<Pool, 'query'>;
  /** The active `risk_assessment` key in the HSM. */
  signer(): Signer;
}

const b64u = (data: Uint8Array | string) => Buffer.from(data).toString('base64url');

export async function assessmentEndpoint(ctx: Context, deps: AssessmentDeps): Promise<void> {
  const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(ctx.get('authorization'))?.[1];
  if (!token) throw new GatewayError('RISK_ASSESSMENT_NOT_FOUND', 401, 'an access token is required');
  const at = await deps.accessToken(token);
  if (!at || !at.grantId) throw new GatewayError('RISK_ASSESSMENT_NOT_FOUND', 404, 'no assessment for this token');
  const loginId = await deps.redis.get(`risk:grant:${at.grantId}`);
  const { rows } = loginId
    ? await deps.pool.query<{ client_id: string; assessment: Record<string, unknown>; at: Date }>(
        'select client_id, assessment, at from risk_assessments where login_id = $1',
        [loginId],
      )
    : { rows: [] };
  const row = rows[0];
  if (!row || row.client_id !== at.clientId)
    throw new GatewayError('RISK_ASSESSMENT_NOT_FOUND', 404, 'no assessment for this token');
  const a = row.assessment as {
    score: number;
    stages: Array<{ name: string; outcome: string; ms: number; degraded: boolean }>;
    warnings?: string[];
    tier?: number;
    decision: { kind: string; level?: number };
  };
  const signer = deps.signer();
  const header = { alg: signer.alg, kid: signer.kid, typ: 'risk-assessment+jwt' };
  const payload = {
    iss: deps.issuer,
    aud: at.clientId,
    iat: Math.floor(Date.now() / 1000),
    assessed_at: Math.floor(row.at.getTime() / 1000),
    fraud_score: a.score,
    decision: a.decision.kind,
    level: a.decision.level ?? 0,
    tier: a.tier ?? 0,
    warnings: a.warnings ?? [],
    stages: a.stages.map((s) => ({ name: s.name, outcome: s.outcome, ms: s.ms, degraded: s.degraded })),
  };
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  const signature = await signer.sign(Buffer.from(input, 'ascii'));
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'application/jwt';
  ctx.body = `${input}.${b64u(signature)}`;
}
