/**
 * The adapter registry (lookup by id and by issuer, `ADAPTER_UNKNOWN`) and the attribute mapping of
 * the SAML adapters (per-IdP names first, then the shared map; unknown names dropped).
 */
import test from 'ava';
import { AdapterError, type UpstreamAdapter } from '../../adapters/contract.ts';
import { AdapterRegistry } from '../../adapters/registry.ts';
import { mapAttributes } from '../../adapters/saml/attributes.ts';
import { clipLoa } from '../../adapters/saml/loa.ts';

function fake(id: string): UpstreamAdapter {
  const never = () => Promise.reject(new Error('not used'));
  return {
    id,
    kind: 'fake',
    displayName: id,
    maxLoa: 'http://eidas.europa.eu/LoA/low',
    startLogin: never,
    finishLogin: never,
    metadata: never,
    logout: { offered: false, notOfferedCode: 'SAML_LOGOUT_UNSUPPORTED', reason: 'a fake' },
  };
}

test('the registry finds adapters by id and by issuer, and refuses unknown ids', (t) => {
  const registry = new AdapterRegistry();
  const a = fake('a');
  registry.register(a, { issuer: 'https://a.example' });
  registry.register(fake('b'));
  t.is(registry.get('a'), a);
  t.is(registry.byIssuer('https://a.example'), a);
  t.is(registry.byIssuer('https://nobody.example'), undefined);
  t.deepEqual(
    registry.list().map((x) => x.id),
    ['a', 'b'],
  );
  t.is(t.throws(() => registry.get('zzz'), { instanceOf: AdapterError })?.code, 'ADAPTER_UNKNOWN');
  t.is(t.throws(() => registry.register(fake('a')), { instanceOf: AdapterError })?.code, 'ADAPTER_DUPLICATE');
});

test('attributes map through per-IdP names, then the shared map; unknown names are dropped', (t) => {
  const mapped = mapAttributes(
    [
      { name: 'urn:oid:2.5.4.42', values: ['Ada'] },
      { name: 'sn', values: ['Lovelace'] },
      { name: 'http://eidas.europa.eu/attributes/naturalperson/DateOfBirth', values: ['1815-12-10'] },
      { name: 'email', values: ['a@example.org', 'b@example.org'] },
      { name: 'secret_internal_flag', values: ['1'] },
    ],
    { sn: 'family_name' },
  );
  t.deepEqual(mapped, {
    given_name: ['Ada'],
    family_name: ['Lovelace'],
    birthdate: ['1815-12-10'],
    email: ['a@example.org', 'b@example.org'],
  });
});

test('a LoA is clipped down to the IdP maximum and never raised', (t) => {
  t.is(clipLoa('http://eidas.europa.eu/LoA/high', 'http://eidas.europa.eu/LoA/low'), 'http://eidas.europa.eu/LoA/low');
  t.is(clipLoa('http://eidas.europa.eu/LoA/low', 'http://eidas.europa.eu/LoA/high'), 'http://eidas.europa.eu/LoA/low');
});
