// Real runs of the current runbook workflows with mocked activities (the e2e fakes), one per audit-worthy
// path: shared by scripts/record-histories.ts (writes test/replay/histories/*.json) and the audit e2e test.
// Each actor signals and decides through a client of their own, so the history carries their identity.
import { Client } from '@temporalio/client';
import type { Connection, WorkflowHandle } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import type { NativeConnection, WorkflowBundle } from '@temporalio/worker';
import {
  abortSignal,
  approveSignal,
  decideUpdate,
  interveneSignal,
  regionRecoveredSignal,
} from '../../src/contract/messages';
import { probeTaskQueue, WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type { GroupDefinition, RejoinRunbookInput, RunbookResult } from '../../src/contract/runbook';
import type { RunbookStatus } from '../../src/contract/types';
import { startFailover } from '../../src/starter';
import type { rejoinRunbook } from '../../src/workflows';
import { FakeGroup, TEST_TUNING, testGroup, testInput } from './runbook-fakes';
import { waitForStatus } from './runbook-status';
import { uniqueTaskQueue } from './temporal';

export const SCENARIO_NAMES = [
  'short-outage',
  'long-outage-unlink-rejoin',
  'rejected-unlink',
  'intervention-retry',
  'aborted',
  'rejoin-runbook',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ScenarioOptions {
  /** the worker side (main worker and one probe worker per application region) */
  nativeConnection: NativeConnection;
  /** the client side: every actor gets a Client with their own identity on this connection */
  connection: Connection;
  namespace: string;
  bundle: WorkflowBundle;
  /** member regions, failed region first (stable names for recordings, unique ones in tests) */
  regions: readonly [string, string, string];
  /** the group's name (the workflow id is failover/<group> or rejoin/<group>) */
  groupName: string;
}

export interface ScenarioRun {
  scenario: ScenarioName;
  workflowId: string;
  runId: string;
  workflowType: string;
  result: RunbookResult;
  history: History;
  fake: FakeGroup;
}

const IDENTITY_SUFFIX = '@geofailover-recorder';

/** The Temporal identity an actor's client has in the recordings. */
export function actorIdentity(actor: string): string {
  return `${actor}${IDENTITY_SUFFIX}`;
}

const stepIs = (s: RunbookStatus, step: string, status: string): boolean =>
  s.steps.some((r) => r.step === step && r.status === status);

function groupFor(options: ScenarioOptions, change: (g: GroupDefinition) => void = () => undefined): GroupDefinition {
  return testGroup(options.regions, (g) => {
    g.name = options.groupName;
    // A poll every second keeps the stored histories short and still shows the watch at work.
    g.durations.recoveryPollInterval = '1s';
    change(g);
  });
}

/**
 * Runs one scenario to its end on a main worker (mocked activities) and probe workers, then fetches its
 * history. The workers stop before this resolves.
 */
export async function runScenario(scenario: ScenarioName, options: ScenarioOptions): Promise<ScenarioRun> {
  const clients = new Map<string, Client>();
  const as = (actor: string): Client => {
    let client = clients.get(actor);
    if (!client) {
      client = new Client({
        connection: options.connection,
        namespace: options.namespace,
        identity: actorIdentity(actor),
      });
      clients.set(actor, client);
    }
    return client;
  };
  const [failed, survivor] = options.regions;
  const group = groupFor(options, (g) => {
    if (scenario === 'long-outage-unlink-rejoin') g.quorum.unlink = 2;
  });
  const fake = new FakeGroup(group, failed);
  const taskQueue = uniqueTaskQueue('recorder');
  const workers = [
    await Worker.create({
      connection: options.nativeConnection,
      namespace: options.namespace,
      taskQueue,
      activities: fake.activities(),
      workflowBundle: options.bundle,
      identity: `geofailover-worker${IDENTITY_SUFFIX}`,
    }),
    ...(await Promise.all(
      options.regions.map((region) =>
        Worker.create({
          connection: options.nativeConnection,
          namespace: options.namespace,
          taskQueue: probeTaskQueue(region),
          activities: fake.probeActivities(),
          identity: `geofailover-probe-${region}${IDENTITY_SUFFIX}`,
        }),
      ),
    )),
  ];

  const drive = async (): Promise<{ handle: WorkflowHandle; result: RunbookResult }> => {
    if (scenario === 'rejoin-runbook') {
      fake.unlinked = true;
      fake.failedAnswers = true;
      fake.endpointStatus[failed] = 'Disabled';
      const input: RejoinRunbookInput = {
        group,
        region: failed,
        reason: `${failed} is back after a long outage; rejoin it`,
        requestedBy: 'sre-lead',
        tuning: TEST_TUNING,
      };
      const handle = await as('sre-lead').workflow.start<typeof rejoinRunbook>(WORKFLOW_TYPES.rejoinRunbook, {
        taskQueue,
        workflowId: workflowIds.rejoin(group.name),
        args: [input],
      });
      await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-rejoin', 'rejoin gate');
      await as('data-owner')
        .workflow.getHandle(handle.workflowId)
        .executeUpdate(decideUpdate, {
          args: [{ decision: 'approve', approver: 'data-owner', comment: 'data loss accepted' }],
        });
      return { handle, result: (await handle.result()) as RunbookResult };
    }

    const input = { ...testInput(group, failed), reason: `${failed} region outage (recorded scenario ${scenario})` };
    if (scenario === 'rejected-unlink' || scenario === 'long-outage-unlink-rejoin') fake.memoryPercent[survivor] = 95;
    if (scenario === 'intervention-retry') {
      fake.failures.setEndpointStatus = [FakeGroup.azureFailure('AzureBadRequest', 'BadRequest: endpoint is locked')];
    }
    const started = await startFailover(as('sre-lead'), input, { taskQueue });
    const handle = as('sre-lead').workflow.getHandle(started.workflowId, started.firstExecutionRunId);
    const handleOf = (actor: string): WorkflowHandle =>
      as(actor).workflow.getHandle(started.workflowId, started.firstExecutionRunId);
    const recover = async (): Promise<void> => {
      await handleOf('sre-lead').signal(regionRecoveredSignal, { by: 'sre-lead', comment: `${failed} healthy again` });
      fake.failedAnswers = true;
    };

    switch (scenario) {
      case 'short-outage':
        await waitForStatus(handle, (s) => stepIs(s, 'await-recovery', 'running'), 'await-recovery');
        await recover();
        break;
      case 'long-outage-unlink-rejoin': {
        await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'unlink gate');
        // Refused: the requester approving their own incident (four-eyes), and someone who is no approver.
        await handleOf('sre-lead').executeUpdate(decideUpdate, {
          args: [{ decision: 'approve', approver: 'sre-lead' }],
        });
        await handleOf('mallory').signal(approveSignal, { approver: 'mallory', comment: 'let me help' });
        // Accepted: two distinct approvers, one by signal (as `temporal workflow signal` does), one by update.
        await handleOf('sre-manager').signal(approveSignal, { approver: 'sre-manager', comment: 'memory is critical' });
        await waitForStatus(handle, (s) => s.openGate?.approvals.length === 1, 'first approval');
        await handleOf('data-owner').executeUpdate(decideUpdate, {
          args: [{ decision: 'approve', approver: 'data-owner', comment: 'agreed' }],
        });
        await waitForStatus(handle, (s) => stepIs(s, 'force-unlink', 'succeeded'), 'force-unlink');
        fake.failedAnswers = true; // the member answers again: no signal needed
        await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-rejoin', 'rejoin gate');
        await handleOf('sre-manager').executeUpdate(decideUpdate, {
          args: [{ decision: 'approve', approver: 'sre-manager', comment: 'rejoin now' }],
        });
        break;
      }
      case 'rejected-unlink':
        await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'unlink gate');
        await handleOf('data-owner').executeUpdate(decideUpdate, {
          args: [{ decision: 'reject', approver: 'data-owner', comment: 'the region is coming back' }],
        });
        await waitForStatus(handle, (s) => !s.openGate && s.currentStep === 'await-recovery', 'back to watching');
        fake.failedAnswers = true;
        break;
      case 'intervention-retry':
        await waitForStatus(handle, (s) => s.openGate?.gate === 'intervention:traffic-reroute', 'intervention');
        await handleOf('sre-lead').signal(interveneSignal, {
          action: 'retry',
          by: 'sre-lead',
          comment: 'lock removed',
        });
        await waitForStatus(handle, (s) => stepIs(s, 'await-recovery', 'running'), 'await-recovery');
        await recover();
        break;
      case 'aborted':
        await waitForStatus(handle, (s) => stepIs(s, 'await-recovery', 'running'), 'await-recovery');
        await handleOf('sre-manager').signal(abortSignal, {
          by: 'sre-manager',
          reason: 'handing over to the manual runbook',
        });
        break;
    }
    return { handle, result: (await handle.result()) as RunbookResult };
  };

  const nest = (list: Worker[], body: () => Promise<ScenarioRun>): Promise<ScenarioRun> => {
    const [first, ...rest] = list;
    return first ? first.runUntil(() => nest(rest, body)) : body();
  };
  return nest(workers, async () => {
    const { handle, result } = await drive();
    const description = await handle.describe();
    return {
      scenario,
      workflowId: handle.workflowId,
      runId: description.runId,
      workflowType: description.type,
      result,
      history: await handle.fetchHistory(),
      fake,
    };
  });
}
