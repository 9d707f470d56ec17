/**
 * The "policy decision" line of the translation pipeline, written through the gateway's own logger, keeps
 * pino's fields: its numeric `level` is info (30), not the step-up level the line used to pass as `level`
 * (duplicate JSON keys: the last wins, so a shipper filtering on level dropped it), and `pid` is this
 * process's. The step-up level is `stepUpLevel`.
 *
 * The fraud service is replaced by an object that records nothing: what is tested is the log line, and a
 * failure to record is itself logged by the step and would show up here as a second line.
 */
import { Writable } from 'node:stream';
import test from 'ava';
import { createLogger } from '../../../gateway/observability/logger.ts';
import type { Decision } from '../../../gateway/policy/decide.ts';
import type { RiskAssessment } from '../../../gateway/risk/types.ts';
import type { Draft, StepDeps } from '../../../gateway/translation/draft.ts';
import { recordAssessment } from '../../../gateway/translation/steps.ts';

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

async function logDecision(decision: Decision): Promise<Record<string, unknown>[]> {
  const { lines, stream } = capture();
  const assessment: RiskAssessment = { score: 0.4, factors: ['new_device'], stages: [] };
  const draft = {
    loginId: 'login-log-1',
    input: { kind: 'saml' },
    signals: {},
    assessment,
    decision,
  } as unknown as Draft;
  const deps = {
    logger: createLogger('info', 'gateway', stream),
    fraud: { record: async () => undefined },
  } as unknown as StepDeps;
  const result = await recordAssessment(draft, deps);
  if (result !== undefined) throw new Error(`the step refused: ${result.refuse}`);
  await new Promise((resolve) => setImmediate(resolve));
  return lines;
}

for (const [title, decision] of [
  ['a step-up to level 2', { kind: 'step_up', requiredAcr: 'eidas2', reasons: ['NEW_DEVICE'], level: 2 }],
  ['an allow without a level', { kind: 'allow', requiredAcr: 'eidas2', reasons: [] }],
] as const) {
  test(`the policy decision line of ${title} is at pino's info level, with the step-up level beside it`, async (t) => {
    const lines = await logDecision(decision as unknown as Decision);
    t.is(lines.length, 1);
    const [line] = lines;
    t.is(line.msg, 'policy decision');
    t.is(line.level, 30);
    t.is(line.pid, process.pid);
    t.is(line.stepUpLevel, 'level' in decision ? decision.level : 0);
    t.is(line.decision, decision.kind);
  });
}
