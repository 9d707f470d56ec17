/** Identifiers of people: stable per person, distinct per sector, per company for representatives. */
import test from 'ava';
import { accountIdOf, pairwiseSub } from '../../../gateway/oidc/pairwise.ts';
import type { PivotIdentity } from '../../../gateway/translate/pivot-identity.ts';

const key = 'k'.repeat(32);
const marie: PivotIdentity = {
  given_name: 'Marie',
  family_name: 'Dupont',
  birthdate: '1985-04-12',
  gender: 'female',
  birthplace: '75056',
  birthcountry: '99100',
  acr: 'eidas2',
};

test('the same person has the same account id whichever IdP, level or e-mail', (t) => {
  t.is(accountIdOf(marie, key), accountIdOf({ ...marie, acr: 'eidas3', email: 'other@example.org' }, key));
});

test('fields are separated: moving letters between given and family names changes the id', (t) => {
  t.not(
    accountIdOf({ ...marie, given_name: 'Jean', family_name: 'Pierre' }, key),
    accountIdOf({ ...marie, given_name: 'JeanP', family_name: 'ierre' }, key),
  );
});

test('a representative of two companies has one account per company, distinct from the person alone', (t) => {
  const forA = accountIdOf({ ...marie, legal_person_identifier: 'BE/FR/0123456789', legal_name: 'A' }, key);
  const forB = accountIdOf({ ...marie, legal_person_identifier: 'BE/FR/9876543210', legal_name: 'B' }, key);
  t.not(forA, forB);
  t.not(forA, accountIdOf(marie, key));
});

test('pairwise subs are stable per sector and differ across sectors and salts', (t) => {
  const id = accountIdOf(marie, key);
  t.is(pairwiseSub(id, 'rp-a.example', 's'.repeat(32)), pairwiseSub(id, 'rp-a.example', 's'.repeat(32)));
  t.not(pairwiseSub(id, 'rp-a.example', 's'.repeat(32)), pairwiseSub(id, 'rp-b.example', 's'.repeat(32)));
  t.not(pairwiseSub(id, 'rp-a.example', 's'.repeat(32)), pairwiseSub(id, 'rp-a.example', 't'.repeat(32)));
});
