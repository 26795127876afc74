/**
 * The incident the drill plays: a region outage, failoverRunbook started as the requester, traffic moving, the
 * survivors' metadata build-up to the unlink trigger, the gates (played by the drill's people, or by a person with
 * --interactive), force-unlink, the region's return, rejoin and failback — or, with a short outage, the region back
 * before the trigger and nothing destructive.
 */
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { formatDuration } from '../contract/durations';
import { renderGateRequest } from '../contract/format';
import { buildFailoverInput } from '../contract/failover-request';
import { workflowIds } from '../contract/names';
import type { FailoverRunbookInput, RunbookResult } from '../contract/runbook';
import type { OpenGate, RunbookStatus } from '../contract/types';
import type { Emulator } from '../emulator/index';
import { readFileSync } from 'node:fs';
import { policyDigestFor } from '../policy/from-config';
import { readPrivateKey, type PrivateKey } from '../signing/node-keys';
import { regionRecoveredPayload, startRequest } from '../signing/payloads';
import { signalRunbook, startFailover } from '../starter';
import { webUiLink } from '../temporal/connection';
import type { failoverRunbook } from '../workflows';
import {
  announceGate,
  approveRejoinGate,
  approveUnlinkGate,
  currentRunId,
  type GateContext,
  type InteractiveContext,
} from './approvals';
import type { DrillConfig } from './config';
import type { DrillReporter } from './events';
import type { DrillPlan } from './scenario';
import {
  DRILL_APPROVERS,
  DRILL_REASON,
  DRILL_REQUESTER,
  DRILL_TUNING,
  DRILL_WAIT_MS,
  type DrillOptions,
} from './settings';
import { searchAttributeCommands } from './search-attributes';
import type { Teardown } from './teardown';
import type { TemporalTarget } from './temporal';
import { countCalls, endpointStatuses } from './verify';
import { DrillStepError, RunbookWatcher, stepOf } from './watcher';

/** How long a person has at a gate in --interactive mode (the gate itself escalates and stops safely sooner). */
const INTERACTIVE_WAIT_MS = 35 * 60_000;
const MEMORY_REPORT_EVERY_MS = 1_000;

function active(status: string | undefined): boolean {
  return status === 'running' || status === 'waiting';
}

export interface IncidentContext {
  plan: DrillPlan;
  options: DrillOptions;
  reporter: DrillReporter;
  teardown: Teardown;
  emulator: Emulator;
  config: DrillConfig;
  target: TemporalTarget;
  client: Client;
  clientAs: (by: string) => Client;
  /** each drill person's signing key (set once the incident starts) */
  keyOf?: (by: string) => PrivateKey;
  healthCheck: () => Error | undefined;
  /** the run, once started */
  runId?: string;
  /** the runbook started: from here on a failed drill still writes its evidence */
  onStarted: (workflowId: string, runId: string) => void;
}

export interface IncidentRun {
  workflowId: string;
  runId: string;
  result: RunbookResult;
  /** whether the unlink gate was approved (false on the short path, or when a person rejected it) */
  unlinkApproved: boolean;
}

/** The incident itself: outage, runbook, gates, recovery, failback. */
export async function runIncident(ctx: IncidentContext): Promise<IncidentRun> {
  const { plan, reporter, emulator, config, options } = ctx;
  const failed = plan.failedRegion;

  await emulator.faults.outage(failed);
  reporter.action(
    'outage-injected',
    `outage injected in ${failed}: ARM answers 503 for it, its redis-server is stopped; survivors ${config.survivors.join(', ')} start to accrue replication metadata`,
    { region: failed },
  );

  const keyOf = (by: string): PrivateKey => readPrivateKey(readFileSync(config.keys[by]?.keyFile ?? '', 'utf8'));
  const input: FailoverRunbookInput = {
    ...buildFailoverInput({
      group: config.group,
      failedRegion: failed,
      reason: DRILL_REASON,
      requestedBy: DRILL_REQUESTER,
      // As `geofailover start --key` signs it: the commander's start, bound to the worker's policy digest.
      request: startRequest(keyOf(DRILL_REQUESTER), {
        actor: DRILL_REQUESTER,
        workflowId: workflowIds.failover(config.group.name),
        databaseId: config.group.members[failed] ?? '',
        region: failed,
        reason: DRILL_REASON,
        ...policyDigestFor(config.loaded.config, config.group.name),
      }),
    }),
    tuning: DRILL_TUNING,
    // The DR evidence counts it as a drill (it runs as an incident on an injected outage).
    mode: 'drill',
    // An incident id as a tracker would give one, so the drill's evidence shows where it goes.
    incident: `DRILL-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '')}`,
  };
  const { handle, workflowId, runId, webUi } = trackRun(ctx, await start(ctx, input));
  reporter.action(
    'runbook-started',
    `failoverRunbook ${workflowId} started by ${DRILL_REQUESTER}: "${DRILL_REASON}" (run ${runId})` +
      (webUi ? `\n  Web UI: ${webUi}` : ''),
    { workflowId, runId, requestedBy: DRILL_REQUESTER, reason: DRILL_REASON, ...(webUi ? { webUi } : {}) },
  );

  const watcher = new RunbookWatcher(handle, reporter, { signal: options.signal, healthCheck: ctx.healthCheck });
  const endpointName = config.group.trafficManager.endpoints[failed]?.name ?? failed;
  const moved = await watcher.waitFor(
    (s) => stepOf(s, 'traffic-reroute')?.status === 'succeeded',
    'traffic to move away from the failed region',
    DRILL_WAIT_MS,
  );
  const rto = (stepOf(moved, 'traffic-reroute')?.evidence as { rtoMs?: number } | undefined)?.rtoMs;
  reporter.action(
    'traffic-moved',
    `traffic moved: Traffic Manager endpoint ${endpointName} is ${endpointStatuses(emulator)[endpointName] ?? '?'}` +
      (rto !== undefined ? ` (RTO ${formatDuration(rto)}: start → traffic rerouted)` : ''),
    {
      endpoint: endpointName,
      status: endpointStatuses(emulator)[endpointName],
      ...(rto !== undefined ? { rtoMs: rto } : {}),
    },
  );

  const interactive: InteractiveContext = {
    reporter,
    address: ctx.target.address,
    namespace: ctx.target.namespace,
    configFile: config.file,
    group: config.group.name,
    keyFiles: Object.fromEntries(Object.entries(config.keys).map(([n, k]) => [n, k.keyFile])),
  };
  const gates: GateContext = {
    clientAs: ctx.clientAs,
    keyOf,
    workflowId,
    runId,
    reporter,
    requester: DRILL_REQUESTER,
  };
  ctx.keyOf = keyOf;
  let unlinkApproved = false;

  if (plan.shortOutage) {
    await watcher.waitFor((s) => active(stepOf(s, 'await-recovery')?.status), 'await-recovery', DRILL_WAIT_MS);
    await restoreAndSignal(ctx, workflowId, 'short outage: the region is back before the unlink trigger');
  } else {
    const gateStatus = await watcher.waitFor(
      (s) => s.openGate?.gate === 'approval-unlink',
      'the metadata build-up to reach the unlink trigger',
      DRILL_WAIT_MS,
      memoryReporter(ctx),
    );
    const gate = gateStatus.openGate as OpenGate;
    reporter.action(
      'unlink-trigger',
      [
        'unlink trigger fired: gate approval-unlink opened',
        ...renderGateRequest(gate.request).map((l) => l.trim()),
      ].join('\n  '),
      { gate: gate.gate, quorum: gate.quorum, eligibleApprovers: gate.eligibleApprovers ?? [], request: gate.request },
    );
    if (options.interactive) {
      unlinkApproved = await waitForPerson(watcher, interactive, gate);
    } else {
      await approveUnlinkGate(gates, gate, DRILL_APPROVERS.unlink, () => countCalls(emulator, 'forceUnlink'));
      unlinkApproved = true;
    }
    if (unlinkApproved) {
      await watcher.waitFor((s) => stepOf(s, 'force-unlink')?.status === 'succeeded', 'force-unlink', DRILL_WAIT_MS);
      reporter.action(
        'force-unlinked',
        `force-unlink done: ${countCalls(emulator, 'forceUnlink')} call; the survivors no longer list ${failed}, so their metadata is released`,
        { calls: countCalls(emulator, 'forceUnlink') },
      );
    } else {
      reporter.log('the unlink was not approved: nothing destructive happens; the region returns by itself');
    }
    await restoreAndSignal(ctx, workflowId, 'the region is back');
    if (unlinkApproved) {
      const rejoin = await watcher.waitFor(
        (s) => s.openGate?.gate === 'approval-rejoin',
        'the rejoin gate',
        DRILL_WAIT_MS,
      );
      const rejoinGate = rejoin.openGate as OpenGate;
      reporter.action(
        'approval-needed',
        `gate approval-rejoin opened: ${
          renderGateRequest(rejoinGate.request)
            .map((l) => l.trim())
            .join('; ') || `rejoin ${failed} (its data is discarded)`
        }`,
        { gate: rejoinGate.gate, quorum: rejoinGate.quorum },
      );
      if (options.interactive) await waitForPerson(watcher, interactive, rejoinGate);
      else await approveRejoinGate(gates, rejoinGate, DRILL_APPROVERS.rejoin);
    }
  }

  const result = await watcher.waitForResult(DRILL_WAIT_MS);
  reportFailback(ctx, result, endpointName);
  reporter.log(`runbook ${workflowId} ended: ${result.outcome}: ${result.summary}`);
  return { workflowId, runId, result, unlinkApproved };
}

/**
 * A started runbook the drill follows (the incident, or a rehearsal): its handle on the whole chain of runs, its
 * evidence written from here on even when the drill fails, terminated if the drill stops before it ends.
 */
export function trackRun(
  ctx: IncidentContext,
  started: { workflowId: string; firstExecutionRunId: string },
): { handle: WorkflowHandle<typeof failoverRunbook>; workflowId: string; runId: string; webUi?: string } {
  const { workflowId, firstExecutionRunId: runId } = started;
  // No run id: queries reach the latest run (a long outage continues as new); the chain is this one's.
  const handle = ctx.client.workflow.getHandle<typeof failoverRunbook>(workflowId, undefined, {
    firstExecutionRunId: runId,
  });
  ctx.runId = runId;
  ctx.onStarted(workflowId, runId);
  ctx.teardown.add('the runbook, if still open', async () => {
    const d = await handle.describe().catch(() => undefined);
    if (d?.status.name === 'RUNNING') await handle.terminate('geofailover drill stopped before the runbook ended');
  });
  const webUi = ctx.target.uiUrl ? webUiLink(ctx.target.uiUrl, ctx.target.namespace, workflowId, runId) : undefined;
  return { handle, workflowId, runId, ...(webUi ? { webUi } : {}) };
}

/** Once the runbook ended: traffic back on the region's endpoint, as ARM shows it. */
export function reportFailback(ctx: IncidentContext, result: RunbookResult, endpointName: string): void {
  if (stepOf(result.status, 'traffic-failback')?.status !== 'succeeded') return;
  const status = endpointStatuses(ctx.emulator)[endpointName];
  ctx.reporter.action('failback', `traffic failed back: Traffic Manager endpoint ${endpointName} is ${status ?? '?'}`, {
    endpoint: endpointName,
    status,
  });
}

async function start(ctx: IncidentContext, input: FailoverRunbookInput) {
  try {
    // As the requester: history names who started the incident.
    return await startFailover(ctx.clientAs(DRILL_REQUESTER), input, { taskQueue: ctx.options.taskQueue });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      const id = workflowIds.failover(input.group);
      throw new DrillStepError(
        `an incident is already open for group ${input.group} on ${ctx.target.address}: ${id}; the drill starts ` +
          `nothing over it. End it first: temporal workflow terminate --workflow-id ${id}`,
      );
    }
    if (/search attribute/i.test((e as Error)?.message ?? '')) {
      const create = searchAttributeCommands(ctx.target.namespace).join('; ');
      throw new DrillStepError(
        `the namespace ${ctx.target.namespace} on ${ctx.target.address} does not know the runbook's search ` +
          `attributes (${(e as Error).message}); register them once: ${create} — or unset TEMPORAL_ADDRESS to let ` +
          'the drill start its own dev server',
      );
    }
    throw e;
  }
}

async function restoreAndSignal(ctx: IncidentContext, workflowId: string, why: string): Promise<void> {
  const failed = ctx.plan.failedRegion;
  await ctx.emulator.faults.restore(failed);
  ctx.reporter.action('region-restored', `${failed} restored (${why}): ARM answers again, its redis-server is back`, {
    region: failed,
  });
  const key = ctx.keyOf?.(DRILL_REQUESTER);
  if (!key) throw new DrillStepError('the drill has no key for its commander');
  const client = ctx.clientAs(DRILL_REQUESTER);
  const runId = await currentRunId(client, workflowId, ctx.runId ?? '');
  await signalRunbook(client, workflowId, {
    name: 'regionRecovered',
    payload: regionRecoveredPayload(
      { key, actor: DRILL_REQUESTER, workflowId, status: { runId } },
      `${failed} healthy again (drill)`,
    ),
  });
  ctx.reporter.action('recovery-signalled', `regionRecovered signalled by ${DRILL_REQUESTER}`, { by: DRILL_REQUESTER });
}

/** While waiting for the unlink trigger: the survivors' memory once a second, as the emulator samples it. */
function memoryReporter(ctx: IncidentContext): (status: RunbookStatus) => void {
  let lastAt = 0;
  const critical = ctx.config.group.memoryThresholds.criticalPercent;
  return () => {
    if (Date.now() - lastAt < MEMORY_REPORT_EVERY_MS) return;
    lastAt = Date.now();
    const percents: Record<string, number> = {};
    for (const db of ctx.emulator.state().databases) {
      if (!ctx.config.survivors.includes(db.location) || !db.memory) continue;
      percents[db.location] = Math.round((db.memory.usedBytes / db.memory.maxBytes) * 100);
    }
    const shown = Object.entries(percents)
      .map(([region, p]) => `${region} ${p}%`)
      .join(', ');
    ctx.reporter.action('memory', `survivors' memory: ${shown} (critical at ${critical}%)`, { percents, critical });
  };
}

/**
 * `--interactive`: prints what to type, then follows the gate until it closes, reporting each approval and
 * refusal a person causes. Resolves true when the gate was approved.
 */
async function waitForPerson(watcher: RunbookWatcher, ctx: InteractiveContext, gate: OpenGate): Promise<boolean> {
  announceGate(ctx, gate);
  const step = gate.step ?? (gate.gate as 'approval-unlink' | 'approval-rejoin');
  const seenApprovals = new Set<string>();
  let seenRefusals = 0;
  const follow = (s: RunbookStatus): void => {
    for (const approver of s.openGate?.gate === gate.gate ? s.openGate.approvals : []) {
      if (seenApprovals.has(approver)) continue;
      seenApprovals.add(approver);
      ctx.reporter.action('approval-accepted', `approval by ${approver} accepted at ${gate.gate}`, {
        gate: gate.gate,
        approver,
      });
    }
    const refusals = stepOf(s, step)?.refusedAttempts ?? [];
    for (const r of refusals.slice(seenRefusals)) {
      ctx.reporter.action('approval-refused', `${r.action} by ${r.by} refused: ${r.reason}`, {
        gate: gate.gate,
        approver: r.by,
        reason: r.reason,
      });
    }
    seenRefusals = refusals.length;
  };
  const closed = await watcher.waitFor(
    (s) => {
      follow(s);
      return stepOf(s, step)?.status === 'succeeded' || s.openGate?.gate !== gate.gate;
    },
    `a person to answer ${gate.gate}`,
    INTERACTIVE_WAIT_MS,
  );
  const record = stepOf(closed, step);
  for (const approver of record?.actor?.split(/,\s*/) ?? []) {
    if (approver && !seenApprovals.has(approver) && record?.status === 'succeeded') {
      ctx.reporter.action('approval-accepted', `approval by ${approver} accepted at ${gate.gate}`, {
        gate: gate.gate,
        approver,
      });
    }
  }
  return record?.status === 'succeeded';
}
