/**
 * WEBAUTHN-ENROL-01 against a locally started gateway: after an ordinary login (and a `prompt=login` one)
 * of the suite user at LoA substantial, the account page is shown (the probe is not vacuous) and every
 * enrolment request is refused. Against the gateway before issue #10 item 10 it failed: an ordinary
 * login was offered a registration ceremony.
 */
import test from 'ava';
import { runSuite } from '../../conformance/suite/runner.ts';
import { startSuiteDeployment, type SuiteDeployment } from './suite-deployment.ts';

let deployment: SuiteDeployment;
test.before(async () => {
  deployment = await startSuiteDeployment({ eidas: false });
});
test.after.always(async () => {
  await deployment?.stop();
});

test('WEBAUTHN-ENROL-01 passes: an ordinary login earns no enrolment, at any level or kind', async (t) => {
  const report = await runSuite({
    target: deployment.target,
    plans: ['oidc'],
    only: ['WEBAUTHN-ENROL-01'],
    client: deployment.client,
    idp: deployment.idp,
  });
  const result = report.results.find((r) => r.id === 'WEBAUTHN-ENROL-01');
  t.is(result?.verdict, 'pass', `${result?.reason ?? ''} ${result?.observed ?? ''}`);
  t.regex(result?.observed ?? '', /account page HTTP 200/);
  t.regex(result?.observed ?? '', /level=2&kind=platform → HTTP 403 WEBAUTHN_ENROLMENT_NOT_ALLOWED/);
});
