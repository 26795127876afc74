import { allHandlersFinished, condition, workflowInfo } from '@temporalio/workflow';
import type { FailoverRunbookInput, RunbookResult } from '../contract/runbook';
import { formatMs } from './runbook/durations';
import { installRunbookHandlers } from './runbook/handlers';
import { firewallStep, memoryStep, membershipStep, validateInputStep } from './runbook/preflight-steps';
import { awaitRecovery } from './runbook/recovery-steps';
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
  installRunbookHandlers(state);
  const runbook = new Runbook(state);
  const result = await runbook.run(() => failover(runbook, input));
  await condition(allHandlersFinished);
  return result;
}

async function failover(rb: Runbook, input: FailoverRunbookInput): Promise<string> {
  await validateInputStep(rb, 'failover', input);
  await membershipStep(rb, 'failover', input.acceptSettingsMismatch === true);
  await Promise.all([memoryStep(rb), firewallStep(rb)]);
  await rerouteStep(rb);
  await verifyStep(rb);
  await awaitRecovery(rb);
  const unlinked = rb.state.unlinked;
  await rejoinSteps(rb);
  await failbackStep(rb);
  const rto = rb.rtoMs === undefined ? 'traffic reroute skipped' : `traffic rerouted in ${formatMs(rb.rtoMs)} (RTO)`;
  const rejoin = unlinked ? 'force-unlinked and rejoined' : 'resynchronised by itself';
  return `failover of ${rb.group.name} from ${rb.region} completed in ${rb.formatElapsed()}: ${rto}; ${rb.region} ${rejoin}; traffic failed back`;
}
