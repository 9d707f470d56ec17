/**
 * `hsm/cli.ts init` on a fresh token makes what the registry's default-first order needs: every purpose of the
 * default set has its default algorithm first, and the `saml` purpose also has the ECDSA key an IdP switched to
 * `requestSigningAlgorithm: "ES256"` (or an eIDAS node, which takes only PSS or ECDSA) is signed with. Before,
 * init made only `saml` RS256, and such an IdP failed the boot of a freshly initialised deployment.
 */
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { DEFAULT_ALGORITHM_ORDER, DEFAULT_KEY_SPEC } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();

test('init on a fresh token: each purpose its default algorithm first, and a saml ES256 key', async (t) => {
  const result = spawnSync(process.execPath, ['hsm/cli.ts', 'init'], {
    cwd: new URL('../../', import.meta.url),
    env: {
      PATH: process.env.PATH,
      SOFTHSM2_CONF: process.env.SOFTHSM2_CONF,
      NODE_NO_WARNINGS: '1',
      GW_PKCS11_LIBRARY: token.library,
      GW_PKCS11_TOKEN_LABEL: token.label,
      GW_PKCS11_PIN: token.pin,
    },
    encoding: 'utf8',
  });
  t.is(result.status, 0, result.stderr);
  const store = await openTestStore(token);
  t.teardown(() => store.close());
  for (const purpose of new Set(DEFAULT_KEY_SPEC.map((key) => key.purpose)))
    t.is<string | undefined, string | undefined>(
      store.activeSigners(purpose)[0]?.alg,
      DEFAULT_ALGORITHM_ORDER[purpose][0],
      purpose,
    );
  t.notThrows(() => store.activeSigner('saml', 'ES256'), 'an IdP switched to ES256 finds its key');
  t.deepEqual(
    store.activeSigners('saml').map((s) => s.alg),
    ['RS256', 'ES256'],
    'RS256 stays the default for IdPs that declare nothing',
  );
});
