/**
 * `npm run bench -- --audit [--runs N]` (also part of the full `npm run bench`): what an auditor and an approver wait
 * for.
 *   - P3 approval latency: a decision accepted (the update or signal event) → the runbook's next activity scheduled,
 *     from the history's own timestamps, over every gate the drills closed (p50/p95);
 *   - P5 `geofailover audit` of one incident, from the command to the package written (report, history, replay),
 *     as the installed package runs it (compiled dist/, plain Node, the build's workflow bundle) and from a clone
 *     (tsx, the cached bundle); and replay throughput: histories replayed per second by one replay worker.
 * One dev server serves every drill (each drill a child process with TEMPORAL_ADDRESS set, as a user would run it);
 * prints Markdown rows.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { startDevServer } from '../src/drill/dev-server';
import { workflowBundleFile } from '../src/workflow-bundle';

const ROOT = path.resolve(__dirname, '..');
const GNU_TIME = '/usr/bin/time';

export interface HistoryEvent {
  eventType: string;
  eventTime: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
}

const DECISION_EVENT = /UPDATE_ACCEPTED$|WORKFLOW_EXECUTION_SIGNALED$/;

/**
 * For every activity scheduled right after a decision (no other activity scheduled between them), the time from the
 * last decision before it: what a person waits between the decision that closed a gate and the runbook acting on it.
 */
export function decisionToNextActivity(events: HistoryEvent[]): number[] {
  const gaps: number[] = [];
  let lastDecision: number | undefined;
  for (const e of events) {
    if (DECISION_EVENT.test(e.eventType)) lastDecision = Date.parse(e.eventTime);
    else if (e.eventType.endsWith('ACTIVITY_TASK_SCHEDULED') && lastDecision !== undefined) {
      gaps.push(Math.max(0, Date.parse(e.eventTime) - lastDecision));
      lastDecision = undefined;
    }
  }
  return gaps;
}

export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function median(values: number[]): number | undefined {
  return percentile(values, 50);
}

const ms = (v: number | undefined): string =>
  v === undefined ? 'n/a' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;

/** `node argv…` with GNU time: wall ms, CPU ms, and the exit status. */
function timed(argv: string[], env: NodeJS.ProcessEnv): { wallMs: number; cpuMs?: number; stdout: string } {
  const statsFile = path.join(os.tmpdir(), `geofailover-bench-audit-${process.pid}`);
  const withTime = existsSync(GNU_TIME);
  const started = performance.now();
  const child = withTime
    ? spawnSync(GNU_TIME, ['-f', '%U %S', '-o', statsFile, process.execPath, ...argv], { env, encoding: 'utf8' })
    : spawnSync(process.execPath, argv, { env, encoding: 'utf8' });
  const wallMs = performance.now() - started;
  if (child.status !== 0)
    throw new Error(`node ${argv.join(' ')} exited ${child.status}:\n${child.stdout}\n${child.stderr}`);
  let cpuMs: number | undefined;
  if (withTime) {
    const [user, sys] = (readFileSync(statsFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
    cpuMs = ((user ?? 0) + (sys ?? 0)) * 1000;
    rmSync(statsFile, { force: true });
  }
  return { wallMs, cpuMs, stdout: child.stdout };
}

/** Markdown rows for P3 and P5; `packedBin` is the installed package's bin (built by the caller), when there is one. */
export async function auditRows(options: { runs: number; packedBin?: string }): Promise<string[]> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const tools = (await import('./tools.mjs')) as { ensureTemporalCli(o: object): Promise<{ path: string }> };
  const cli = await tools.ensureTemporalCli({ log: () => undefined });
  const server = await startDevServer({ cli: cli.path });
  const work = mkdtempSync(path.join(os.tmpdir(), 'geofailover-bench-audit-'));
  const env = { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: 'default' };
  try {
    // Drills on one server: the long outage closes both approval gates; each run leaves one incident to audit.
    const gaps: number[] = [];
    const histories: unknown[] = [];
    let workflowId = '';
    for (let r = 0; r < options.runs; r++) {
      const out = path.join(work, `drill-${r}`);
      const { stdout } = timed([path.join(ROOT, 'bin', 'geofailover.js'), 'drill', '--json', '--out', out], env);
      const summary = JSON.parse(stdout.trim().split('\n').pop()!) as { ok: boolean; workflowId?: string };
      if (!summary.ok) throw new Error(`drill ${r + 1} not verified`);
      workflowId = summary.workflowId ?? 'failover/leaderboard';
      const history = JSON.parse(readFileSync(path.join(out, 'history.json'), 'utf8')) as { events: HistoryEvent[] };
      gaps.push(...decisionToNextActivity(history.events));
      histories.push(history);
      process.stderr.write(`P3/P5: drill ${r + 1}/${options.runs} done\n`);
    }
    const auditOnce = (bin: string, i: number): { wallMs: number; cpuMs?: number } =>
      timed(
        [
          bin,
          'audit',
          workflowId,
          '--out',
          path.join(work, `audit-${path.basename(path.dirname(path.dirname(bin)))}-${i}`),
        ],
        env,
      );
    const cases: [string, string][] = [];
    if (options.packedBin) cases.push(["installed package (dist/, plain Node, the build's bundle)", options.packedBin]);
    cases.push([
      'clone (`bin/geofailover.js` through tsx, the cached bundle)',
      path.join(ROOT, 'bin', 'geofailover.js'),
    ]);
    const rows = [
      `| P3 decision accepted → next activity scheduled (history), p50 / p95 | ${gaps.length} decisions | ${ms(percentile(gaps, 50))} / ${ms(percentile(gaps, 95))} | |`,
    ];
    for (const [label, bin] of cases) {
      auditOnce(bin, -1); // warms the bundle cache and the OS's file cache once, as a second audit would find them
      const samples = Array.from({ length: Math.max(5, options.runs) }, (_, i) => auditOnce(bin, i));
      rows.push(
        `| P5 \`geofailover audit\` of one incident (package written), ${label} | ${samples.length} | ${ms(median(samples.map((s) => s.wallMs)))} | ${ms(median(samples.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs]))))} CPU |`,
      );
    }
    // Replay throughput: the drills' histories, replayed by one replay worker, several rounds.
    const bundle = await workflowBundleFile();
    const all = Array.from({ length: 5 }, () => histories).flat();
    const started = performance.now();
    let replayed = 0;
    // The runbook reads its own workflow id (the group is in it): each history replays under the id it ran with.
    const inputs = all.map((h) => ({ workflowId, history: historyFromJSON(h) }));
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, inputs)) {
      if (result.error) throw new Error(`replay of ${result.workflowId} failed: ${String(result.error)}`);
      replayed++;
    }
    const perSecond = replayed / ((performance.now() - started) / 1000);
    rows.push(
      `| P5 replay throughput (one replay worker, the drills' histories) | ${replayed} | ${perSecond.toFixed(1)} histories/s | |`,
    );
    return rows;
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 3;
  const j = process.argv.indexOf('--packed-bin');
  auditRows({ runs, packedBin: j > 0 ? process.argv[j + 1] : undefined }).then(
    (rows) => process.stdout.write(`${rows.join('\n')}\n`),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
