/**
 * `geofailover readiness [group] [--report DIR] [--json]`: could each group fail over right now? Exit 1 on any fail.
 * `geofailover readiness [group] --schedule 15m|pause|resume|delete`: the watch (a Temporal Schedule per group).
 * `geofailover readiness --schedules`: every watch, its interval, state and last verdict.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { ScheduleNotFoundError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Command } from 'commander';
import { workflowIds } from '../../contract/names';
import type { ReadinessReport } from '../../contract/readiness';
import {
  readinessOutput,
  renderReadinessJson,
  renderReadinessMarkdown,
  renderReadinessText,
  type ReadinessOutput,
} from '../../readiness-report';
import {
  changeReadinessSchedule,
  describeReadinessSchedule,
  listReadinessSchedules,
  parseInterval,
  upsertReadinessSchedule,
  type ReadinessScheduleView,
} from '../../readiness-report/schedule';
import { countWorkflowPollers, startReadinessCheck } from '../../starter';
import type { CliContext } from '../context';
import { EXIT_FAILED, EXIT_OK, RefusedError, UsageError } from '../errors';
import { addGroupArgument, groupOf } from '../group-argument';
import type { Output } from '../output';
import { loadCliConfig, resolveGroup } from '../resolve';
import { globalOptions, text } from './shared';

export type { ReadinessOutput } from '../../readiness-report';

interface ReadinessOptions {
  group?: string;
  json?: boolean;
  report?: string;
  schedule?: string;
  schedules?: boolean;
}

/** A check whose members do not answer takes up to its read timeouts (2 minutes by default). */
const RESULT_TIMEOUT_MS = 180_000;

async function checkGroup(client: Client, group: string, taskQueue: string): Promise<ReadinessReport> {
  let handle;
  try {
    handle = await startReadinessCheck(client, { group }, { taskQueue });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    // A check of the group is already running: its answer is as fresh as ours would be.
    handle = client.workflow.getHandle(workflowIds.readiness(group));
  }
  const h = handle;
  return (await client.withDeadline(Date.now() + RESULT_TIMEOUT_MS, () => h.result())) as ReadinessReport;
}

/** Writes readiness-report.md and readiness-report.json into `dir`; resolves with their paths. */
function writeReport(dir: string, output: ReadinessOutput): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [
    [path.join(dir, 'readiness-report.md'), renderReadinessMarkdown(output)],
    [path.join(dir, 'readiness-report.json'), renderReadinessJson(output)],
  ] as const;
  for (const [file, body] of files) writeFileSync(file, body);
  return files.map(([file]) => file);
}

function groupNames(command: Command, argument: string | undefined, opts: ReadinessOptions): string[] {
  const { config } = globalOptions(command);
  const loaded = loadCliConfig(config);
  const name = groupOf(command, argument, opts.group);
  // resolveGroup names the groups there are when this one is not configured.
  return (name ? [name] : Object.keys(loaded.config.groups)).map((n) => resolveGroup(loaded, n).name);
}

async function check(
  ctx: CliContext,
  out: Output,
  command: Command,
  names: string[],
  opts: ReadinessOptions,
): Promise<number> {
  const { taskQueue } = globalOptions(command);
  const client = await ctx.temporal();
  if ((await countWorkflowPollers(client, taskQueue)) === 0) {
    throw new RefusedError(
      `no worker polls task queue ${taskQueue}, so nobody would run the check`,
      'start one with: geofailover worker',
      'no-worker',
    );
  }
  const output = readinessOutput(await Promise.all(names.map((g) => checkGroup(client, g, taskQueue))));
  const files = opts.report ? writeReport(opts.report, output) : [];
  out.result(
    files.length ? { ...output, reportFiles: files } : output,
    [renderReadinessText(output), ...files.map((f) => `wrote ${f}`)].join('\n'),
  );
  return output.ready ? EXIT_OK : EXIT_FAILED;
}

function formatEvery(ms: number | undefined): string {
  if (ms === undefined) return '?';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

function scheduleLine(v: ReadinessScheduleView): string {
  const last = v.lastVerdict ? `last ${v.lastVerdict.toUpperCase()} at ${v.lastCheckedAt}` : 'no check completed yet';
  const next = v.paused ? 'paused' : `next ${v.nextRunAt ?? '?'}`;
  return `${v.group.padEnd(20)} every ${formatEvery(v.everyMs).padEnd(6)} ${next}; ${last}`;
}

/** Output of `--schedule` and `--schedules`. */
export interface ReadinessScheduleOutput {
  /** what was done: created, updated, paused, resumed, deleted (absent for --schedules) */
  action?: 'created' | 'updated' | 'pause' | 'resume' | 'delete';
  schedules: ReadinessScheduleView[];
}

async function schedule(
  ctx: CliContext,
  out: Output,
  command: Command,
  names: string[],
  value: string,
): Promise<number> {
  const { taskQueue } = globalOptions(command);
  const change = value === 'pause' || value === 'resume' || value === 'delete' ? value : undefined;
  const everyMs = change ? undefined : parseInterval(value);
  if (!change && everyMs === undefined) {
    throw new UsageError(
      `--schedule ${value}: expected an interval of at least a second (15m, 1h, 30s) or pause, resume, delete`,
      'for example: geofailover readiness leaderboard --schedule 15m',
    );
  }
  const client = await ctx.temporal();
  const views: ReadinessScheduleView[] = [];
  let action: ReadinessScheduleOutput['action'] = change;
  for (const group of names) {
    if (change) {
      try {
        await changeReadinessSchedule(client, group, change, process.env.USER);
      } catch (e) {
        if (!(e instanceof ScheduleNotFoundError)) throw e;
        throw new RefusedError(
          `group ${group} has no readiness schedule (${workflowIds.readiness(group)})`,
          `create one with: geofailover readiness ${group} --schedule 15m`,
          'not-found',
        );
      }
    } else {
      const { created } = await upsertReadinessSchedule(client, {
        group,
        everyMs: everyMs!,
        taskQueue,
        ...(process.env.USER ? { by: process.env.USER } : {}),
      });
      action = created ? 'created' : 'updated';
    }
    if (change !== 'delete') {
      const v = await describeReadinessSchedule(client, group);
      if (v) views.push(v);
    }
  }
  const verb = { created: 'created', updated: 'updated', pause: 'paused', resume: 'resumed', delete: 'deleted' }[
    action!
  ];
  const lines = names.map((g) => `${verb} readiness schedule ${workflowIds.readiness(g)}`);
  lines.push(...views.map(scheduleLine));
  if (!change && (await countWorkflowPollers(client, taskQueue)) === 0) {
    out.warn(`no worker polls task queue ${taskQueue} yet: the scheduled checks wait until one does`);
  }
  const result: ReadinessScheduleOutput = { action: action!, schedules: views };
  out.result(result, lines.join('\n'));
  return EXIT_OK;
}

async function listSchedules(ctx: CliContext, out: Output): Promise<number> {
  const client = await ctx.temporal();
  const schedules = await listReadinessSchedules(client);
  const result: ReadinessScheduleOutput = { schedules };
  out.result(
    result,
    schedules.length
      ? schedules.map(scheduleLine).join('\n')
      : 'no readiness schedules; create one with: geofailover readiness GROUP --schedule 15m',
  );
  return EXIT_OK;
}

async function readiness(
  ctx: CliContext,
  out: Output,
  command: Command,
  group: string | undefined,
  opts: ReadinessOptions,
): Promise<number> {
  if (opts.schedules) {
    if (group !== undefined || opts.group !== undefined || opts.schedule !== undefined || opts.report !== undefined) {
      throw new UsageError('--schedules lists every readiness schedule: give it no group, --schedule or --report');
    }
    return listSchedules(ctx, out);
  }
  const names = groupNames(command, group, opts);
  if (opts.schedule !== undefined) {
    if (opts.report !== undefined) throw new UsageError('--report goes with a check, not with --schedule');
    return schedule(ctx, out, command, names, opts.schedule);
  }
  return check(ctx, out, command, names, opts);
}

export function registerReadiness(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('readiness')
    .summary('check whether a group (or every group) could fail over right now (exit 1 when not), or watch it')
    .description(
      'Run readinessCheck for one group or every configured group: pass, warn or fail for membership (every ' +
        'member linked), settings identical across members, memory headroom for the load a survivor would absorb, ' +
        'probes from every application region, Traffic Manager endpoints present and enabled, people able to reach ' +
        'each quorum, and a probe worker polling each probe queue. Exit 1 when a check fails. Needs a running ' +
        'worker. With --schedule it sets up a Temporal Schedule (id readiness/G) that runs the check every ' +
        "interval and tells the group's escalation webhook when the verdict turns fail (or back).",
    );
  addGroupArgument(cmd, { required: false, description: 'the group (default: every group in the configuration)' })
    .option('--report <dir>', 'also write readiness-report.md and readiness-report.json there', text('--report'))
    .option(
      '--schedule <interval|pause|resume|delete>',
      'create or update the watch (15m, 1h, 30s), or pause, resume or delete it',
      text('--schedule'),
    )
    .option('--schedules', 'list every readiness schedule: interval, state, last verdict')
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      `
Examples:
  geofailover readiness
  geofailover readiness leaderboard --json
  geofailover readiness --report ./readiness
  geofailover readiness leaderboard --schedule 15m
  geofailover readiness leaderboard --schedule pause
  geofailover readiness --schedules`,
    )
    .action(async (group: string | undefined, opts: ReadinessOptions, command: Command) =>
      ctx.run(opts.json === true, (out) => readiness(ctx, out, command, group, opts)),
    );
}
