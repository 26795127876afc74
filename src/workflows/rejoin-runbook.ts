import { allHandlersFinished, condition, workflowInfo } from '@temporalio/workflow';
import { stepsNotIn } from '../contract/steps';
import type { RejoinRunbookInput, RunbookResult } from '../contract/runbook';
import { installRunbookHandlers } from './runbook/handlers';
import { membershipStep, refuseInput, validateInputStep } from './runbook/preflight-steps';
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
  const runbook = new Runbook(state);
  // A continued run takes the incident over before any handler runs.
  const resumeProblem = runbook.resume(input);
  installRunbookHandlers(state);
  const result = await runbook.run(() => rejoin(runbook, input, resumeProblem));
  await condition(allHandlersFinished);
  return result;
}

async function rejoin(rb: Runbook, input: RejoinRunbookInput, resumeProblem?: string): Promise<string> {
  if (resumeProblem) refuseInput(rb, resumeProblem);
  let unlinked = rb.state.unlinked;
  await rb.runStages(input, [
    [
      'checks',
      async () => {
        await validateInputStep(rb, 'rejoin', input);
        await membershipStep(rb, 'rejoin');
        for (const step of FAILOVER_ONLY_STEPS) rb.steps.skip(step, 'not part of rejoinRunbook');
        unlinked = rb.state.unlinked;
      },
    ],
    ['rejoin', () => rejoinSteps(rb)],
    ['failback', () => failbackStep(rb)],
  ]);
  const how = unlinked ? `rejoined the group (${rb.group.rejoinMethod})` : 'was still linked and is in sync';
  return `rejoin of ${rb.region} in ${rb.group.name} completed in ${rb.formatElapsed()}: it ${how}; traffic failed back`;
}
