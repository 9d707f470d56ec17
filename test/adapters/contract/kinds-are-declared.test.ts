/**
 * The adapter kinds the gateway builds are declared in one closed table (`adapters/kinds.ts`), and the
 * gateway reads a kind's needs from it: an unknown kind is refused with `ADAPTER_KIND_UNKNOWN`, never
 * given a default; each declared kind's key rule is the one its IdPs' metadata is checked against.
 */
import test from 'ava';
import { AdapterError } from '../../../adapters/contract.ts';
import { ADAPTER_KINDS, adapterKind } from '../../../adapters/kinds.ts';
import { EIDAS_KEY_RULE } from '../../../adapters/saml/key-strength.ts';
import type { SamlIdpEntry } from '../../../adapters/protocols/saml-config.ts';
import { keyRuleOf } from '../../../adapters/protocols/saml-entry-fit.ts';

test('every kind the config accepts is declared, and an unknown kind is refused with its code', (t) => {
  t.deepEqual(Object.keys(ADAPTER_KINDS).sort(), ['eidas', 'legacy']);
  t.is(t.throws(() => adapterKind('oidc'), { instanceOf: AdapterError })?.code, 'ADAPTER_KIND_UNKNOWN');
  t.is(t.throws(() => adapterKind('toString'), { instanceOf: AdapterError })?.code, 'ADAPTER_KIND_UNKNOWN');
});

test('the gateway takes the key rule of an IdP from its kind, and refuses an unknown kind', (t) => {
  const entry = (kind: string) => ({ kind, minimumRsaKeyBits: 4096 }) as unknown as SamlIdpEntry;
  t.is(keyRuleOf(entry('eidas')), EIDAS_KEY_RULE);
  t.is(keyRuleOf(entry('legacy')).minRsaBits, 4096);
  t.is(t.throws(() => keyRuleOf(entry('oidc')), { instanceOf: AdapterError })?.code, 'ADAPTER_KIND_UNKNOWN');
  t.true(adapterKind('eidas').extendsPublishedMetadata);
  t.false(adapterKind('legacy').extendsPublishedMetadata);
});
