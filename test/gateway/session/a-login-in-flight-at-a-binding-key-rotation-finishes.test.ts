/**
 * Rotating `secrets.browserBindingKey` with the old key under `secrets.previousBrowserBindingKeys` (a rolling
 * restart): a person at the IdP while the gateway restarts with the new key still finishes the login in the browser
 * that began it. The login's pending request and context keep the binding made with the old key; the restarted
 * gateway compares the browser's cookie under its current key and under each previous one (`browserBindings`).
 * Without the old key listed the same login is refused (`SAML_INRESPONSETO_SESSION_MISMATCH`), as before. Real IdP
 * (samlify), PostgreSQL, Redis and HSM; the gateway stops and starts again on the issuer's port mid-login.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../../harness/deployment.ts';
import { authorizationRequest, discoverRp, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';

// every token this file uses is made before any gateway opens the PKCS#11 module (a later one is not seen)
const tokens = [freshToken(), freshToken()];

/** A login begun on a gateway with the deployment's key, finished on the same gateway restarted with a new key. */
async function loginAcrossARotation(token: ReturnType<typeof freshToken>, listOldKey: boolean) {
  const deployment: Deployment = await prepareDeployment({
    dir: mkdtempSync(join(tmpdir(), 'gw-binding-rotation-')),
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token,
    rpRedirectUri: RP_REDIRECT,
    logLevel: 'silent',
  });
  let running = await startGatewayInProcess(deployment);
  try {
    const rp = await discoverRp(running.url, deployment);
    const request = await authorizationRequest(rp);
    return await loginJourney(request.url, {
      username: 'marie',
      redirectUri: RP_REDIRECT,
      // the person is at the IdP: the gateway restarts with a new binding key
      beforeAcs: async (form) => {
        await running.stop();
        deployment.env.GW_NEW_BROWSER_BINDING_KEY = randomBytes(32).toString('base64url');
        const secrets = deployment.rawConfig.secrets as Record<string, unknown>;
        secrets.browserBindingKey = { env: 'GW_NEW_BROWSER_BINDING_KEY' };
        if (listOldKey) secrets.previousBrowserBindingKeys = [{ env: 'GW_BROWSER_BINDING_KEY' }];
        running = await startGatewayInProcess(deployment);
        return form;
      },
    });
  } finally {
    await running.stop();
    await deployment.stop();
  }
}

test.serial('with the old key listed, a login begun before the rotation finishes after it', async (t) => {
  const journey = await loginAcrossARotation(tokens[0]!, true);
  t.truthy(journey.url.searchParams.get('code'), `the login ended at ${journey.url} ${journey.html.slice(0, 400)}`);
});

test.serial('without it, the same login is refused as another browser’s', async (t) => {
  const journey = await loginAcrossARotation(tokens[1]!, false);
  t.is(journey.url.searchParams.get('code'), null);
  t.regex(`${journey.url} ${journey.html}`, /SAML_INRESPONSETO_SESSION_MISMATCH/);
});
