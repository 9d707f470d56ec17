/**
 * The Freeman et al. model as Wiefling et al. evaluated it: smoothing, the unseen-value rule, and the
 * ordering it must produce — the owner's usual context < a targeted attacker (same country and browser)
 * < an untargeted one; a very targeted attacker (the owner's whole device profile, another network)
 * sits between the owner and the targeted attacker.
 */
import test from 'ava';
import { freemanRisk, MemoryCounts, smoothed } from '../../gateway/risk/freeman.ts';

test('smoothing: a seen value keeps most of its share; an unseen one gets 1/(N+u)', (t) => {
  t.is(smoothed(5, 10, 2), 0.5 * (1 - 3 / 13));
  t.is(smoothed(0, 10, 2), 1 / 13);
});

const owner = {
  ip: '192.0.2.10',
  asn: '3215',
  country: 'FR',
  ua: 'UA-firefox-linux',
  browser: 'Firefox 128',
  os: 'Linux',
  deviceType: 'desktop',
};

test('owner < very targeted < targeted < untargeted', (t) => {
  const global = new MemoryCounts();
  const mine = new MemoryCounts();
  for (let i = 0; i < 10; i += 1) {
    mine.add(owner);
    global.add(owner);
  }
  for (let u = 0; u < 200; u += 1) {
    global.add({
      ip: `198.51.100.${u}`,
      asn: String(u % 20),
      country: u % 2 ? 'FR' : 'DE',
      ua: `UA-${u % 15}`,
      browser: u % 3 ? 'Firefox 128' : 'Chrome 126',
      os: u % 4 ? 'Windows' : 'Linux',
      deviceType: 'desktop',
    });
  }
  const users = 201;
  const risk = (x: Record<string, string>) => freemanRisk(x, mine, global, users);
  const untargeted = risk({
    ip: '203.0.113.1',
    asn: '4134',
    country: 'CN',
    ua: 'UA-python',
    browser: 'other',
    os: 'other',
    deviceType: 'unknown',
  });
  const targeted = risk({
    ip: '203.0.113.2',
    asn: '12322',
    country: 'FR',
    ua: 'UA-3',
    browser: 'Firefox 128',
    os: 'Windows',
    deviceType: 'desktop',
  });
  const veryTargeted = risk({ ...owner, ip: '203.0.113.3', asn: '12322' });
  const home = risk(owner);
  t.true(home < veryTargeted, `${home} < ${veryTargeted}`);
  t.true(veryTargeted < targeted, `${veryTargeted} < ${targeted}`);
  t.true(targeted < untargeted, `${targeted} < ${untargeted}`);
});
