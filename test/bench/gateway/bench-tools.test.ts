/**
 * The benchmark's own arithmetic: the CPU-profile summary (self time per group/file/function), the Redis
 * key shapes used for bytes per login, and the /proc readers (on this very process).
 */
import test from 'ava';
import { byRoute, groupOf, summarise } from './summarise-cpuprofile.ts';
import { bytesPer, keyShape } from './redis-memory.ts';
import { cpuMs, cpuSplitMs, rssMiB, threadCpuMs, treeCpuMs } from './proc-stats.ts';

const here = new URL('../../../gateway/flow/login-flow.ts', import.meta.url).href;

test('groups: npm packages (scoped too), our folders, node internals, V8 pseudo-frames', (t) => {
  t.is(groupOf('file:///work/main/node_modules/xml-crypto/lib/signed-xml.js', 'f'), 'xml-crypto');
  t.is(groupOf('file:///srv/app/node_modules/@xmldom/xmldom/lib/dom.js', 'f'), '@xmldom/xmldom');
  t.is(groupOf(here, 'f'), 'gateway/flow/');
  t.is(groupOf('node:internal/streams/writable', 'f'), 'node: internals');
  t.is(groupOf('', '(garbage collector)'), '(garbage collector)');
  t.is(groupOf('', 'writeUtf8String'), '(native)');
});

test('the samples taken while a request ran are its route’s; those between requests are nobody’s', (t) => {
  const frame = (id: number, functionName: string) => ({ id, callFrame: { functionName, url: here, lineNumber: 0 } });
  const profile = {
    nodes: [frame(1, 'acs'), frame(2, 'token'), frame(3, 'between')],
    // samples at 1000 + cumulative deltas: 1100, 1200, 1300 (between), 1400, 1500
    samples: [1, 1, 3, 2, 2],
    timeDeltas: [100, 100, 100, 100, 100],
    startTime: 1000,
  };
  const cut = byRoute(profile, [
    ['POST /token', 1350, 1500],
    ['POST /saml/acs', 1050, 1250],
  ]);
  t.deepEqual(cut.get('POST /saml/acs'), {
    requests: 1,
    profile: { nodes: profile.nodes, samples: [1, 1], timeDeltas: [100, 100] },
  });
  t.deepEqual(cut.get('POST /token')?.profile.samples, [2, 2]);
  t.is(summarise([cut.get('POST /token')!.profile]).totalMs, 0.2);
});

test('self time is the sum of the sample deltas, idle and profiler frames left out', (t) => {
  const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
    id,
    callFrame: { functionName, url, lineNumber: 0 },
    children,
  });
  const profile = {
    nodes: [
      frame(1, '(root)', '', [2, 3, 4, 5]),
      frame(2, 'parse', 'file:///x/node_modules/@xmldom/xmldom/lib/sax.js'),
      frame(3, '(idle)', ''),
      frame(4, 'post', 'node:inspector'),
      frame(5, 'transition', here, [6]),
      frame(6, 'Writable.write', 'node:internal/streams/writable', [7]),
      frame(7, 'writeUtf8String', ''),
    ],
    samples: [2, 2, 3, 4, 5, 7],
    timeDeltas: [1000, 3000, 50_000, 9000, 2000, 5000],
  };
  const s = summarise([profile]);
  t.is(s.totalMs, 11);
  t.is(s.idleMs, 50);
  t.is(s.groups.get('@xmldom/xmldom'), 4);
  t.is(s.groups.get('gateway/flow/'), 2);
  t.is(s.groups.get('(native)'), 5);
  t.is(s.byCaller.get('gateway/flow/'), 7); // the native write is charged to the code that wrote
  t.is(s.byCaller.get('(native)'), undefined);
  t.false([...s.groups.keys()].some((g) => g.includes('inspector')));
});

test('key shapes: random ids, network prefixes and hash tags become *, names stay', (t) => {
  t.is(keyShape('t1a2b3c4d:oidc:Session:Zx3_kP0qLm9vB2nR7sT1', 't1a2b3c4d:'), 'oidc:Session:*');
  t.is(keyShape('p:oidc:AuthorizationCode:k2Jd83-mQpz0vXa1', 'p:'), 'oidc:AuthorizationCode:*');
  t.is(keyShape('p:corr:net:81.0.96.0/24', 'p:'), 'corr:net:*');
  t.is(keyShape('p:flow:{s6}:login:a8d7f6e5d4c3b2a1', 'p:'), 'flow:*:login:*');
  t.is(keyShape('p:relay:kOOTmabeehVdBCClICdZVUrOiyGRVRUW', 'p:'), 'relay:*'); // letters only, still an id
  t.is(keyShape('p:oidc:PushedAuthorizationRequest:x', 'p:'), 'oidc:PushedAuthorizationRequest:x');
});

test('bytes per item: what grew, and what was freed meanwhile, apart', (t) => {
  const snap = (entries: Array<[string, number, number]>, usedMemory: number) => ({
    usedMemory,
    groups: new Map(entries.map(([k, keys, bytes]) => [k, { keys, bytes }])),
  });
  const r = bytesPer(
    snap(
      [
        ['code:*', 10, 1000],
        ['session:*', 0, 0],
      ],
      5000,
    ),
    snap(
      [
        ['code:*', 5, 500],
        ['session:*', 10, 3000],
      ],
      7000,
    ),
    10,
  );
  t.is(r.added, 300);
  t.is(r.freed, 50);
  t.is(r.usedMemory, 200);
  t.deepEqual(r.byShape[0], ['session:*', 1, 300]);
});

test('/proc readers see this process: CPU grows with work, RSS is positive', (t) => {
  const before = cpuMs(process.pid);
  const threadsBefore = threadCpuMs(process.pid);
  const start = process.cpuUsage();
  while ((process.cpuUsage(start).user + process.cpuUsage(start).system) / 1000 < 100); // burn 100 ms of CPU
  t.true(cpuMs(process.pid) - before >= 80); // 10 ms ticks
  t.true(treeCpuMs(process.pid) >= cpuMs(process.pid));
  const split = cpuSplitMs(process.pid);
  t.true(split.user > 0 && split.system >= 0);
  t.true(rssMiB(process.pid) > 10);
  t.is(cpuMs(2 ** 22 + 7), 0); // no such process
  // the burn ran on the JavaScript thread: counted as the main thread's
  t.true(threadCpuMs(process.pid).main - threadsBefore.main >= 80);
  t.deepEqual(threadCpuMs(2 ** 22 + 7), { main: 0, 'thread pool': 0, 'V8 workers': 0, other: 0 });
});
