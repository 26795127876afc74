/**
 * Rehearsals on a schedule (`geofailover rehearse`'s schedule options):
 *   geofailover rehearse G --region R --reason TEXT --schedule quarterly|monthly|weekly|CRON|INTERVAL
 *     [--hold D] [--until DATE] --key FILE          create or update the group's schedule (a standing order)
 *   geofailover rehearse G --schedule pause|resume|delete
 *   geofailover rehearse --schedules [--json]       every rehearsal schedule, its next runs and its last run
 *
 * The schedule (`rehearsal-schedule/<group>`) starts `failoverRunbook` in mode rehearsal with the action workflow id
 * `rehearsal/<group>` (Temporal appends each run's nominal time). A schedule cannot sign each run's start, so the
 * commander signs once a standing order (src/policy/standing-order.ts) that rides in the action's input; every run
 * checks it against the worker's policy, and the gates of a scheduled rehearsal still wait for signed approvals.
 */
import { isGrpcServiceError, ScheduleNotFoundError, type Client, type ScheduleSpec } from '@temporalio/client';
import type { ScheduleDescription } from '@temporalio/client';
import type { Command } from 'commander';
import { Option } from 'commander';
import { durationMs } from '../../contract/durations';
import { scheduleIds, WORKFLOW_TYPES, workflowIds } from '../../contract/names';
import { MAX_STANDING_ORDER_VALIDITY_MS } from '../../contract/policy';
import type { FailoverRunbookInput } from '../../contract/runbook';
import { SEARCH_ATTRIBUTE_KEYS } from '../../contract/search-attributes';
import { standingOrderSummary } from '../../policy/standing-order';
import { signStandingOrder } from '../../signing/standing-order';
import { countWorkflowPollers, INITIAL_PHASE } from '../../starter';
import {
  changeSchedule,
  describeSchedule,
  describeSchedules,
  parseInterval,
  scheduleState,
  upsertSchedule,
  type ScheduleChange,
} from '../../temporal/schedules';
import type { CliContext } from '../context';
import { EXIT_OK, RefusedError, UsageError } from '../errors';
import type { Output } from '../output';
import { checkFailedRegion, loadCliConfig, resolveGroup } from '../resolve';
import { loadSigner, type SignerOptions } from '../signer';
import { globalOptions, text } from './shared';

export interface RehearseScheduleOptions extends SignerOptions {
  region?: string;
  reason?: string;
  hold?: string;
  schedule?: string;
  schedules?: boolean;
  until?: string;
  json?: boolean;
  /** options of a started rehearsal that a schedule does not take */
  wait?: boolean;
  incident?: string;
}

const DAY_MS = 24 * 3_600_000;
/** A standing order stands for a year unless --until says less. */
const DEFAULT_ORDER_MS = 365 * DAY_MS;
/**
 * A run that could not start on time (the server was down) may start this much later; past it the run is skipped,
 * never started late: the standing order accepts a run only within 15 minutes of its nominal time.
 */
const CATCHUP_WINDOW = '10 minutes';

/** The named specs: 10:00 UTC on a Tuesday (the first of the month for monthly and quarterly). */
const NAMED_SPECS: Record<string, ScheduleSpec> = {
  quarterly: {
    calendars: [
      {
        comment: 'quarterly: the first Tuesday of January, April, July and October, 10:00 UTC',
        month: ['JANUARY', 'APRIL', 'JULY', 'OCTOBER'],
        dayOfMonth: { start: 1, end: 7 },
        dayOfWeek: 'TUESDAY',
        hour: 10,
        minute: 0,
      },
    ],
  },
  monthly: {
    calendars: [
      {
        comment: 'monthly: the first Tuesday of every month, 10:00 UTC',
        dayOfMonth: { start: 1, end: 7 },
        dayOfWeek: 'TUESDAY',
        hour: 10,
        minute: 0,
      },
    ],
  },
  weekly: {
    calendars: [{ comment: 'weekly: every Tuesday, 10:00 UTC', dayOfWeek: 'TUESDAY', hour: 10, minute: 0 }],
  },
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, base: 1 },
  { name: 'day of week', min: 0, max: 7, names: DAYS, base: 0 },
] as const;
const CRON_ITEM = /^(?:\*|([A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?)(?:\/(\d+))?$/;

/** Why one cron field is wrong, or undefined. */
function cronFieldProblem(value: string, field: (typeof CRON_FIELDS)[number]): string | undefined {
  const number = (token: string): number | undefined => {
    if (/^\d+$/.test(token)) return Number(token);
    const names = 'names' in field ? (field.names as readonly string[]) : undefined;
    const i = names ? names.indexOf(token.toUpperCase()) : -1;
    return i >= 0 && 'base' in field ? i + field.base : undefined;
  };
  for (const item of value.split(',')) {
    const m = CRON_ITEM.exec(item);
    if (!m) return `${field.name} ${JSON.stringify(item)} is not *, a number, a range or a list`;
    for (const token of [m[1], m[2]]) {
      if (token === undefined) continue;
      const n = number(token);
      if (n === undefined || n < field.min || n > field.max) {
        return `${field.name} ${JSON.stringify(token)} is outside ${field.min}-${field.max}`;
      }
    }
    if (m[3] !== undefined && Number(m[3]) < 1) return `${field.name} step ${m[3]} must be at least 1`;
  }
  return undefined;
}

export type RehearsalSpec = { spec: ScheduleSpec; text: string } | { problem: string };

/**
 * `quarterly`, `monthly`, `weekly`, a five-field cron spec (minute hour day-of-month month day-of-week, UTC; as in
 * Temporal, a day-of-month and a day-of-week must both match) or an interval (`90d`, `12h`; at least a second).
 */
export function parseRehearsalSpec(value: string): RehearsalSpec {
  const text = value.trim().replace(/\s+/g, ' ');
  const named = NAMED_SPECS[text.toLowerCase()];
  if (named) return { spec: named, text: text.toLowerCase() };
  const fields = text.split(' ');
  if (fields.length === 5) {
    for (const [i, field] of CRON_FIELDS.entries()) {
      const problem = cronFieldProblem(fields[i]!, field);
      if (problem) return { problem: `cron spec ${JSON.stringify(text)}: ${problem}` };
    }
    return { spec: { cronExpressions: [text] }, text };
  }
  if (fields.length === 1) {
    const every = parseInterval(text);
    if (every !== undefined) return { spec: { intervals: [{ every }] }, text: `every ${text}` };
  }
  return {
    problem:
      `--schedule ${JSON.stringify(value)}: expected quarterly, monthly, weekly, a cron spec of five fields ` +
      '("0 10 1-7 1,4,7,10 TUE": minute hour day-of-month month day-of-week, UTC), an interval (90d), or ' +
      'pause, resume, delete',
  };
}

/** The standing order's end: --until DATE (a day, or an ISO 8601 time) or a year from now; at most a year. */
export function orderValidity(until: string | undefined, nowMs: number): number {
  if (until === undefined) return DEFAULT_ORDER_MS;
  const trimmed = until.trim();
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(trimmed)
    ? Date.parse(`${trimmed}T00:00:00Z`)
    : /^\d{4}-\d{2}-\d{2}T/.test(trimmed)
      ? Date.parse(trimmed)
      : NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(`--until ${until}: expected a date (2027-12-01) or an ISO 8601 time`);
  }
  const validForMs = ms - nowMs;
  if (validForMs <= 0) throw new UsageError(`--until ${until} is not in the future`);
  if (validForMs > MAX_STANDING_ORDER_VALIDITY_MS) {
    throw new UsageError(
      `--until ${until}: a standing order stands for at most ${MAX_STANDING_ORDER_VALIDITY_MS / DAY_MS} days; ` +
        'sign it again next year',
    );
  }
  return validForMs;
}

/** What `--schedule` and `--schedules` show of one rehearsal schedule. */
export interface RehearsalScheduleView {
  scheduleId: string;
  group: string;
  region?: string;
  /** the spec the standing order names (quarterly, a cron spec, every 90d) */
  spec?: string;
  hold?: string;
  paused: boolean;
  note?: string;
  taskQueue?: string;
  nextRunAt?: string;
  /** the next few run times, ISO 8601 */
  nextRunTimes: string[];
  /** who signed the standing order, and when it ends */
  order?: { signer: string; issuedAt: string; expiresAt: string };
  /** the newest run the schedule started */
  lastRun?: { workflowId: string; runId: string; startedAt: string };
}

/** Output of `rehearse --schedule` and `rehearse --schedules`. */
export interface RehearsalScheduleOutput {
  /** what was done (absent for --schedules) */
  action?: 'created' | 'updated' | ScheduleChange;
  schedules: RehearsalScheduleView[];
}

const SCHEDULE_PREFIX = scheduleIds.rehearsal('');

export function rehearsalScheduleView(scheduleId: string, d: ScheduleDescription): RehearsalScheduleView {
  const state = scheduleState(d);
  const input = (d.action.args?.[0] ?? {}) as Partial<FailoverRunbookInput>;
  const order = standingOrderSummary(input.request);
  const last = state.recentRuns[0];
  return {
    scheduleId,
    group: scheduleId.slice(SCHEDULE_PREFIX.length),
    ...(typeof input.failedRegion === 'string' ? { region: input.failedRegion } : {}),
    ...(order?.detail.spec ? { spec: order.detail.spec } : {}),
    ...(typeof input.hold === 'string' ? { hold: input.hold } : {}),
    paused: state.paused,
    ...(state.note ? { note: state.note } : {}),
    ...(state.taskQueue ? { taskQueue: state.taskQueue } : {}),
    ...(state.nextRunTimes[0] ? { nextRunAt: state.nextRunTimes[0] } : {}),
    nextRunTimes: state.nextRunTimes.slice(0, 5),
    ...(order ? { order: { signer: order.signer, issuedAt: order.issuedAt, expiresAt: order.expiresAt } } : {}),
    ...(last ? { lastRun: { workflowId: last.workflowId, runId: last.runId, startedAt: last.takenAt } } : {}),
  };
}

function viewLine(v: RehearsalScheduleView): string {
  const next = v.paused ? 'paused' : `next ${v.nextRunAt ?? '(none)'}`;
  const order = v.order ? `; order by ${v.order.signer} until ${v.order.expiresAt.slice(0, 10)}` : '';
  const last = v.lastRun ? `; last ${v.lastRun.workflowId}` : '';
  return `${v.group.padEnd(20)} ${(v.region ?? '?').padEnd(14)} ${(v.spec ?? '?').padEnd(12)} ${next}${order}${last}`;
}

/** Whether the options ask for a schedule (then {@link rehearseSchedule} handles the command). */
export function wantsSchedule(opts: RehearseScheduleOptions): boolean {
  return opts.schedule !== undefined || opts.schedules === true;
}

/** --schedule, --schedules and --until, for `geofailover rehearse`. */
export function scheduleOptions(): Option[] {
  return [
    new Option(
      '--schedule <spec|pause|resume|delete>',
      'rehearse on a Temporal Schedule: quarterly, monthly, weekly (10:00 UTC, first Tuesday), a cron spec ' +
        '("0 10 1-7 1,4,7,10 TUE", UTC) or an interval (90d); or pause, resume, delete it',
    ).argParser(text('--schedule')),
    new Option('--schedules', 'list every rehearsal schedule: region, spec, next runs, standing order, last run'),
    new Option(
      '--until <date>',
      'with --schedule SPEC: the standing order ends then (default a year; at most 366 days)',
    ).argParser(text('--until')),
  ];
}

function serverRefusal(e: unknown, spec: string): unknown {
  // The server's own cron parser is the last word on a spec this CLI let through.
  if (isGrpcServiceError(e) && e.code === 3) {
    return new UsageError(`--schedule ${spec}: Temporal refused the spec: ${e.details ?? e.message}`);
  }
  return e;
}

async function create(
  ctx: CliContext,
  out: Output,
  command: Command,
  groupName: string,
  opts: RehearseScheduleOptions,
  parsed: { spec: ScheduleSpec; text: string },
): Promise<number> {
  if (!opts.region) throw new UsageError('--schedule SPEC needs --region R: the region each rehearsal drains');
  if (!opts.reason) throw new UsageError('--schedule SPEC needs --reason TEXT: why the group rehearses');
  if (opts.hold !== undefined) {
    let ms = NaN;
    try {
      ms = durationMs(opts.hold as never);
    } catch {
      // reported below
    }
    // The runbook refuses a hold over 7 days: say so now, not at the first scheduled run.
    if (!(ms > 0) || ms > 7 * DAY_MS) {
      throw new UsageError(`--hold ${opts.hold}: expected a duration of at most 7 days such as 30m or 2h`);
    }
  }
  const nowMs = Date.now();
  const validForMs = orderValidity(opts.until, nowMs);
  const { config, taskQueue } = globalOptions(command);
  const loaded = loadCliConfig(config);
  const group = resolveGroup(loaded, groupName);
  checkFailedRegion(group, opts.region);
  const signer = loadSigner(loaded, opts, ctx.env);
  if (!group.commanders.includes(signer.actor)) {
    throw new RefusedError(
      `${signer.actor} is not a commander of group ${group.name}: only a commander signs a standing order ` +
        `(commanders: ${group.commanders.join(', ')})`,
      'ask a commander to set the schedule',
      'not-a-commander',
    );
  }
  const scheduleId = scheduleIds.rehearsal(group.name);
  const actionWorkflowId = workflowIds.rehearsal(group.name);
  const request = signStandingOrder(signer.key, {
    actor: signer.actor,
    workflowId: actionWorkflowId,
    scheduleId,
    group: group.name,
    region: opts.region,
    databaseId: group.members[opts.region] ?? '',
    reason: opts.reason,
    spec: parsed.text,
    ...(opts.hold !== undefined ? { hold: opts.hold } : {}),
    validForMs,
    issuedAt: new Date(nowMs),
  });
  const input: FailoverRunbookInput = {
    group: group.name,
    failedRegion: opts.region,
    reason: opts.reason,
    mode: 'rehearsal',
    ...(opts.hold !== undefined ? { hold: opts.hold } : {}),
    request,
  };
  const expiresAt = new Date(nowMs + validForMs).toISOString();
  const client = await ctx.temporal();
  let created: boolean;
  try {
    ({ created } = await upsertSchedule(client, {
      scheduleId,
      spec: parsed.spec,
      action: {
        type: 'startWorkflow',
        workflowType: WORKFLOW_TYPES.failoverRunbook,
        taskQueue,
        workflowId: actionWorkflowId,
        args: [input],
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTE_KEYS.group, value: group.name },
          { key: SEARCH_ATTRIBUTE_KEYS.failedRegion, value: opts.region },
          { key: SEARCH_ATTRIBUTE_KEYS.phase, value: INITIAL_PHASE },
        ],
        staticSummary: `scheduled rehearsal of ${group.name}: drain ${opts.region} (${parsed.text}); standing order by ${signer.actor}: ${opts.reason}`,
      },
      // Never two rehearsals of a group at once; a run the server could not start on time is skipped, not late.
      policies: { overlap: 'SKIP', catchupWindow: CATCHUP_WINDOW },
      note: `rehearsals of ${group.name} in ${opts.region} (${parsed.text}); standing order by ${signer.actor} until ${expiresAt}`,
    }));
  } catch (e) {
    throw serverRefusal(e, parsed.text);
  }
  const description = await describeSchedule(client, scheduleId);
  const views = description ? [rehearsalScheduleView(scheduleId, description)] : [];
  if ((await countWorkflowPollers(client, taskQueue)) === 0) {
    out.warn(`no worker polls task queue ${taskQueue} yet: a scheduled rehearsal waits until one does`);
  }
  const result: RehearsalScheduleOutput = { action: created ? 'created' : 'updated', schedules: views };
  out.result(
    result,
    [
      `${created ? 'created' : 'updated'} rehearsal schedule ${scheduleId}: ${parsed.text}, drains ${opts.region}` +
        `${opts.hold ? ` for ${opts.hold}` : ' until a commander ends it (end-rehearsal)'}`,
      `standing order signed by ${signer.actor} (key ${signer.fingerprint}), valid until ${expiresAt}; ` +
        'gates still wait for signed approvals',
      ...views.map(viewLine),
    ].join('\n'),
  );
  return EXIT_OK;
}

async function change(
  ctx: CliContext,
  out: Output,
  groupName: string,
  command: Command,
  what: ScheduleChange,
): Promise<number> {
  const { config } = globalOptions(command);
  // A configured group's name as the configuration spells it; a group no longer configured can still be cleaned up.
  const loaded = loadCliConfig(config);
  const name = Object.hasOwn(loaded.config.groups, groupName) ? resolveGroup(loaded, groupName).name : groupName;
  const scheduleId = scheduleIds.rehearsal(name);
  const client = await ctx.temporal();
  try {
    await changeSchedule(client, scheduleId, what, ctx.env.USER);
  } catch (e) {
    if (!(e instanceof ScheduleNotFoundError)) throw e;
    throw new RefusedError(
      `group ${name} has no rehearsal schedule (${scheduleId})`,
      `create one with: geofailover rehearse ${name} --region R --reason TEXT --schedule quarterly --key FILE`,
      'not-found',
    );
  }
  const description = what === 'delete' ? undefined : await describeSchedule(client, scheduleId);
  const views = description ? [rehearsalScheduleView(scheduleId, description)] : [];
  const verb = { pause: 'paused', resume: 'resumed', delete: 'deleted' }[what];
  const result: RehearsalScheduleOutput = { action: what, schedules: views };
  out.result(result, [`${verb} rehearsal schedule ${scheduleId}`, ...views.map(viewLine)].join('\n'));
  return EXIT_OK;
}

export async function listRehearsalSchedules(client: Client): Promise<RehearsalScheduleView[]> {
  return (await describeSchedules(client, SCHEDULE_PREFIX)).map((d) =>
    rehearsalScheduleView(d.scheduleId, d.description),
  );
}

/**
 * `rehearse … --schedule …` and `rehearse --schedules`. Usage problems exit 2 before anything is read or signed.
 */
export async function rehearseSchedule(
  ctx: CliContext,
  out: Output,
  command: Command,
  group: string | undefined,
  opts: RehearseScheduleOptions,
): Promise<number> {
  if (opts.schedules) {
    if (group !== undefined || opts.schedule !== undefined || opts.region !== undefined || opts.until !== undefined) {
      throw new UsageError(
        '--schedules lists every rehearsal schedule: give it no group, --schedule, --region or --until',
      );
    }
    const schedules = await listRehearsalSchedules(await ctx.temporal());
    const result: RehearsalScheduleOutput = { schedules };
    out.result(
      result,
      schedules.length
        ? schedules.map(viewLine).join('\n')
        : 'no rehearsal schedules; create one with: geofailover rehearse GROUP --region R --reason TEXT --schedule quarterly --key FILE',
    );
    return EXIT_OK;
  }
  const value = (opts.schedule ?? '').trim();
  if (opts.wait || opts.incident !== undefined) {
    throw new UsageError(
      `--schedule does not take ${opts.wait ? '--wait' : '--incident'}: it starts runs later; follow one with status`,
    );
  }
  if (group === undefined) {
    throw new UsageError(
      `--schedule ${value} needs the group: geofailover rehearse GROUP --schedule ${value || 'quarterly'}`,
    );
  }
  if (value === 'pause' || value === 'resume' || value === 'delete') {
    const extra = (['region', 'reason', 'hold', 'until'] as const).filter((k) => opts[k] !== undefined);
    if (extra.length > 0) {
      throw new UsageError(`--schedule ${value} takes only the group, not ${extra.map((k) => `--${k}`).join(', ')}`);
    }
    return change(ctx, out, group, command, value);
  }
  const parsed = parseRehearsalSpec(value);
  if ('problem' in parsed) {
    throw new UsageError(parsed.problem, 'for example: geofailover rehearse leaderboard --schedule quarterly');
  }
  return create(ctx, out, command, group, opts, parsed);
}
