/**
 * GET /risk/assessment — the signed assessment a relying party is entitled to: the one of the login behind
 * the access token it presents (`Authorization: Bearer`), and only its own (the token's client).
 * A compact JWS made in the HSM with its own key (purpose `risk_assessment`, published in `/jwks`; never the
 * audit key) (`typ: risk-assessment+jwt`) carrying the score,
 * decision, level, warnings and per-stage outcome, time and degradation — not the factors (they would
 * teach an attacker which signal fired). `RISK_ASSESSMENT_NOT_FOUND` (404) otherwise.
 */
import type { Context } from 'koa';
import { GatewayError } from '../errors.ts';
import type { Services } from '../services.ts';

const b64u = (data: Uint8Array | string) => Buffer.from(data).toString('base64url');

export async function assessmentEndpoint(ctx: Context, services: Services): Promise<void> {
  const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(ctx.get('authorization'))?.[1];
  if (!token) throw new GatewayError('RISK_ASSESSMENT_NOT_FOUND', 401, 'an access token is required');
  const at = await services.holder.provider.AccessToken.find(token);
  if (!at || !at.grantId) throw new GatewayError('RISK_ASSESSMENT_NOT_FOUND', 404, 'no assessment for this token');
  const loginId = await services.redis.get(`risk:grant:${at.grantId}`);
  const { rows } = loginId
    ? await services.pool.query<{ client_id: string; assessment: Record<string, unknown>; at: Date }>(
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
  const signer = services.keys.activeSigner('risk_assessment');
  const header = { alg: signer.alg, kid: signer.kid, typ: 'risk-assessment+jwt' };
  const payload = {
    iss: services.config.issuer,
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
