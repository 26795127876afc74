import { allHandlersFinished, condition, workflowInfo } from '@temporalio/workflow';
import { stepsNotIn } from '../contract/steps';
import type { RejoinRunbookInput, RunbookResult } from '../contract/runbook';
import { installRunbookHandlers } from './runbook/handlers';
import { membershipStep, validateInputStep } from './runbook/preflight-steps';
import { rejoinSteps } from './runbook/rejoin-steps';
import { Runbook } from './runbook/runbook';
import { RunbookState, stateContext } from './runbook/runbook-state';
import { failbackStep } from './runbook/traffic-steps';

const FAILOVER_ONLY_STEPS = stepsNotIn('rejoin');

/**
 * `rejoinRunbook` (id `rejoin/<group>`): rejoin and failback alone, for a region unlinked earlier (by hand
 * or by a failover that has ended) — the failoverRunbook steps from approval-rejoin on, with the same gates,
 * interventions and abort. When the region is still linked it only waits for the group to resynchronise.
 */
export async function rejoinRunbook(input: RejoinRunbookInput): Promise<RunbookResult> {
  const state = new RunbookState(stateContext(input, 'region', workflowInfo()));
  state.recoveryOpen = false;
  installRunbookHandlers(state);
  const runbook = new Runbook(state);
  const result = await runbook.run(() => rejoin(runbook, input));
  await condition(allHandlersFinished);
  return result;
}

async function rejoin(rb: Runbook, input: RejoinRunbookInput): Promise<string> {
  await validateInputStep(rb, 'rejoin', input);
  await membershipStep(rb, 'rejoin');
  for (const step of FAILOVER_ONLY_STEPS) rb.steps.skip(step, 'not part of rejoinRunbook');
  const unlinked = rb.state.unlinked;
  await rejoinSteps(rb);
  await failbackStep(rb);
  const how = unlinked ? `rejoined the group (${rb.group.rejoinMethod})` : 'was still linked and is in sync';
  return `rejoin of ${rb.region} in ${rb.group.name} completed in ${rb.formatElapsed()}: it ${how}; traffic failed back`;
}
