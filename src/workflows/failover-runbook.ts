import { allHandlersFinished, condition, workflowInfo } from '@temporalio/workflow';
import type { FailoverRunbookInput, RunbookResult } from '../contract/runbook';
import { formatMs } from './runbook/durations';
import { installRunbookHandlers } from './runbook/handlers';
import { firewallStep, memoryStep, membershipStep, refuseInput, validateInputStep } from './runbook/preflight-steps';
import { awaitRecovery, rehearseUnlink, startRecoveryWatch, type RecoveryWatchHandle } from './runbook/recovery-steps';
import { NOT_IN_RUNBOOK, stepsNotIn } from '../contract/steps';
import { rejoinSteps } from './runbook/rejoin-steps';
import { holdStep, replicationCheckStep, restoreTraffic } from './runbook/rehearsal-steps';
import { Runbook, RunbookStop } from './runbook/runbook';
import { RunbookState, stateContext } from './runbook/runbook-state';
import { failbackStep, rerouteStep, verifyStep } from './runbook/traffic-steps';

/**
 * `failoverRunbook` (id `failover/<group>`; a rehearsal: `rehearsal/<group>`, `mode: 'rehearsal'`): one incident for one geo-replication group — check, move
 * traffic once the application regions reach the survivors, wait for recovery (force-unlinking only on
 * the trigger and with approval), rejoin and fail back. Never fails for a failed step: it pauses at an
 * intervention gate. Resolves with how it ended (completed, aborted, stopped, refused) and the step log.
 * The input is any JSON until validate-input has checked it.
 */
export async function failoverRunbook(input: FailoverRunbookInput): Promise<RunbookResult> {
  const state = new RunbookState(stateContext(input, 'failedRegion', workflowInfo()));
  const runbook = new Runbook(state);
  // A continued run takes the incident over before any handler runs.
  const resumeProblem = runbook.resume(input);
  installRunbookHandlers(state);
  const rehearsing = (input as { mode?: unknown } | null)?.mode === 'rehearsal';
  const result = await runbook.run(() =>
    rehearsing ? rehearsal(runbook, input, resumeProblem) : failover(runbook, input, resumeProblem),
  );
  await condition(allHandlersFinished);
  return result;
}

async function failover(rb: Runbook, input: FailoverRunbookInput, resumeProblem?: string): Promise<string> {
  if (resumeProblem) refuseInput(rb, resumeProblem);
  let watch: RecoveryWatchHandle | undefined;
  await rb.runStages(input, [
    [
      'checks',
      async () => {
        await validateInputStep(rb, 'failover', input);
        for (const step of stepsNotIn('failover')) rb.steps.skip(step, NOT_IN_RUNBOOK.failover);
        await membershipStep(rb, 'failover', input.acceptSettingsMismatch === true);
        await Promise.all([memoryStep(rb), firewallStep(rb)]);
      },
    ],
    ['reroute', () => rerouteStep(rb)],
    ['verify', () => verifyStep(rb)],
    [
      'await-recovery',
      async () => {
        const recovery = await awaitRecovery(rb);
        if (recovery === 'continue-as-new') return recovery;
        watch = recovery;
        return undefined;
      },
    ],
    [
      'rejoin',
      async () => {
        // The recovery watch (survivors' memory, unlink trigger) goes on until rejoin has completed.
        watch ??= startRecoveryWatch(rb);
        try {
          await rejoinSteps(rb);
        } finally {
          await watch.stop();
        }
      },
    ],
    ['failback', () => failbackStep(rb)],
  ]);
  const rto = rb.rtoMs === undefined ? 'traffic reroute skipped' : `traffic rerouted in ${formatMs(rb.rtoMs)} (RTO)`;
  // The step log, not the state: the run that unlinked may be an earlier run of this incident.
  const unlinked = rb.steps.get('force-unlink').status === 'succeeded';
  const rejoin = unlinked ? 'force-unlinked and rejoined' : 'resynchronised by itself';
  return `failover of ${rb.group.name} from ${rb.region} completed in ${rb.formatElapsed()}: ${rto}; ${rb.region} ${rejoin}; traffic failed back`;
}

/**
 * A rehearsal (`mode: 'rehearsal'`, id `rehearsal/<group>`): a planned failover of a healthy region. The same
 * checks (every member must answer and be linked), traffic drains from the region once every application region
 * reaches the others, verify; where the group's configuration allows it, the destructive steps behind their gates;
 * the hold (time, or a commander's endRehearsal); rejoin (or resync), failback after the region's probes, and the
 * replication check. Ending early (abort, a stop at a gate) gives the region its traffic back.
 */
async function rehearsal(rb: Runbook, input: FailoverRunbookInput, resumeProblem?: string): Promise<string> {
  if (resumeProblem) refuseInput(rb, resumeProblem);
  // No outage: regionRecovered and unlinkNow do not apply, and no unlink trigger runs.
  rb.state.recoveryOpen = false;
  let destructive = false;
  try {
    await rb.runStages(input, [
      [
        'checks',
        async () => {
          await validateInputStep(rb, 'failover', input);
          for (const step of stepsNotIn('rehearsal')) rb.steps.skip(step, NOT_IN_RUNBOOK.rehearsal);
          await membershipStep(rb, 'rehearsal', input.acceptSettingsMismatch === true);
          await Promise.all([memoryStep(rb), firewallStep(rb)]);
        },
      ],
      ['reroute', () => rerouteStep(rb)],
      ['verify', () => verifyStep(rb)],
      [
        'await-recovery',
        async () => {
          destructive = rb.group.rehearsal?.destructive === true;
          if (destructive) await rehearseUnlink(rb);
          else skipDestructive(rb);
          await holdStep(rb, input.hold);
        },
      ],
      ['rejoin', () => rejoinSteps(rb)],
      [
        'failback',
        async () => {
          await failbackStep(rb);
          await replicationCheckStep(rb);
        },
      ],
    ]);
  } catch (err) {
    if (err instanceof RunbookStop && err.outcome !== 'refused') {
      throw new RunbookStop(err.outcome, `rehearsal ${err.message}; ${await restoreTraffic(rb)}`);
    }
    throw err;
  }
  const drained = rb.rtoMs === undefined ? 'traffic reroute skipped' : `traffic drained in ${formatMs(rb.rtoMs)}`;
  const unlinked = rb.steps.get('force-unlink').status === 'succeeded';
  const exercised = unlinked
    ? `${rb.region} force-unlinked and rejoined (destructive steps rehearsed)`
    : destructive || rb.group.rehearsal?.destructive === true
      ? `destructive steps not exercised (${rb.steps.get('approval-unlink').summary})`
      : 'destructive steps skipped (the group does not allow rehearsing them)';
  return (
    `rehearsal of ${rb.group.name} from ${rb.region} completed in ${rb.formatElapsed()}: ${drained}; ${exercised}; ` +
    'traffic failed back; replication proven by canaries'
  );
}

function skipDestructive(rb: Runbook): void {
  const why =
    `rehearsal: group ${rb.group.name}'s configuration does not allow rehearsing destructive steps ` +
    '(rehearsal.destructive); nothing destructive was called';
  if (rb.steps.get('approval-unlink').status === 'pending') rb.steps.skip('approval-unlink', why);
  if (rb.steps.get('force-unlink').status === 'pending') rb.steps.skip('force-unlink', why);
}
