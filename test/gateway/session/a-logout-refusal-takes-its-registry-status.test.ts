/**
 * A refused IdP logout message is answered with its code's status in the error registry, not a blanket 400:
 * a refusal of the message itself is a 400 with its code. (The HSM failing to sign our answer is no refusal of
 * the message: a 503 `HSM_BUSY`, a-logout-answer-the-hsm-cannot-sign-now-is-a-503.test.ts.)
 */
import test from 'ava';
import { errorSpec } from '../../../gateway/error-registry.ts';
import { startGatewayFixture } from '../../helpers/gateway-fixture.ts';

const codeOf = (html: string) => /<code>([A-Z0-9_]+)<\/code>/.exec(html)?.[1];

test('a refused IdP logout message: its registry status and code', async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const garbled = await fetch(`${fx.url}/saml/slo`, {
    method: 'POST',
    body: new URLSearchParams({ SAMLRequest: Buffer.from('<not-saml/>').toString('base64') }),
    redirect: 'manual',
  });
  const code = codeOf(await garbled.text());
  t.truthy(code);
  t.is(garbled.status, errorSpec(code as Parameters<typeof errorSpec>[0]).status);
  t.is(garbled.status, 400);
});
