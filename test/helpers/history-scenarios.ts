// Real runs of the current runbook workflows with mocked activities (the e2e fakes), one per audit-worthy
// path: shared by scripts/record-histories.ts (writes test/replay/histories/*.json) and the audit e2e test.
// Every action is signed with the actor's key (test/helpers/people.ts), as the CLI signs it; each actor also
// sends through a client of their own, so the history carries their (self-declared) Temporal identity.
import { Client } from '@temporalio/client';
import type { Connection, WorkflowHandle } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import type { NativeConnection, WorkflowBundle } from '@temporalio/worker';
import { probeTaskQueue, WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type {
  FailoverRunbookInput,
  GroupDefinition,
  RejoinRunbookInput,
  RunbookResult,
} from '../../src/contract/runbook';
import type { RunbookStatus } from '../../src/contract/types';
import { startRequest } from '../../src/signing/payloads';
import { startFailover } from '../../src/starter';
import type { rejoinRunbook } from '../../src/workflows';
import { abortAs, COMMANDERS, decideAs, interveneAs, OUTSIDER, personKey, recoveredAs, voteSignalAs } from './people';
import { FakeGroup, TEST_TUNING, testGroup } from './runbook-fakes';
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
    // The manager who takes over by aborting must be a commander: only commanders may abort.
    if (scenario === 'aborted') g.commanders = [...COMMANDERS, 'sre-manager'];
  });
  const requester = COMMANDERS[0] as string;
  /** The commander's signed start of this workflow, for the member of `region`, as `geofailover start` signs it. */
  const signedRequest = (workflowId: string, region: string, reason: string) =>
    startRequest(personKey(requester), {
      actor: requester,
      workflowId,
      databaseId: group.members[region] ?? '',
      region,
      reason,
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
      const workflowId = workflowIds.rejoin(group.name);
      const reason = `${failed} is back after a long outage; rejoin it`;
      const input: RejoinRunbookInput = {
        group: group.name,
        region: failed,
        reason,
        request: signedRequest(workflowId, failed, reason),
        tuning: TEST_TUNING,
      };
      const handle = await as(requester).workflow.start<typeof rejoinRunbook>(WORKFLOW_TYPES.rejoinRunbook, {
        taskQueue,
        workflowId,
        args: [input],
      });
      await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-rejoin', 'rejoin gate');
      await decideAs(
        as('data-owner').workflow.getHandle(handle.workflowId),
        'data-owner',
        'approve',
        'data loss accepted',
      );
      return { handle, result: (await handle.result()) as RunbookResult };
    }

    const reason = `${failed} region outage (recorded scenario ${scenario})`;
    const input: FailoverRunbookInput = {
      group: group.name,
      failedRegion: failed,
      reason,
      request: signedRequest(workflowIds.failover(group.name), failed, reason),
      tuning: TEST_TUNING,
    };
    if (scenario === 'rejected-unlink' || scenario === 'long-outage-unlink-rejoin') fake.memoryPercent[survivor] = 95;
    if (scenario === 'intervention-retry') {
      fake.failures.setEndpointStatus = [FakeGroup.azureFailure('AzureBadRequest', 'BadRequest: endpoint is locked')];
    }
    const started = await startFailover(as(requester), input, { taskQueue });
    const handle = as(requester).workflow.getHandle(started.workflowId, started.firstExecutionRunId);
    const handleOf = (actor: string): WorkflowHandle =>
      as(actor).workflow.getHandle(started.workflowId, started.firstExecutionRunId);
    const recover = async (): Promise<void> => {
      await recoveredAs(handleOf(requester), requester, `${failed} healthy again`);
      fake.failedAnswers = true;
    };

    switch (scenario) {
      case 'short-outage':
        await waitForStatus(handle, (s) => stepIs(s, 'await-recovery', 'running'), 'await-recovery');
        await recover();
        break;
      case 'long-outage-unlink-rejoin': {
        await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'unlink gate');
        // Refused: the requester approving their own incident (four-eyes, though properly signed), and an
        // outsider whose key is in no policy (her signature cannot verify).
        await decideAs(handleOf(requester), requester, 'approve');
        await voteSignalAs(handleOf(OUTSIDER), OUTSIDER, 'approve', 'let me help');
        // Accepted: two distinct approvers, one by signal (as `temporal workflow signal` does), one by update.
        await voteSignalAs(handleOf('sre-manager'), 'sre-manager', 'approve', 'memory is critical');
        await waitForStatus(handle, (s) => s.openGate?.approvals.length === 1, 'first approval');
        await decideAs(handleOf('data-owner'), 'data-owner', 'approve', 'agreed');
        await waitForStatus(handle, (s) => stepIs(s, 'force-unlink', 'succeeded'), 'force-unlink');
        fake.failedAnswers = true; // the member answers again: no signal needed
        await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-rejoin', 'rejoin gate');
        await decideAs(handleOf('sre-manager'), 'sre-manager', 'approve', 'rejoin now');
        break;
      }
      case 'rejected-unlink':
        await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'unlink gate');
        await decideAs(handleOf('data-owner'), 'data-owner', 'reject', 'the region is coming back');
        await waitForStatus(handle, (s) => !s.openGate && s.currentStep === 'await-recovery', 'back to watching');
        fake.failedAnswers = true;
        break;
      case 'intervention-retry':
        await waitForStatus(handle, (s) => s.openGate?.gate === 'intervention:traffic-reroute', 'intervention');
        await interveneAs(handleOf(requester), requester, 'retry', 'lock removed');
        await waitForStatus(handle, (s) => stepIs(s, 'await-recovery', 'running'), 'await-recovery');
        await recover();
        break;
      case 'aborted':
        await waitForStatus(handle, (s) => stepIs(s, 'await-recovery', 'running'), 'await-recovery');
        await abortAs(handleOf('sre-manager'), 'sre-manager', 'handing over to the manual runbook');
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
