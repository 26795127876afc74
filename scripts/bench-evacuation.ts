/**
 * `npm run bench -- --evacuation [--sizes 1,10,50,200] [--concurrency C]` (or `npx tsx scripts/bench-evacuation.ts`):
 * P4, a region's evacuation at several sizes. Each size runs `geofailover drill --evacuate N --json` on its own dev
 * server and reads its summary: the time from the evacuation's start until every group's traffic was rerouted, ÷ one
 * group's (the size-1 run), against the issue's bound (3× one group's plus ARM's write-bucket floor, N writes ÷ 10/s);
 * each group's RTO; peak RSS of the drill process (its workers and the emulator's ARM server) and of the whole stack
 * (with the dev server and the redis-servers, sampled from /proc); and whether a 429 reached an activity failure
 * (from the histories). Prints a Markdown table on stdout, progress on stderr.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DrillSummary } from '../src/drill/events';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'geofailover.js');
const SAMPLE_MS = 500;
/** USER_HZ: /proc's clock ticks per second (100 on Linux). */
const CLOCK_TICKS = 100;

interface Measured {
  groups: number;
  summary?: DrillSummary;
  wallMs: number;
  peakStackBytes: number;
  /** CPU seconds of the whole stack (drill process, dev server, redis-servers) from the evacuation's start until the drill saw every group rerouted */
  rerouteCpuSeconds?: number;
  /** when the drill saw every group rerouted, after the evacuation's start (its poll: up to a second late) */
  movedSeenAfterMs?: number;
  stderr: string;
}

/** Resident bytes and CPU seconds (user + system, live processes only) of `root` and every descendant, from /proc (Linux); 0 elsewhere. */
function treeStats(root: number): { rss: number; cpuSeconds: number } {
  const children = new Map<number, number[]>();
  const stats = new Map<number, { rss: number; ticks: number }>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return { rss: 0, cpuSeconds: 0 };
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(entry);
      children.set(Number(fields[1]), [...(children.get(Number(fields[1])) ?? []), pid]);
      // utime, stime (fields 14, 15 of stat; 11, 12 here) in clock ticks; rss (24) in pages
      stats.set(pid, { rss: Number(fields[21]) * 4096, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // gone meanwhile
    }
  }
  let rss = 0;
  let ticks = 0;
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    rss += stats.get(pid)?.rss ?? 0;
    ticks += stats.get(pid)?.ticks ?? 0;
    queue.push(...(children.get(pid) ?? []));
  }
  return { rss, cpuSeconds: ticks / CLOCK_TICKS };
}

function drill(groups: number, concurrency: number | undefined): Promise<Measured> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-bench-evacuation-'));
  const env: NodeJS.ProcessEnv = {};
  // Its own dev server: nothing else's workflows share it.
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('TEMPORAL_') || k === 'TEMPORAL_CLI_PATH') env[k] = v;
  const args = [BIN, 'drill', '--evacuate', String(groups), '--json', '--out', path.join(dir, 'evidence')];
  if (concurrency !== undefined) args.push('--concurrency', String(concurrency));
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, treeStats(child.pid!).rss)), SAMPLE_MS);
  let cpuAtStart: number | undefined;
  let cpuToRerouted: number | undefined;
  let startedT: number | undefined;
  let movedAfterMs: number | undefined;
  let pending = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!/"action":"(evacuation-started|traffic-moved|region-restored)"/.test(line)) continue;
      const e = JSON.parse(line) as { text?: string; t: number; action: string };
      if (e.action === 'evacuation-started') cpuAtStart = treeStats(child.pid!).cpuSeconds;
      if (e.action === 'evacuation-started') startedT = e.t;
      if (e.action === 'traffic-moved' && startedT !== undefined) movedAfterMs = e.t - startedT;
      if (e.action === 'traffic-moved' && cpuAtStart !== undefined) {
        cpuToRerouted = treeStats(child.pid!).cpuSeconds - cpuAtStart;
      }
      process.stderr.write(`  [${groups}] ${(e.t / 1000).toFixed(1)} s: ${e.text}\n`);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.once('exit', () => {
      clearInterval(sampler);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let summary: DrillSummary | undefined;
      try {
        const parsed = JSON.parse(last) as DrillSummary & { type: string };
        if (parsed.type === 'summary') summary = parsed;
      } catch {
        // no summary: reported as failed
      }
      // A run that did not verify keeps its evidence package (every group's history and report) to be read.
      if (summary?.ok) rmSync(dir, { recursive: true, force: true });
      else process.stderr.write(`  [${groups}] not verified: its evidence is kept in ${dir}\n`);
      resolve({
        groups,
        wallMs: Math.round(performance.now() - started),
        peakStackBytes: peak,
        ...(cpuToRerouted !== undefined ? { rerouteCpuSeconds: cpuToRerouted } : {}),
        ...(movedAfterMs !== undefined ? { movedSeenAfterMs: movedAfterMs } : {}),
        stderr,
        ...(summary ? { summary } : {}),
      });
    });
  });
}

const s = (ms: number | undefined): string => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MiB`;
const cpu = (seconds: number | undefined, groups: number): string =>
  seconds === undefined ? 'n/a' : `${seconds.toFixed(1)} s (${((seconds / groups) * 1000).toFixed(0)} ms)`;

function median(values: number[]): number | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : undefined;
}

async function main(): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const sizes = (arg('--sizes') ?? '1,10,50,200').split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--sizes takes whole numbers, e.g. 1,10,50');
  const concurrency = arg('--concurrency') === undefined ? undefined : Number(arg('--concurrency'));
  // One group's time is the ratio's denominator: measured first.
  const order = [1, ...sizes.filter((n) => n !== 1)];
  const rows: string[] = [
    '| groups | every group rerouted (evacuation start →) | ÷ one group | bound: 3× one + write floor | ARM write-bucket floor (N ÷ 10/s) | per-group RTO, median (max) | CPU, whole stack, start → every group rerouted (per group) | peak RSS, drill process (workers) | peak RSS, whole stack | 429s: answered / in an activity failure | drill wall time | verified |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  let one: number | undefined;
  for (const n of order) {
    process.stderr.write(`P4: drill --evacuate ${n}…\n`);
    const m = await drill(n, concurrency);
    const ev = m.summary?.evacuation;
    if (!m.summary || !ev) {
      // A drill that fails after every group's traffic moved still measured the reroute (as the drill saw it).
      const moved =
        m.movedSeenAfterMs !== undefined
          ? ` (every group rerouted, seen ${s(m.movedSeenAfterMs)} after the start; CPU ${cpu(m.rerouteCpuSeconds, n)})`
          : '';
      rows.push(
        `| ${n} | failed${moved}: ${(m.summary?.failed ?? [m.stderr.trim().split('\n').at(-1) ?? 'no summary']).join('; ').slice(0, 200)} ||||||||||| no |`,
      );
      continue;
    }
    const all = ev.allReroutedMs;
    if (n === 1) one = all;
    const rtos = ev.groups.flatMap((g) => (g.rtoMs !== undefined ? [g.rtoMs] : []));
    const bound = one !== undefined ? 3 * one + ev.writeBucketFloorMs : undefined;
    const within = all !== undefined && bound !== undefined ? (all <= bound ? ' ✓' : ' ✗') : '';
    if (sizes.includes(n)) {
      rows.push(
        `| ${n} | ${s(all)} | ${all !== undefined && one ? (all / one).toFixed(2) : 'n/a'} | ${s(bound)}${within} | ` +
          `${s(ev.writeBucketFloorMs)} | ${s(median(rtos))} (${s(Math.max(...rtos))}) | ${cpu(m.rerouteCpuSeconds, n)} | ${mib(ev.peakRssBytes)} | ` +
          `${mib(m.peakStackBytes)} | ${ev.arm429s} / ${ev.throttledActivityFailures} | ${s(m.wallMs)} | ` +
          `${m.summary.ok ? 'yes' : `no: ${m.summary.failed.join('; ').slice(0, 120)}`} |`,
      );
    }
    process.stderr.write(
      `P4: ${n} group(s): every group rerouted after ${s(all)} (CPU ${cpu(m.rerouteCpuSeconds, n)}); drill ${s(m.wallMs)}\n`,
    );
  }
  process.stdout.write(
    `${rows.join('\n')}\n\nEach size is one \`geofailover drill --evacuate N\` on its own dev server` +
      `${concurrency !== undefined ? ` (--concurrency ${concurrency})` : ' (every group before its reroute at once)'}; ` +
      "one group's time is the 1-group run. Whole stack: the drill process with its dev server and redis-servers; " +
      'its CPU is user + system time from /proc, from the evacuation-started event to the traffic-moved event (the ' +
      "drill's poll sees every group rerouted up to half a second late).\n",
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = 1;
});
