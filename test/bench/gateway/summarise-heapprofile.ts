/**
 * Summarises a V8 sampling heap profile written by the gateway-only benchmark (`BENCH_CPU_PROF=<dir>
 * BENCH_HEAP_PROF=1`: every sampled allocation of a phase, freed since or not): the bytes allocated per login, by
 * library or folder of ours and by function (self: the allocations made in the function itself). What the young
 * generation's collections cost grows with these bytes.
 *
 *   node test/bench/gateway/summarise-heapprofile.ts <file.heapprofile> <logins in the phase> [rows=20]
 */
import { readFileSync } from 'node:fs';
import { fileOf, groupOf } from './summarise-cpuprofile.ts';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

const [file, loginsArg, rowsArg] = process.argv.slice(2);
if (!file || !loginsArg) {
  console.error('usage: node test/bench/gateway/summarise-heapprofile.ts <file.heapprofile> <logins> [rows=20]');
  process.exit(2);
}
const logins = Number(loginsArg);
const rows = Number(rowsArg ?? 20);
const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };

const byGroup = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
const walk = (node: HeapNode): void => {
  if (node.selfSize > 0) {
    const { functionName, url, lineNumber } = node.callFrame;
    total += node.selfSize;
    const group = groupOf(url, functionName);
    byGroup.set(group, (byGroup.get(group) ?? 0) + node.selfSize);
    const name = `${functionName || '(anonymous)'} ${fileOf(url)}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + node.selfSize);
  }
  for (const child of node.children) walk(child);
};
walk(head);

const kib = (bytes: number) => (bytes / logins / 1024).toFixed(1);
const table = (title: string, entries: Map<string, number>) => {
  console.log(`\n| ${title} | KiB per login | share |\n|---|---|---|`);
  for (const [name, bytes] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, rows))
    console.log(`| ${name} | ${kib(bytes)} | ${((bytes / total) * 100).toFixed(1)} % |`);
};
console.log(`${file}: ${kib(total)} KiB allocated per login (${logins} logins, sampled)`);
table('group', byGroup);
table('function (self)', byFunction);
