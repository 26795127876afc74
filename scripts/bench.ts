/**
 * `npm run bench [-- --runs N]`: measures what a user of geofailover waits for and what it costs.
 *   - the drill, both paths, as the user runs it (a child process with its own dev server): wall time,
 *     the runbook's measured RTO (start → traffic rerouted), workflow history size, evidence package size,
 *     and peak RSS — GNU time's maximum resident set size, which is that of the largest single process
 *     among the drill and its children (the drill process holds the workers, emulator and CLI; the
 *     Temporal dev server and the redis-servers are its children);
 *   - the RTO with production SDK retry settings: the short-outage drill with the Azure SDK's own retry options
 *     (GEOFAILOVER_DRILL_SDK_RETRIES=production) instead of the drill's shortened ones;
 *   - `geofailover --help` start-up time and peak RSS (every CLI command pays it).
 *   - `--history` runs only scripts/bench-history.ts: a long outage's history growth and continue-as-new.
 *   - `--evacuation [--sizes 1,10,50,200] [--concurrency C]` runs only scripts/bench-evacuation.ts: P4, a region's evacuation.
 *   - `--audit` runs only scripts/bench-audit.ts: approval latency (P3) and the audit of one incident (P5).
 *   - the installed package's start-up (`--cli-startup` runs only this): `npm pack` builds dist/, the tarball is
 *     unpacked beside the repository's node_modules, and its bin runs `--help` and `--version` with plain Node,
 *     next to Node's own start-up (`node -e 0`) on the same machine, samples interleaved.
 * Prints a Markdown table (paste it into BENCHMARKS.md with the command and the machine). Peak RSS needs
 * GNU time at /usr/bin/time; without it that column says n/a.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DrillSummary } from '../src/drill/events';
import { DRILL_SDK_RETRIES_ENV } from '../src/drill/settings';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'geofailover.js');
const GNU_TIME = '/usr/bin/time';

interface Sample {
  wallMs: number;
  peakRssKiB?: number;
  rtoMs?: number;
  historyEvents?: number;
  evidenceBytes?: number;
  /** signed approvals the drill sent: sign + decide update round trip (the runbook verifies before it answers) */
  approvalMs?: number[];
  /** the approval that completed the unlink quorum (update accepted) → forceUnlink scheduled, from history */
  approvalToUnlinkMs?: number;
}

interface HistoryEvent {
  eventType: string;
  eventTime: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
}

/** Update accepted (the quorum's last approval) → forceUnlink scheduled, in the history's own clock. */
function approvalToUnlink(events: HistoryEvent[]): number | undefined {
  const unlink = events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'forceUnlink');
  if (unlink < 0) return undefined;
  for (let i = unlink; i >= 0; i--) {
    if (events[i]!.eventType.endsWith('UPDATE_ACCEPTED')) {
      return Date.parse(events[unlink]!.eventTime) - Date.parse(events[i]!.eventTime) || 0;
    }
  }
  return undefined;
}

/** Runs `node bin/geofailover.js ...args` once; wall time from here, peak RSS from GNU time when present. */
function run(args: string[], env: NodeJS.ProcessEnv = process.env): { sample: Sample; stdout: string } {
  const rssFile = path.join(os.tmpdir(), `geofailover-bench-rss-${process.pid}`);
  const withTime = existsSync(GNU_TIME);
  const [cmd, argv] = withTime
    ? [GNU_TIME, ['-f', '%M', '-o', rssFile, process.execPath, BIN, ...args]]
    : [process.execPath, [BIN, ...args]];
  const started = performance.now();
  const child = spawnSync(cmd, argv, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wallMs = performance.now() - started;
  if (child.status !== 0) {
    throw new Error(`geofailover ${args.join(' ')} exited ${child.status}:\n${child.stdout}\n${child.stderr}`);
  }
  const sample: Sample = { wallMs };
  if (withTime) {
    sample.peakRssKiB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
    rmSync(rssFile, { force: true });
  }
  return { sample, stdout: child.stdout };
}

function drill(args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Sample {
  const out = mkdtempSync(path.join(os.tmpdir(), 'geofailover-bench-evidence-'));
  const env = { ...process.env, ...extraEnv };
  delete env.TEMPORAL_ADDRESS; // the drill as a newcomer runs it: its own dev server
  try {
    const { sample, stdout } = run(['drill', '--json', '--out', out, ...args], env);
    const lines = stdout.trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1]!) as DrillSummary & { type: string };
    if (!summary.ok) throw new Error(`drill not verified: ${summary.failed.join('; ')}`);
    const history = JSON.parse(readFileSync(path.join(out, 'history.json'), 'utf8')) as { events: HistoryEvent[] };
    const approvalMs = lines
      .map((l) => JSON.parse(l) as { type?: string; action?: string; latencyMs?: number })
      .filter((e) => e.type === 'action' && e.action === 'approval-accepted' && e.latencyMs !== undefined)
      .map((e) => e.latencyMs as number);
    return {
      ...sample,
      approvalMs,
      approvalToUnlinkMs: approvalToUnlink(history.events),
      rtoMs: summary.rtoMs,
      evidenceBytes: summary.evidenceBytes,
      historyEvents: history.events.length,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function stats(values: (number | undefined)[], unit: (v: number) => string): string {
  const v = values.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return 'n/a';
  const median = v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  return `${unit(median)} (${unit(v[0]!)}–${unit(v[v.length - 1]!)})`;
}

const ms = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`);
const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
const kb = (b: number): string => `${(b / 1000).toFixed(0)} kB`;
const count = (n: number): string => String(Math.round(n));

/** The packed package as installed: `npm pack` (prepack builds dist/), unpacked with the repository's node_modules. */
function packedBin(): { bin: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-bench-package-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  const pack = spawnSync('npm', ['pack', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (pack.status !== 0 || !tarball) {
    remove();
    throw new Error(`npm pack failed (exit ${pack.status}):\n${pack.stderr}`);
  }
  spawnSync('tar', ['-xzf', path.join(dir, tarball), '-C', dir]);
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'package', 'node_modules'), 'dir');
  return { bin: path.join(dir, 'package', 'bin', 'geofailover.js'), remove };
}

/** `node ...argv` once: wall time, and peak RSS and CPU time (user + sys) from GNU time when present. */
function timeNode(argv: string[]): Sample & { cpuMs?: number } {
  const rssFile = path.join(os.tmpdir(), `geofailover-bench-rss-${process.pid}`);
  const withTime = existsSync(GNU_TIME);
  const started = performance.now();
  const child = withTime
    ? spawnSync(GNU_TIME, ['-f', '%M %U %S', '-o', rssFile, process.execPath, ...argv], { encoding: 'utf8' })
    : spawnSync(process.execPath, argv, { encoding: 'utf8' });
  const wallMs = performance.now() - started;
  if (child.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${child.status}:\n${child.stderr}`);
  const sample: Sample & { cpuMs?: number } = { wallMs };
  if (withTime) {
    const [rss, user, sys] = (readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
    rmSync(rssFile, { force: true });
    sample.peakRssKiB = rss;
    sample.cpuMs = ((user ?? 0) + (sys ?? 0)) * 1000;
  }
  return sample;
}

/**
 * Rows: the installed package's `--help` and `--version`, and Node's own start-up, interleaved; with `cpu`, a
 * CPU time column (what start-up costs without the wait for a CPU on a busy machine) instead of the drill columns.
 */
function cliStartupRows(runs: number, cpu = false): string[] {
  const { bin, remove } = packedBin();
  try {
    const cases = [
      ['`geofailover --help`, installed package (compiled dist/, plain Node)', [bin, '--help']],
      ['`geofailover --version`, installed package', [bin, '--version']],
      ['`node -e 0` (Node start-up alone, for scale)', ['-e', '0']],
    ] as const;
    const samples = cases.map((): (Sample & { cpuMs?: number })[] => []);
    const n = Math.max(11, runs);
    for (let r = 0; r < n; r++) cases.forEach(([, argv], i) => samples[i]!.push(timeNode([...argv])));
    return cases.map(([label], i) => {
      const wall = stats(
        samples[i]!.map((s) => s.wallMs),
        ms,
      );
      const rss = stats(
        samples[i]!.map((s) => s.peakRssKiB),
        mib,
      );
      const cpuTime = stats(
        samples[i]!.map((s) => s.cpuMs),
        ms,
      );
      return cpu
        ? `| ${label} | ${n} | ${wall} | ${cpuTime} | ${rss} |`
        : `| ${label} | ${n} | ${wall} | | | | ${rss} |`;
    });
  } finally {
    remove();
  }
}

function main(): void {
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 3;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a whole number ≥ 1');
  if (process.argv.includes('--history')) {
    // A long outage's history growth: its own script (async, a dev server with default limits).
    const child = spawnSync(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, 'bench-history.ts')], {
      stdio: 'inherit',
    });
    process.exitCode = child.status ?? 1;
    return;
  }
  if (process.argv.includes('--evacuation')) {
    // P4 alone: a region's evacuation at several sizes (its own script; each size a drill on its own dev server).
    const sizesAt = process.argv.indexOf('--sizes');
    const concurrencyAt = process.argv.indexOf('--concurrency');
    const child = spawnSync(
      process.execPath,
      [
        require.resolve('tsx/cli'),
        path.join(__dirname, 'bench-evacuation.ts'),
        ...(sizesAt > 0 ? ['--sizes', process.argv[sizesAt + 1]!] : []),
        ...(concurrencyAt > 0 ? ['--concurrency', process.argv[concurrencyAt + 1]!] : []),
      ],
      { stdio: 'inherit' },
    );
    process.exitCode = child.status ?? 1;
    return;
  }
  if (process.argv.includes('--audit')) {
    // P3 approval latency and P5 the audit: their own script (async, one dev server for every drill).
    const { bin, remove } = packedBin();
    try {
      const child = spawnSync(
        process.execPath,
        [
          require.resolve('tsx/cli'),
          path.join(__dirname, 'bench-audit.ts'),
          '--runs',
          String(runs),
          '--packed-bin',
          bin,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
      );
      process.stdout.write(`| what | samples | median (or as named) | CPU |\n|---|---|---|---|\n${child.stdout}`);
      process.exitCode = child.status ?? 1;
    } finally {
      remove();
    }
    return;
  }
  if (process.argv.includes('--cli-startup')) {
    process.stdout.write(
      `| what | runs | wall time, median (min–max) | CPU time (user + sys), median (min–max) | peak RSS |\n` +
        `|---|---|---|---|---|\n${cliStartupRows(runs, true).join('\n')}\n\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ` +
        `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)}, ` +
        `${new Date().toISOString().slice(0, 10)}\n`,
    );
    return;
  }
  const latencyArg = process.argv.indexOf('--latency');
  const latency = latencyArg > 0 ? process.argv[latencyArg + 1]! : DEFAULT_LATENCY;
  const sizesArg = process.argv.indexOf('--evacuation-sizes');
  const sizes = sizesArg > 0 ? process.argv[sizesArg + 1]! : '1,10,50,200';
  const sections: string[] = [];
  const drillHeader = [
    '| what | runs | wall time, median (min–max) | measured RTO | history events | evidence package | peak RSS |',
    '|---|---|---|---|---|---|---|',
  ];

  // P1 and P2: the RTO (start → traffic rerouted), with the drill's and production SDK retries, without and with
  // emulated latencies.
  const p1: string[] = [...drillHeader];
  const rto: Record<string, Sample[]> = {};
  for (const [key, label, args, extraEnv] of [
    ['p1-drill', "P1 RTO, the drill's SDK retries, zero-latency emulator (`drill --short-outage`)", [], {}],
    ['p1-prod', 'P1 RTO, production SDK retries, zero-latency emulator', [], PRODUCTION_RETRIES],
    [
      'p2-prod',
      `P2 RTO, production SDK retries, emulated latencies (\`--emulator-latency ${latency}\`)`,
      ['--emulator-latency', latency],
      PRODUCTION_RETRIES,
    ],
  ] as const) {
    rto[key] = measureDrills(label, runs, [...args, '--short-outage'], extraEnv);
    p1.push(drillRow(label, rto[key]!));
  }
  const path2 = criticalPathMs(latency);
  const p2Rto = median(rto['p2-prod']!.map((s) => s.rtoMs));
  sections.push(
    `### P1, P2 — RTO\n\n${p1.join('\n')}\n\nP2: the critical path before the reroute sums to ${ms(path2)} of emulated ` +
      `latency (${CRITICAL_PATH}); runbook RTO ÷ that sum = **${p2Rto === undefined ? 'n/a' : (p2Rto / path2).toFixed(2)}**.`,
  );

  // P3 and P5: approval latency and the audit (one dev server for their drills).
  sections.push(
    `### P3, P5 — approval latency, the audit\n\n${spawnRows('bench-audit.ts', ['--runs', String(runs)], true)}`,
  );

  // P4: a region's evacuation at several sizes.
  sections.push(`### P4 — evacuating a region\n\n${spawnRows('bench-evacuation.ts', ['--sizes', sizes], false)}`);

  // The whole drill and the CLI's start-up, as before.
  const other: string[] = [...drillHeader];
  other.push(drillRow('drill, long outage (unlink + rejoin)', measureDrills('drill, long outage', runs, [], {})));
  const cli: Sample[] = [];
  for (let r = 0; r < Math.max(5, runs); r++) cli.push(run(['--help']).sample);
  other.push(
    `| \`geofailover --help\` (CLI start-up, clone) | ${cli.length} | ${stats(
      cli.map((s) => s.wallMs),
      ms,
    )} | | | | ${stats(
      cli.map((s) => s.peakRssKiB),
      mib,
    )} |`,
    ...cliStartupRows(runs),
  );
  sections.push(`### The whole drill, and start-up\n\n${other.join('\n')}`);

  const machine =
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `Node ${process.version}, load average at the end ${os.loadavg()[0]!.toFixed(1)}, ${new Date().toISOString().slice(0, 10)}`;
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  const section = `## ${new Date().toISOString().slice(0, 10)} — P1–P5 in one run\n\nCommand: \`${command}\`\n\n${sections.join('\n\n')}\n\n${machine}\n`;
  process.stdout.write(section);
  if (!process.argv.includes('--no-write')) {
    writeBenchmarks(section);
    process.stderr.write('written to BENCHMARKS.md\n');
  }
}

/** Realistic Azure timings for P2 (overridable with --latency). */
const DEFAULT_LATENCY = 'arm-read=150ms,arm-write=1s,lro=10s,probe=30ms';

const PRODUCTION_RETRIES = { [DRILL_SDK_RETRIES_ENV]: 'production' } as const;

/** What the runbook waits for, one after another, before the reroute (the other calls run beside these). */
const CRITICAL_PATH =
  'membership: the survivors read at once (1 ARM read); then memory (an Azure Monitor batch, 1 read) beside the ' +
  'firewall probes (the database read, then the probe); then traffic-reroute (the profile read, then the endpoint ' +
  'PATCH, 1 write)';

function criticalPathMs(spec: string): number {
  const value = (kind: string): number => {
    const m = new RegExp(`${kind}=(\\d+(?:\\.\\d+)?)(ms|s)?`).exec(spec);
    return m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : 0;
  };
  const read = value('arm-read');
  return read + Math.max(read, read + value('probe')) + read + value('arm-write');
}

function median(values: (number | undefined)[]): number | undefined {
  const v = values.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
}

function measureDrills(label: string, runs: number, args: readonly string[], extraEnv: NodeJS.ProcessEnv): Sample[] {
  const samples: Sample[] = [];
  for (let r = 0; r < runs; r++) {
    samples.push(drill(args, extraEnv));
    process.stderr.write(`${label}: run ${r + 1}/${runs} in ${ms(samples[r]!.wallMs)}\n`);
  }
  return samples;
}

function drillRow(label: string, samples: Sample[]): string {
  return `| ${label} | ${samples.length} | ${stats(
    samples.map((s) => s.wallMs),
    ms,
  )} | ${stats(
    samples.map((s) => s.rtoMs),
    ms,
  )} | ${stats(
    samples.map((s) => s.historyEvents),
    count,
  )} | ${stats(
    samples.map((s) => s.evidenceBytes),
    kb,
  )} | ${stats(
    samples.map((s) => s.peakRssKiB),
    mib,
  )} |`;
}

/** Runs one of the async benchmark scripts and returns its Markdown (with the installed package for `packed`). */
function spawnRows(script: string, args: string[], packed: boolean): string {
  const pkg = packed ? packedBin() : undefined;
  try {
    const child = spawnSync(
      process.execPath,
      [require.resolve('tsx/cli'), path.join(__dirname, script), ...args, ...(pkg ? ['--packed-bin', pkg.bin] : [])],
      { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    if (child.status !== 0) return `(scripts/${script} failed with exit ${child.status}; see its output above)`;
    return child.stdout.trim();
  } finally {
    pkg?.remove();
  }
}

/** Puts a new dated section at the top of BENCHMARKS.md, after its introduction. */
function writeBenchmarks(section: string): void {
  const file = path.join(ROOT, 'BENCHMARKS.md');
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf('\n## ');
  writeFileSync(file, at < 0 ? `${text}\n${section}` : `${text.slice(0, at + 1)}${section}\n${text.slice(at + 1)}`);
}

main();
