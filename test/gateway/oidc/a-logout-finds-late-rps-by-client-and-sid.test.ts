/**
 * Which RPs of an ended session the logout did not read (`boot/logout-late-rps.ts` `addedSince`): an RP is named
 * by its client and its `sid`, so a client the other request logged in afresh (a new sid: another person's login
 * in the same browser session) is told too, and one the logout read is never told twice.
 */
import test from 'ava';
import { addedSince, grantsNotRevoked } from '../../../gateway/boot/logout-late-rps.ts';

const cases: Array<[string, unknown, unknown, string[]]> = [
  ['nothing added', { a: { sid: '1' } }, { a: { sid: '1' } }, []],
  ['an RP added', { a: { sid: '1' } }, { a: { sid: '1' }, b: { sid: '2' } }, ['b']],
  ['the same RP under a new sid', { a: { sid: '1' } }, { a: { sid: '9' } }, ['a']],
  ['an RP removed meanwhile', { a: { sid: '1' }, b: { sid: '2' } }, { a: { sid: '1' } }, []],
  ['nothing read', undefined, { a: { sid: '1' } }, ['a']],
  ['nothing left', { a: { sid: '1' } }, null, []],
];
for (const [name, read, ended, late] of cases)
  test(`late RPs of a logout: ${name}`, (t) => {
    t.deepEqual(Object.keys(addedSince(read, ended)).sort(), late);
  });

const grants: Array<[string, unknown, unknown, string[]]> = [
  ['none when nothing changed', { a: { sid: '1', grantId: 'g1' } }, { a: { sid: '1', grantId: 'g1' } }, []],
  [
    'an added RP’s',
    { a: { sid: '1', grantId: 'g1' } },
    { a: { sid: '1', grantId: 'g1' }, b: { sid: '2', grantId: 'g2' } },
    ['g2'],
  ],
  [
    'a grant that replaced a read RP’s under the same sid',
    { a: { sid: '1', grantId: 'g1' } },
    { a: { sid: '1', grantId: 'g9' } },
    ['g9'],
  ],
  ['never one that persists logout', {}, { b: { sid: '2', grantId: 'g2', persistsLogout: true } }, []],
];
for (const [name, read, ended, revoked] of grants)
  test(`grants a logout revokes besides oidc-provider's: ${name}`, (t) => {
    t.deepEqual(grantsNotRevoked(read, ended), revoked);
  });
