/**
 * `geofailover rehearse G --region R --reason TEXT [--hold DURATION] [--incident ID] [--key FILE] [--wait] [--json]`:
 * a planned failover of a healthy region (failoverRunbook, `mode: 'rehearsal'`, id rehearsal/G). Traffic drains
 * from R and comes back after the hold (or a commander's `end-rehearsal`); destructive steps only where the group's
 * configuration allows rehearsing them.
 */
import type { Command } from 'commander';
import { durationMs } from '../../contract/durations';
import { WORKFLOW_TYPES, workflowIds } from '../../contract/names';
import { INCIDENT_ID, type FailoverRunbookInput } from '../../contract/runbook';
import { countWorkflowPollers, signRehearsalInput, startRehearsal, type RehearsalRequest } from '../../starter';
import type { CliContext } from '../context';
import { UsageError } from '../errors';
import type { Output } from '../output';
import { checkFailedRegion, loadCliConfig, planWarnings, resolveGroup, type LoadedConfig } from '../resolve';
import { loadSigner, refuseLongStart, signerOptions, type CliSigner, type SignerOptions } from '../signer';
import { addGroupArgument, groupOf } from '../group-argument';
import { globalOptions, text } from './shared';
import { rehearseSchedule, scheduleOptions, wantsSchedule } from './rehearse-schedule';
import { intervalOption, reportStarted } from './status';

// The rehearsal's start lives in the starter, shared with `drill --rehearsal`.
export {
  buildRehearsalInput,
  refuseOpenRunbooks,
  rehearsalSummary,
  startRehearsal,
  type RehearsalRequest,
} from '../../starter';

/** The longest hold `rehearse` accepts (the runbook refuses longer ones too). */
const MAX_HOLD_MS = 7 * 24 * 3_600_000;

/** What `rehearse --json` prints (with --wait: the first NDJSON line, `type: 'started'`). */
export interface RehearseResult {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  mode: 'rehearsal';
  group: string;
  region: string;
  /** the members traffic drains to */
  survivors: string[];
  requestedBy: string;
  reason: string;
  /** the hold as given; absent: until a commander's end-rehearsal */
  hold?: string;
  incident?: string;
  /** whether the group's configuration lets this rehearsal exercise force-unlink and rejoin (behind their gates) */
  destructive: boolean;
  /** what to type next: follow, end the hold, abort */
  next: string[];
  warnings: string[];
  webUi?: string;
}

export interface RehearseOptions extends SignerOptions {
  /** rehearsals on a schedule (rehearse-schedule.ts) */
  schedule?: string;
  schedules?: boolean;
  until?: string;
  /** the older --group form of the group argument */
  group?: string;
  region?: string;
  reason?: string;
  hold?: string;
  incident?: string;
  acceptSettingsMismatch?: boolean;
  wait?: boolean;
  json?: boolean;
  interval?: number;
}

/**
 * Checks `--hold` (a positive duration of at most 7 days, e.g. 30m, 2h) and `--incident`.
 * @throws UsageError naming the option.
 */
export function checkRehearsalOptions(opts: { hold?: string; incident?: string }): void {
  if (opts.hold !== undefined) {
    let ms = Number.NaN;
    try {
      ms = durationMs(opts.hold as never);
    } catch {
      // reported below
    }
    if (!(ms > 0) || ms > MAX_HOLD_MS) {
      throw new UsageError(
        `--hold ${JSON.stringify(opts.hold.slice(0, 40))}: expected a duration of at most 7 days such as 30m or 2h`,
        'leave --hold out to hold until a commander runs geofailover end-rehearsal',
      );
    }
  }
  if (opts.incident !== undefined && !INCIDENT_ID.test(opts.incident)) {
    throw new UsageError(
      `--incident ${JSON.stringify(opts.incident.slice(0, 80))}: at most 64 letters, digits and . _ : # / -`,
      '--incident CHG-1234',
    );
  }
}

/** The rehearsal's input signed by `signer` (a start of workflow rehearsal/<group>, naming the region's database). */
export function signedRehearsalInput(
  signer: CliSigner,
  loaded: LoadedConfig,
  request: RehearsalRequest,
): FailoverRunbookInput {
  return signRehearsalInput(signer, loaded.config, request);
}

/** What to type next, for the start's output. */
function nextSteps(group: string, input: FailoverRunbookInput, destructive: boolean): string[] {
  const id = workflowIds.rehearsal(group);
  return [
    `follow it: geofailover status ${id} --watch`,
    input.hold !== undefined
      ? `traffic comes back after ${String(input.hold)}; sooner: geofailover end-rehearsal ${group} --key FILE`
      : `end the hold (traffic comes back): geofailover end-rehearsal ${group} --key FILE`,
    `stop it (traffic comes back at once): geofailover abort ${id} --key FILE --reason TEXT`,
    ...(destructive
      ? [
          `the group allows rehearsing destructive steps: approvers will be asked (geofailover approve ${id} --key FILE)`,
        ]
      : []),
  ];
}

async function rehearse(
  ctx: CliContext,
  out: Output,
  command: Command,
  groupName: string,
  opts: RehearseOptions,
): Promise<number> {
  if (!opts.region) throw new UsageError('rehearse needs --region R: the healthy member region to drain');
  if (!opts.reason) throw new UsageError('rehearse needs --reason TEXT: why the group rehearses');
  checkRehearsalOptions(opts);
  const { config, taskQueue } = globalOptions(command);
  const loaded = loadCliConfig(config);
  const group = resolveGroup(loaded, groupName);
  const survivors = checkFailedRegion(group, opts.region);
  const signer = loadSigner(loaded, opts, ctx.env);
  refuseLongStart(signer.validForMs);
  const request: RehearsalRequest = {
    group,
    region: opts.region,
    reason: opts.reason,
    ...(opts.hold !== undefined ? { hold: opts.hold } : {}),
    ...(opts.incident !== undefined ? { incident: opts.incident } : {}),
    ...(opts.acceptSettingsMismatch ? { acceptSettingsMismatch: true } : {}),
  };
  const input = signedRehearsalInput(signer, loaded, request);
  const destructive = group.rehearsal?.destructive === true;
  const warnings = destructive
    ? planWarnings({ group, failedRegion: opts.region, reason: opts.reason, requestedBy: signer.actor })
    : [];
  const client = await ctx.temporal(signer.actor);
  const handle = await startRehearsal(client, input, { taskQueue, requestedBy: signer.actor });
  if ((await countWorkflowPollers(client, taskQueue)) === 0) {
    warnings.push(
      `no worker polls task queue ${taskQueue} right now: the rehearsal waits until one does (geofailover worker)`,
    );
  }
  for (const w of warnings) out.warn(w);
  const next = nextSteps(group.name, input, destructive);
  const result: RehearseResult = {
    workflowId: handle.workflowId,
    runId: handle.firstExecutionRunId,
    workflowType: WORKFLOW_TYPES.failoverRunbook,
    taskQueue,
    mode: 'rehearsal',
    group: group.name,
    region: opts.region,
    survivors,
    requestedBy: signer.actor,
    reason: opts.reason,
    ...(opts.hold !== undefined ? { hold: opts.hold } : {}),
    ...(opts.incident !== undefined ? { incident: opts.incident } : {}),
    destructive,
    next,
    warnings,
  };
  const webUi = ctx.webUi(result.workflowId, result.runId);
  if (webUi) result.webUi = webUi;
  const text =
    `started rehearsal ${result.workflowId} (run ${result.runId}) on task queue ${taskQueue}\n` +
    `  group ${group.name}: traffic drains from ${opts.region} to ${survivors.join(', ')} ` +
    `${opts.hold !== undefined ? `for ${opts.hold}` : 'until a commander ends the hold'}; ` +
    `${destructive ? 'force-unlink and rejoin are rehearsed behind their gates' : 'nothing destructive is called'}; ` +
    `requested by ${signer.actor}\n` +
    next.map((line) => `  ${line}`).join('\n') +
    (webUi ? `\n  Web UI: ${webUi}` : '');
  return reportStarted(client, out, handle, { result, text, wait: opts.wait, interval: opts.interval });
}

/** The `rehearse` command with its options; `action` runs it (a schedule's options may route elsewhere). */
export function registerRehearse(program: Command, ctx: CliContext): Command {
  const [key, by, validFor] = signerOptions();
  const [schedule, schedules, until] = scheduleOptions();
  const cmd = program
    .command('rehearse')
    .summary('rehearse a failover: drain a healthy region, hold, fail back, prove replication')
    .description(
      'Start a rehearsal of one group (failoverRunbook with mode rehearsal, workflow id rehearsal/G): every member ' +
        'must answer and be linked; traffic drains from the region once every application region reaches the ' +
        'others; it comes back after --hold or when a commander runs end-rehearsal, after the region is probed ' +
        'from every application region; then a canary written in one member must be read in every other. ' +
        'Force-unlink and rejoin are rehearsed (behind the same gates) only where the configuration sets ' +
        'rehearsal.destructive for the group. An abort gives the region its traffic back.',
    );
  addGroupArgument(cmd, { required: false, description: 'the group, as named in the configuration' })
    .option('--region <region>', 'the healthy member region to drain (required)', text('--region'))
    .option('--reason <text>', 'why (kept in the history, shown to approvers) (required)', text('--reason'))
    .option(
      '--hold <duration>',
      'how long traffic stays drained (30m, 2h); default: until end-rehearsal',
      text('--hold'),
    )
    .option(
      '--incident <id>',
      'a change or tracker id (e.g. CHG-1234), shown in the evidence report',
      text('--incident'),
    )
    .option('--accept-settings-mismatch', 'go on even when the other members’ settings differ (recorded)')
    .addOption(key!)
    .addOption(by!)
    .addOption(validFor!)
    .addOption(schedule!)
    .addOption(schedules!)
    .addOption(until!)
    .option('--wait', 'follow the run to its end, one line per step change; exit 0 only when it completed')
    .option('--json', 'one JSON document (with --wait: one JSON object per line)')
    .addOption(intervalOption('--wait'))
    .addHelpText(
      'after',
      `
Examples:
  geofailover rehearse leaderboard --region eastus --reason "Q4 DR rehearsal" --hold 30m --key ~/.ssh/geofailover
  geofailover rehearse leaderboard --region eastus --reason "Q4 DR rehearsal" --key ~/.ssh/geofailover
  geofailover end-rehearsal leaderboard --key ~/.ssh/geofailover --comment "players served from westeurope"
  geofailover rehearse leaderboard --region eastus --reason "quarterly DR rehearsal" --hold 30m --schedule quarterly --key ~/.ssh/geofailover
  geofailover rehearse leaderboard --schedule pause        # resume | delete
  geofailover rehearse --schedules`,
    )
    .action(async (group: string | undefined, opts: RehearseOptions, command: Command) =>
      ctx.run(opts.json === true, (out) => {
        const name = groupOf(command, group, opts.group);
        if (wantsSchedule(opts)) return rehearseSchedule(ctx, out, command, name, opts);
        if (!name)
          throw new UsageError('rehearse needs the group: geofailover rehearse GROUP --region R --reason TEXT');
        return rehearse(ctx, out, command, name, opts);
      }),
    );
  return cmd;
}
