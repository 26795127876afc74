/**
 * `geofailover drill [--scenario FILE] [--fail-region R] [--short-outage] [--interactive] [--out DIR] [--json]`:
 * the whole failover on the emulator, start to failback, with its evidence package. Exit 0 only when the final
 * state was verified, 1 otherwise, 2 on bad usage (checked before anything starts), 130/143 on Ctrl-C/SIGTERM.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type * as DrillModule from '../../drill/drill';
import { DrillReporter, formatBytes, shownPath, type DrillSummary } from '../../drill/events';
import { planEvacuationDrill } from '../../drill/evacuation';
import { DrillUsageError, planDrill, ScenarioError, type DrillPlan } from '../../drill/scenario';
import { drillLatencies } from '../../drill/settings';
import { Teardown } from '../../drill/teardown';
import { recentSetup, toolchainMs, type RecentSetup } from '../../drill/toolchain';
import type { CliContext } from '../context';
import { UsageError } from '../errors';
import { formatDuration } from '../output';
import { globalOptions, text } from './shared';

interface DrillOptions {
  scenario?: string;
  failRegion?: string;
  shortOutage?: boolean;
  rehearsal?: boolean;
  interactive?: boolean;
  out?: string;
  json?: boolean;
  dynamicConfigValue?: string[];
  emulatorLatency?: ReturnType<typeof drillLatencies>;
  evacuate?: number;
  concurrency?: number;
}

function plan(opts: DrillOptions): DrillPlan {
  try {
    if (opts.evacuate !== undefined) {
      const clash = [
        opts.scenario && '--scenario',
        opts.shortOutage && '--short-outage',
        opts.interactive && '--interactive',
        opts.rehearsal && '--rehearsal',
      ].filter(Boolean);
      if (clash.length)
        throw new UsageError(
          `--evacuate drills a generated estate with the drill's own people: drop ${clash.join(', ')}`,
        );
      return planEvacuationDrill({ groups: opts.evacuate, failRegion: opts.failRegion });
    }
    if (opts.concurrency !== undefined) throw new UsageError('--concurrency goes with --evacuate N');
    if (opts.rehearsal && (opts.shortOutage || opts.interactive)) {
      throw new UsageError(
        `--rehearsal drains a healthy region with the drill's own people: drop ${opts.shortOutage ? '--short-outage' : '--interactive'}`,
      );
    }
    return planDrill({
      scenarioFile: opts.scenario,
      failRegion: opts.failRegion,
      shortOutage: opts.shortOutage,
      rehearsal: opts.rehearsal,
    });
  } catch (e) {
    if (e instanceof DrillUsageError) throw new UsageError(e.message, e.hint);
    if (e instanceof ScenarioError) {
      throw new UsageError(e.message, e.issues.length ? 'see schemas/scenario.schema.json' : undefined);
    }
    throw e;
  }
}

function describePath(p: DrillPlan): string {
  if (p.evacuate) {
    return (
      `outage of ${p.failedRegion} over a generated estate of ${p.evacuate.groups} group(s): one regionEvacuation, ` +
      'every group rerouted, unlinks approved in signed batches, one force-unlink failing until a signed retry, ' +
      'then the region returns and every group rejoins and fails back'
    );
  }
  if (p.rehearsal) {
    return (
      `rehearsal of the healthy region ${p.failedRegion}: traffic drains, holds until the commander's signed ` +
      'end-rehearsal, fails back, and a canary proves replication; nothing destructive happens'
    );
  }
  return p.shortOutage
    ? `short outage of ${p.failedRegion}: the region returns before the unlink trigger, nothing destructive happens`
    : `long outage of ${p.failedRegion}: metadata build-up reaches the unlink trigger, two approvers unlink it, ` +
        'then it recovers, rejoins and traffic fails back';
}

/** Setup (npm ci before the drill, tools the drill built) counts apart: it happens once, the drill every time. */
function splitTimes(s: DrillSummary, before: RecentSetup | undefined): { drillMs: number; setup?: string } {
  const tools = toolchainMs();
  // Finding cached tools takes well under a second; more means something was installed or built.
  const ownSetup = tools > 5000 ? tools : 0;
  const drillMs = Math.max(0, s.wallMs - ownSetup);
  const parts = [...(before?.parts ?? []), ...(ownSetup ? [`tools ${formatDuration(ownSetup)}`] : [])];
  const setupMs = (before?.ms ?? 0) + ownSetup;
  return setupMs > 0 ? { drillMs, setup: `${formatDuration(setupMs)} (${parts.join(', ')}), once` } : { drillMs };
}

export function renderSummary(s: DrillSummary, before?: RecentSetup): string {
  const lines: string[] = [];
  const { drillMs, setup } = splitTimes(s, before);
  const wall = formatDuration(drillMs);
  const ev = s.evacuation;
  if (s.ok && ev) {
    lines.push(
      `drill VERIFIED in ${wall}: evacuation of ${s.failedRegion}, ${ev.groups.length} group(s), final state of each checked`,
    );
  } else if (s.ok) {
    lines.push(`drill VERIFIED in ${wall}: ${s.path} of ${s.failedRegion} in group ${s.group}, final state checked`);
  } else if (s.interrupted) {
    lines.push(`drill INTERRUPTED by ${s.interrupted} after ${wall}; everything it started was stopped`);
  } else {
    lines.push(`drill FAILED after ${wall}:`);
    for (const f of s.failed) lines.push(`  - ${f}`);
  }
  if (setup) lines.push(`  setup:        ${setup}; the drill itself took ${wall}`);
  if (ev) {
    const rtos = ev.groups.flatMap((g) => (g.rtoMs !== undefined ? [g.rtoMs] : []));
    lines.push(
      `  outcomes:     ${Object.entries(ev.byOutcome)
        .map(([o, n]) => `${n} ${o}`)
        .join(', ')}; ` +
        `${ev.interventionsResolved} intervention(s) resolved; ${ev.batchApprovals} signed batch approval(s)`,
    );
    if (rtos.length) {
      lines.push(
        `  RTO per group: ${formatDuration(Math.min(...rtos))} to ${formatDuration(Math.max(...rtos))} (start → traffic rerouted)`,
      );
    }
    if (ev.allReroutedMs !== undefined) {
      lines.push(
        `  every group rerouted ${formatDuration(ev.allReroutedMs)} after the evacuation started ` +
          `(ARM write-bucket floor ${formatDuration(ev.writeBucketFloorMs)})`,
      );
    }
    if (s.evidenceDir)
      lines.push(
        `  evidence:     ${shownPath(s.evidenceDir)}/README.md (links each group's report; replay ${s.verdict ?? 'not run'})`,
      );
  } else if (s.rtoMs !== undefined) lines.push(`  measured RTO: ${formatDuration(s.rtoMs)} (start → traffic rerouted)`);
  if (s.evidenceDir && !ev) {
    const dir = shownPath(s.evidenceDir);
    lines.push(
      `  evidence:     ${dir}/report.html (${formatBytes(s.evidenceBytes ?? 0)}; replay ${s.verdict ?? 'not run'})`,
    );
    // Never into the drill's own package: a re-check writes its own folder (audit refuses a non-empty one).
    lines.push(`  re-check it:  geofailover audit --verify ${dir}`);
    lines.push(`  rebuild it:   geofailover audit --history ${dir}/history.json --out ${dir}-recheck`);
  }
  if (s.workDir)
    lines.push(`  kept for you: ${s.workDir} (configuration, drill.log with the workers' and emulator's log)`);
  return lines.join('\n');
}

async function drill(ctx: CliContext, command: Command, opts: DrillOptions): Promise<number> {
  const { taskQueue } = globalOptions(command);
  const drillPlan = plan(opts); // usage errors before anything starts
  const reporter = new DrillReporter(ctx.io, opts.json === true);
  const teardown = new Teardown();
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      reporter.warn(`${signal}: stopping the drill and everything it started (again to kill at once)…`);
      controller.abort(signal);
      return;
    }
    teardown.killNow();
    process.exit(signal === 'SIGTERM' ? 143 : 130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // What `npm run drill` set up right before (npm ci, tools): reported apart from the drill's own time.
  const before = await recentSetup();
  try {
    reporter.log(`geofailover drill: ${describePath(drillPlan)}`);
    // Loaded here: the drill pulls in the SDK's worker runtime, the emulator and the audit.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runDrill } = require('../../drill/drill') as typeof DrillModule;
    const summary = await runDrill(
      drillPlan,
      {
        interactive: opts.interactive === true,
        ...(opts.out ? { outDir: opts.out } : {}),
        taskQueue,
        env: ctx.env,
        signal: controller.signal,
        ...(opts.dynamicConfigValue?.length ? { dynamicConfig: opts.dynamicConfigValue } : {}),
        ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
        ...(opts.emulatorLatency ? { emulatorLatencies: opts.emulatorLatency } : {}),
      },
      reporter,
      teardown,
    );
    const problems = await teardown.run();
    for (const p of problems) reporter.warn(`while stopping: ${p}`);
    reporter.log(
      problems.length
        ? 'stopped what could be stopped; see the warnings above'
        : 'stopped everything the drill started (runbook, workers, emulator and its redis-servers' +
            (ctx.env.TEMPORAL_ADDRESS ? ')' : ', Temporal dev server)'),
    );
    summary.wallMs = reporter.elapsedMs();
    reporter.emit({ type: 'summary', ...summary });
    reporter.text(renderSummary(summary, before));
    return summary.exitCode;
  } finally {
    // Whatever happened above, nothing the drill started outlives it.
    await teardown.run();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function wholeNumber(option: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError(
        `${option} takes a whole number of at least 1, not ${JSON.stringify(value.slice(0, 20))}.`,
      );
    }
    return n;
  };
}

export function registerDrill(program: Command, ctx: CliContext): void {
  program
    .command('drill')
    .summary('run a whole failover drill on the emulator: outage, gates, unlink, rejoin, failback, evidence')
    .description(
      'Run the failover runbook end to end on embedded defaults: find (or build) the tools, start a Temporal dev ' +
        'server (unless TEMPORAL_ADDRESS is set) with its Web UI, the ARM emulator with the default scenario and ' +
        'its redis-servers, the main worker and a probe worker per application region; inject a region outage, ' +
        'start failoverRunbook, move traffic, let metadata build-up reach the unlink trigger, approve the unlink ' +
        '(quorum 2, four-eyes: the requester’s own approval is refused), restore the region, approve the rejoin, ' +
        'fail back; then write the evidence package, print the measured RTO, verify the final state against ARM ' +
        'and stop everything. Exit 0 only when the final state was verified.',
    )
    .option('--scenario <file>', 'emulator scenario file (default: the built-in default scenario)', text('--scenario'))
    .option(
      '--fail-region <region>',
      'the member region that fails (default: the first one, e.g. eastus)',
      text('--fail-region'),
    )
    .option('--short-outage', 'the region returns before the unlink trigger: nothing destructive happens')
    .option(
      '--rehearsal',
      'no outage: rehearse the region as `geofailover rehearse` does (drain, hold, end-rehearsal, failback, replication check)',
    )
    .option(
      '--evacuate <n>',
      'drill the whole region: a generated estate of N groups, one regionEvacuation over all of them',
      wholeNumber('--evacuate'),
    )
    .option(
      '--concurrency <n>',
      'with --evacuate: runbooks before their traffic reroute at once (default: every group)',
      wholeNumber('--concurrency'),
    )
    .option('--interactive', 'leave the approvals to a person in another terminal; prints exactly what to type')
    .option(
      '--out <dir>',
      'evidence package directory (default: evidence/<workflow-id with / replaced by _>)',
      text('--out'),
    )
    .option('--json', 'quiet and machine-readable: one JSON object per line, the last one the summary')
    .option(
      '--emulator-latency <spec>',
      "realistic Azure timings in the drill's emulator, e.g. arm-read=150ms,arm-write=1s,lro=10s,probe=30ms " +
        '(default: none)',
      (value: string) => {
        try {
          return drillLatencies(value);
        } catch (e) {
          throw new InvalidArgumentError(`--emulator-latency: ${e instanceof Error ? e.message : String(e)}`);
        }
      },
    )
    .option(
      '--dynamic-config-value <KEY=VALUE>',
      "a dynamic config setting of the drill's own Temporal dev server, repeatable (e.g. " +
        'limit.historyCount.suggestContinueAsNew=60 to watch the runbook continue as new)',
      (value: string, previous: string[] = []) => {
        if (!/^[A-Za-z0-9_.]+=.+$/.test(value)) {
          throw new InvalidArgumentError(
            `--dynamic-config-value takes KEY=VALUE, not ${JSON.stringify(value.slice(0, 60))}.`,
          );
        }
        return [...previous, value];
      },
    )
    .addHelpText(
      'after',
      `
Examples:
  npm run drill
  geofailover drill --fail-region westeurope
  geofailover drill --short-outage
  geofailover drill --rehearsal
  geofailover drill --interactive
  geofailover drill --evacuate 10
  geofailover drill --json --out /tmp/drill-evidence | tail -n 1 | jq '{ok, rtoMs, verdict}'`,
    )
    .action(async (opts: DrillOptions, command: Command) =>
      ctx.run(opts.json === true, () => drill(ctx, command, opts)),
    );
}
