/**
 * Hostile or broken SAML responses, sent through the whole gateway: each is rejected with its own stable
 * code, the rejection is audited, and no authorization code is ever issued. When the login is known the
 * RP gets `error=access_denied` with its `state` and `iss`; otherwise the browser gets a generic page.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { Browser } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';
import type { Form } from '../helpers/browser.ts';
import type { ResponseOverrides } from '../../conformance/saml-idp/build-response.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(async () => {
  await fx?.stop();
});
test.afterEach.always(() => {
  fx.deployment.idp.setResponseOverrides(undefined);
});

function mutateXml(form: Form, change: (xml: string) => string): Form {
  const xml = Buffer.from(form.fields.SAMLResponse!, 'base64').toString('utf8');
  const changed = change(xml);
  return { ...form, fields: { ...form.fields, SAMLResponse: Buffer.from(changed, 'utf8').toString('base64') } };
}

async function codesIssued(): Promise<number> {
  const keys = await fx.gateway.services.redis.keys(
    `${fx.gateway.services.config.redis.keyPrefix}oidc:AuthorizationCode:*`,
  );
  return keys.length;
}

async function lastAuditCode(): Promise<string | null> {
  const { rows } = await fx.gateway.services.pool.query(
    'select error_code from audit_log where error_code is not null order by id desc limit 1',
  );
  return rows[0]?.error_code ?? null;
}

async function expectDeniedToRp(
  t: ExecutionContext,
  code: string,
  options: { overrides?: ResponseOverrides; beforeAcs?: (form: Form) => Form },
) {
  if (options.overrides) fx.deployment.idp.setResponseOverrides(options.overrides);
  const before = await codesIssued();
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, {
    username: 'marie',
    redirectUri: RP_REDIRECT,
    beforeAcs: options.beforeAcs,
  });
  t.true(journey.url.toString().startsWith(RP_REDIRECT), `the RP is told (ended at ${journey.url})`);
  t.is(journey.url.searchParams.get('error'), 'access_denied');
  t.is(journey.url.searchParams.get('state'), request.state);
  t.is(journey.url.searchParams.get('iss'), fx.url);
  t.is(journey.url.searchParams.get('code'), null);
  t.is(await lastAuditCode(), code);
  t.is(await codesIssued(), before, 'no authorization code exists');
}

test.serial('a tampered assertion (attribute changed after signing) is SAML_SIGNATURE_INVALID', async (t) => {
  await expectDeniedToRp(t, 'SAML_SIGNATURE_INVALID', {
    beforeAcs: (f) => mutateXml(f, (x) => x.replace('>Marie<', '>Mallory<')),
  });
});

test.serial('a response whose signature was removed is SAML_SIGNATURE_MISSING', async (t) => {
  await expectDeniedToRp(t, 'SAML_SIGNATURE_MISSING', {
    beforeAcs: (f) => mutateXml(f, (x) => x.replace(/<(ds:)?Signature[\s\S]*?<\/(ds:)?Signature>/, '')),
  });
});

test.serial('a wrong Audience is SAML_AUDIENCE_INVALID', async (t) => {
  await expectDeniedToRp(t, 'SAML_AUDIENCE_INVALID', { overrides: { audience: 'https://other-sp.example/metadata' } });
});

test.serial('a wrong Destination is SAML_DESTINATION_INVALID', async (t) => {
  await expectDeniedToRp(t, 'SAML_DESTINATION_INVALID', { overrides: { destination: 'https://other-sp.example/acs' } });
});

test.serial('an expired assertion is SAML_EXPIRED', async (t) => {
  const past = new Date(Date.now() - 3600_000);
  await expectDeniedToRp(t, 'SAML_EXPIRED', {
    overrides: {
      notOnOrAfter: past,
      issueInstant: new Date(past.getTime() - 300_000),
      notBefore: new Date(past.getTime() - 300_000),
    },
  });
});

test.serial('a response from an unknown issuer is SAML_ISSUER_UNTRUSTED', async (t) => {
  await expectDeniedToRp(t, 'SAML_ISSUER_UNTRUSTED', { overrides: { issuer: 'https://unknown-idp.example/metadata' } });
});

test.serial(
  'a response with an unknown RelayState gets a generic page, audited, without echoing the XML',
  async (t) => {
    const before = await codesIssued();
    const request = await authorizationRequest(fx.rp);
    const journey = await loginJourney(request.url, {
      username: 'marie',
      redirectUri: RP_REDIRECT,
      beforeAcs: (form) => ({ ...form, fields: { ...form.fields, RelayState: 'not-a-relay-state-we-issued' } }),
    });
    t.is(journey.status, 400);
    t.regex(journey.html, /SAML_RELAYSTATE_INVALID/);
    t.notRegex(journey.html, /<saml|Stack|at .*\.ts/);
    t.is(await lastAuditCode(), 'SAML_RELAYSTATE_INVALID');
    t.is(await codesIssued(), before);
  },
);

test.serial('a replayed response is SAML_REPLAY and issues no second code', async (t) => {
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.truthy(journey.url.searchParams.get('code'), 'the first use succeeds');
  const before = await codesIssued();
  const replay = await journey.browser.submit(journey.acsForm!, new URL(fx.url), {}, (u) =>
    u.toString().startsWith(RP_REDIRECT),
  );
  t.not(replay.url.searchParams.get('code') !== null && replay.url.toString().startsWith(RP_REDIRECT), true);
  t.is(await lastAuditCode(), 'SAML_REPLAY');
  t.is(await codesIssued(), before);
});

test.serial(
  'a response posted again while its login goes on (a double submit) is SAML_REPLAY to that post alone: the login gets its code',
  async (t) => {
    const request = await authorizationRequest(fx.rp);
    const browser = new Browser();
    const base = new URL(fx.url);
    const before = await codesIssued();
    let first: Awaited<ReturnType<Browser['submit']>> | undefined;
    // the first post is admitted and decided (its 303 to the resume not followed yet); the journey's own post of the
    // same form is then the second, in the same browser, while the login waits for its resume
    const second = await loginJourney(request.url, {
      username: 'marie',
      redirectUri: RP_REDIRECT,
      browser,
      beforeAcs: async (form) => {
        first = await browser.submit(form, base, {}, () => true);
        await first.response.body?.cancel();
        return form;
      },
    });
    t.is(first?.response.status, 303, 'the first post is admitted');
    t.is(second.status, 400, `the second post is refused with its page (ended at ${second.url})`);
    t.regex(second.html, /SAML_REPLAY/);
    const { rows } = await fx.gateway.services.pool.query(
      "select 1 from audit_log where error_code = 'SAML_REPLAY' and to_state = 'REJECTED' and session_id = $1",
      [second.loginId],
    );
    t.is(rows.length, 1, 'audited as a replay of that login, which it does not move');
    // the refusal of the second post did not fail the login the first one admitted
    const end = await browser.follow(first!.url, {}, (u) => u.toString().startsWith(RP_REDIRECT));
    t.is(end.url.searchParams.get('error'), null, `the login was failed: ${end.url}`);
    t.truthy(end.url.searchParams.get('code'), `the login ends with its code (ended at ${end.url})`);
    t.is(await codesIssued(), before + 1, 'one code in all');
  },
);

test.serial('a response posted from another browser is SAML_INRESPONSETO_SESSION_MISMATCH', async (t) => {
  const before = await codesIssued();
  const request = await authorizationRequest(fx.rp);
  let stolen: Form | undefined;
  await loginJourney(request.url, {
    username: 'marie',
    redirectUri: RP_REDIRECT,
    beforeAcs: (form) => {
      stolen = form;
      return { ...form, fields: { ...form.fields, SAMLResponse: 'AA==' } }; // the victim's own post is spoiled
    },
  });
  const attacker = new Browser();
  // the attacker has their own gateway session (own binding cookie) and posts the victim's response
  const own = await authorizationRequest(fx.rp);
  await attacker.follow(own.url);
  const result = await attacker.submit(stolen!, new URL(fx.url), {}, (u) => u.toString().startsWith(RP_REDIRECT));
  t.is(result.url.searchParams.get('code'), null);
  t.not(result.response.status, 200);
  t.is(await codesIssued(), before);
  const { rows } = await fx.gateway.services.pool.query(
    "select count(*)::int as n from audit_log where error_code = 'SAML_INRESPONSETO_SESSION_MISMATCH'",
  );
  t.is(rows[0].n, 1);
});
