import { allHandlersFinished, condition, workflowInfo } from '@temporalio/workflow';
import type { FailoverRunbookInput, RunbookResult } from '../contract/runbook';
import { formatMs } from './runbook/durations';
import { installRunbookHandlers } from './runbook/handlers';
import { firewallStep, memoryStep, membershipStep, refuseInput, validateInputStep } from './runbook/preflight-steps';
import { awaitRecovery, startRecoveryWatch, type RecoveryWatchHandle } from './runbook/recovery-steps';
import { rejoinSteps } from './runbook/rejoin-steps';
import { Runbook } from './runbook/runbook';
import { RunbookState, stateContext } from './runbook/runbook-state';
import { failbackStep, rerouteStep, verifyStep } from './runbook/traffic-steps';

/**
 * `failoverRunbook` (id `failover/<group>`): one incident for one geo-replication group — check, move
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
  const result = await runbook.run(() => failover(runbook, input, resumeProblem));
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
