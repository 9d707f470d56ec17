/**
 * The two look-alike signature checks (SAML-XSW-15, SAML-XSW-16) pass against the gateway, after the
 * baseline (SAML-BASE-00): the message the honest path produces is accepted, the look-alike shapes end
 * without a code. Run alone here (the whole catalogue runs in suite-passes-against-the-gateway.test.ts).
 */
import test from 'ava';
import { runSuite } from '../../conformance/suite/runner.ts';
import { PLANS } from '../../conformance/suite/types.ts';
import { startSuiteDeployment, type SuiteDeployment } from './suite-deployment.ts';

let deployment: SuiteDeployment;
test.before(async () => {
  deployment = await startSuiteDeployment();
});
test.after.always(async () => {
  await deployment?.stop();
});

test('SAML-XSW-15 and SAML-XSW-16 pass against the gateway', async (t) => {
  const report = await runSuite({
    target: deployment.target,
    plans: [...PLANS],
    client: deployment.client,
    idp: deployment.idp,
    only: ['SAML-XSW-15', 'SAML-XSW-16'],
    progress: () => {},
  });
  t.deepEqual(
    report.results.map((r) => `${r.id}: ${r.verdict}`),
    ['SAML-BASE-00: pass', 'SAML-XSW-15: pass', 'SAML-XSW-16: pass'],
    report.results.map((r) => `${r.id}: ${r.observed}`).join('\n'),
  );
});
