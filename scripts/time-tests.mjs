#!/usr/bin/env node
// Times a test run: `npm run test:timed -- [--at COMMIT] [FILE|GLOB ...]` runs mocha (the project's .mocharc.json)
// on the files (default: those of `npm test`) with GEOFAILOVER_TEST_TIMINGS, then prints the run's wall time, the CPU
// time of everything it ran, and per stage, per mocha worker and per file. `--at COMMIT` runs the test files that
// existed at COMMIT (e.g. when an issue was filed), as they are now. CPU is what compares on a shared machine: the
// processes the run reaped (mocha, its workers, spawned CLIs, workers, drills, redis-servers; Linux /proc), plus
// the dev servers (never reaped: their CPU comes from the per-file lines, up to each worker's last file).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const at = args.includes('--at') ? args.splice(args.indexOf('--at'), 2)[1] : undefined;
if (at && args.length > 0) {
  console.error("time-tests: --at COMMIT runs that commit's test files; give no files with it");
  process.exit(2);
}
let files = args.length > 0 ? args : ['test/{unit,integration,e2e,replay}/**/*.test.ts'];
if (at) {
  const listed = execFileSync('git', ['ls-tree', '-r', '--name-only', at, 'test'], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.test.ts'));
  files = listed.filter((f) => existsSync(f));
  const gone = listed.filter((f) => !existsSync(f));
  console.log(
    `time-tests: ${files.length} test files of ${at}${gone.length ? `; gone since: ${gone.join(', ')}` : ''}`,
  );
}

/** CPU ms of this process's reaped children (cutime + cstime), from /proc; undefined elsewhere. */
function reapedCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return (f[13] + f[14]) * 10;
  } catch {
    return undefined;
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-time-tests-'));
const timings = path.join(dir, 'timings.jsonl');
const mocha = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');
const started = performance.now();
const code = await new Promise((resolve) => {
  const child = spawn(process.execPath, [mocha, ...files], {
    stdio: 'inherit',
    env: { ...process.env, GEOFAILOVER_TEST_TIMINGS: timings },
  });
  child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});
const wallS = (performance.now() - started) / 1000;
const reapedS = (reapedCpuMs() ?? NaN) / 1000;

const lines = existsSync(timings)
  ? readFileSync(timings, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((l) => l.test === undefined)
  : [];
const servers = new Map();
for (const l of lines) servers.set(l.worker, Math.max(servers.get(l.worker) ?? 0, l.serverCpuMs ?? 0));
const serversS = [...servers.values()].reduce((a, b) => a + b, 0) / 1000;

const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const minutes = (sec) => `${Math.floor(sec / 60)}:${String(Math.round(sec % 60)).padStart(2, '0')}`;
const cpuS = reapedS + serversS;
console.log(`\ntime-tests: ${lines.length} files timed, mocha exit ${code}`);
console.log(
  `  wall ${minutes(wallS)}; CPU ${cpuS.toFixed(0)} s = ${reapedS.toFixed(0)} s reaped + ${serversS.toFixed(0)} s ` +
    `dev servers; on ${os.cpus().length} cores that is at least ${minutes(cpuS / os.cpus().length)} of wall`,
);
const table = (title, key) => {
  const groups = new Map();
  for (const l of lines) {
    const k = key(l);
    const g = groups.get(k) ?? { files: 0, wall: 0, cpu: 0 };
    groups.set(k, { files: g.files + 1, wall: g.wall + l.wallMs, cpu: g.cpu + l.cpuMs });
  }
  console.log(`  ${title.padEnd(12)} files   Σ wall    Σ CPU`);
  for (const [k, g] of [...groups].sort((a, b) => String(a[0]).localeCompare(String(b[0])))) {
    console.log(
      `  ${String(k).padEnd(12)} ${String(g.files).padStart(5)} ${s(g.wall).padStart(8)} ${s(g.cpu).padStart(8)}`,
    );
  }
};
table('stage', (l) => l.file.split('/')[1] ?? '?');
table('worker', (l) => `worker ${l.worker}`);
console.log('  files by CPU (wall, CPU, worker):');
for (const l of [...lines].sort((a, b) => b.cpuMs - a.cpuMs).slice(0, 15)) {
  console.log(`    ${s(l.wallMs).padStart(8)} ${s(l.cpuMs).padStart(8)}  ${l.worker}  ${l.file}`);
}
console.log(`  the per-file lines (JSON): ${timings}`);
process.exitCode = code;
