/**
 * OIDC-RPL-08 against a locally started gateway: after RP-initiated logout, the session's access token is
 * refused at UserInfo and inactive at introspection, as a security officer's suite observes it over HTTP.
 */
import test from 'ava';
import { runSuite } from '../../conformance/suite/runner.ts';
import { startSuiteDeployment, type SuiteDeployment } from './suite-deployment.ts';

let deployment: SuiteDeployment;
test.before(async () => {
  deployment = await startSuiteDeployment();
});
test.after.always(async () => {
  await deployment?.stop();
});

test('OIDC-RPL-08 passes: the logged-out session’s token is refused', async (t) => {
  const report = await runSuite({
    target: deployment.target,
    plans: ['oidc'],
    only: ['OIDC-BASE-00', 'OIDC-RPL-00', 'OIDC-RPL-08'],
    client: deployment.client,
    idp: deployment.idp,
    progress: () => undefined,
  });
  const result = report.results.find((r) => r.id === 'OIDC-RPL-08');
  t.is(result?.verdict, 'pass', result?.observed ?? result?.reason);
});
