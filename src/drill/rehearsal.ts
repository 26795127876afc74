/**
 * `geofailover drill --rehearsal`: the rehearsal `geofailover rehearse` starts, played on the drill's emulator with
 * no outage — started through the same code (the starter's signRehearsalInput and startRehearsal), traffic drained
 * from the healthy region, the hold ended with a commander's signed endRehearsal as `end-rehearsal` sends it, then
 * failback and the replication check.
 */
import { readFileSync } from 'node:fs';
import { formatDuration } from '../contract/durations';
import { RefusedError } from '../contract/errors';
import { endRehearsalSignal } from '../contract/messages';
import type { FailoverRunbookInput } from '../contract/runbook';
import { readPrivateKey } from '../signing/node-keys';
import { endRehearsalPayload } from '../signing/payloads';
import { signRehearsalInput, startRehearsal } from '../starter';
import { currentRunId } from './approvals';
import { reportFailback, trackRun, type IncidentContext, type IncidentRun } from './incident';
import { DRILL_REQUESTER, DRILL_TUNING, DRILL_WAIT_MS } from './settings';
import { endpointStatuses } from './verify';
import { DrillStepError, RunbookWatcher, stepOf } from './watcher';

export const DRILL_REHEARSAL_REASON = 'geofailover drill --rehearsal';

/** The rehearsal itself: start, drain, hold, signed end of the hold, failback, replication check. */
export async function runRehearsal(ctx: IncidentContext): Promise<IncidentRun> {
  const { plan, reporter, emulator, config, options } = ctx;
  const region = plan.failedRegion;
  const key = readPrivateKey(readFileSync(config.keys[DRILL_REQUESTER]?.keyFile ?? '', 'utf8'));
  ctx.keyOf = () => key;

  // As `geofailover rehearse --key` signs and starts it; the drill's timings, as its incidents have.
  const input: FailoverRunbookInput = {
    ...signRehearsalInput({ actor: DRILL_REQUESTER, key }, config.loaded.config, {
      group: config.group,
      region,
      reason: DRILL_REHEARSAL_REASON,
      incident: `DRILL-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '')}`,
    }),
    tuning: DRILL_TUNING,
  };
  let started;
  try {
    started = await startRehearsal(ctx.clientAs(DRILL_REQUESTER), input, {
      taskQueue: options.taskQueue,
      requestedBy: DRILL_REQUESTER,
    });
  } catch (e) {
    if (e instanceof RefusedError) throw new DrillStepError(`${e.message}; end it first`);
    throw e;
  }
  const { handle, workflowId, runId, webUi } = trackRun(ctx, started);
  reporter.action(
    'runbook-started',
    `rehearsal ${workflowId} started by ${DRILL_REQUESTER}: drain the healthy region ${region} until end-rehearsal ` +
      `(run ${runId})` +
      (webUi ? `\n  Web UI: ${webUi}` : ''),
    {
      workflowId,
      runId,
      mode: 'rehearsal',
      requestedBy: DRILL_REQUESTER,
      reason: DRILL_REHEARSAL_REASON,
      ...(webUi ? { webUi } : {}),
    },
  );

  const watcher = new RunbookWatcher(handle, reporter, { signal: options.signal, healthCheck: ctx.healthCheck });
  const endpointName = config.group.trafficManager.endpoints[region]?.name ?? region;
  const holding = await watcher.waitFor((s) => s.phase === 'holding', 'traffic to drain and the hold', DRILL_WAIT_MS);
  const rto = (stepOf(holding, 'traffic-reroute')?.evidence as { rtoMs?: number } | undefined)?.rtoMs;
  reporter.action(
    'traffic-moved',
    `traffic drained: Traffic Manager endpoint ${endpointName} is ${endpointStatuses(emulator)[endpointName] ?? '?'}` +
      (rto !== undefined ? ` (${formatDuration(rto)}: start → traffic rerouted)` : ''),
    {
      endpoint: endpointName,
      status: endpointStatuses(emulator)[endpointName],
      ...(rto !== undefined ? { rtoMs: rto } : {}),
    },
  );
  reporter.action('holding', `holding: ${region} serves no traffic until ${DRILL_REQUESTER} ends the hold`, {
    region,
  });

  // As `geofailover end-rehearsal G --key FILE` sends it: the commander's signed end of the hold, naming the run.
  const client = ctx.clientAs(DRILL_REQUESTER);
  const current = await currentRunId(client, workflowId, runId);
  const comment = 'drill: players served from the other regions';
  await client.workflow
    .getHandle(workflowId)
    .signal(
      endRehearsalSignal,
      endRehearsalPayload({ key, actor: DRILL_REQUESTER, workflowId, status: { runId: current } }, comment),
    );
  reporter.action('hold-ended', `endRehearsal signed by ${DRILL_REQUESTER}: traffic comes back`, {
    by: DRILL_REQUESTER,
  });

  const result = await watcher.waitForResult(DRILL_WAIT_MS);
  reportFailback(ctx, result, endpointName);
  reporter.log(`rehearsal ${workflowId} ended: ${result.outcome}: ${result.summary}`);
  return { workflowId, runId, result, unlinkApproved: false };
}
