// Real runs of the current runbook workflows with mocked activities (the e2e fakes), one per audit-worthy
// path: shared by scripts/record-histories.ts (writes test/replay/histories/*.json) and the audit e2e test.
// Every action is signed with the actor's key (test/helpers/people.ts), as the CLI signs it; each actor also
// sends through a client of their own, so the history carries their (self-declared) Temporal identity.
import { Client } from '@temporalio/client';
import type { Connection, WorkflowHandle } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import type { NativeConnection, WorkflowBundle } from '@temporalio/worker';
import { evacuationPlan } from '../../src/activities/evacuation';
import { fetchIncidentRuns } from '../../src/audit/chain';
import { readHistoryFacts } from '../../src/audit/report/events';
import { evacuationStatusQuery, type RegionEvacuationInput } from '../../src/contract/evacuation';
import { probeTaskQueue, WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type {
  FailoverRunbookInput,
  GroupDefinition,
  RejoinRunbookInput,
  RunbookResult,
} from '../../src/contract/runbook';
import type { RunbookStatus } from '../../src/contract/types';
import { startRequest } from '../../src/signing/payloads';
import { signAction } from '../../src/signing/sign-action';
import { startFailover } from '../../src/starter';
import type { failoverRunbook, rejoinRunbook } from '../../src/workflows';
import {
  abortAs,
  COMMANDERS,
  decideAs,
  endRehearsalAs,
  interveneAs,
  OUTSIDER,
  personKey,
  policyFor,
  recoveredAs,
  unlinkNowAs,
  voteSignalAs,
} from './people';
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
  // an approval gate waits past approvalTimeout, escalates (notifyEscalation), then is approved
  'escalation',
  // a failing step, `intervene skip`, the requester's own approval refused, the skip approved by someone else
  'skip',
  // an intervention gate nobody answers: it escalates, times out, and the run stops safely
  'timeout',
  // the commander's unlinkNow opens approval-unlink before any trigger; approved, force-unlink, rejoin
  'unlink-now',
  // unlink, then rejoin with rejoinMethod 'recreate'
  'recreate',
  // a long outage over several runs (tuning.pollsPerRun): every run of the incident is recorded
  'continue-as-new',
  // a planned failover of a healthy region (mode rehearsal): drain, hold until endRehearsal, failback, canaries
  'rehearsal',
  // regionEvacuation of the group's region: its child runbook reroutes, then a commander aborts the evacuation
  'evacuation-aborted',
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
  /** the last run of the incident (the only one unless it continued as new) */
  runId: string;
  workflowType: string;
  result: RunbookResult;
  /** the last run's history */
  history: History;
  /** every run of the incident, first run first (one entry unless it continued as new) */
  runs: { runId: string; history: History }[];
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

/** What a scenario changes in the group before it starts. */
function groupChange(scenario: ScenarioName): (g: GroupDefinition) => void {
  return (g) => {
    switch (scenario) {
      case 'long-outage-unlink-rejoin':
        g.quorum.unlink = 2;
        break;
      // The manager who takes over by aborting must be a commander: only commanders may abort.
      case 'aborted':
        g.commanders = [...COMMANDERS, 'sre-manager'];
        break;
      // Long enough for people to answer every other gate of the run; the unlink gate is left to escalate.
      case 'escalation':
        g.durations.approvalTimeout = '3s';
        g.durations.escalationTimeout = '2m';
        break;
      case 'timeout':
        g.durations.approvalTimeout = '1s';
        g.durations.escalationTimeout = '1s';
        break;
      case 'recreate':
        g.rejoinMethod = 'recreate';
        break;
      default:
        break;
    }
  };
}

/** Scenarios of one incident over several runs: polls of one run before it continues as new. */
const POLLS_PER_RUN: Partial<Record<ScenarioName, number>> = { 'continue-as-new': 3 };
/** The continue-as-new scenario goes on until the incident has had at least this many runs. */
export const CHAIN_MIN_RUNS = 3;

/**
 * Runs one scenario to its end on a main worker (mocked activities) and probe workers, then fetches its
 * history (every run's, when the incident continued as new). The workers stop before this resolves.
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
  const group = groupFor(options, groupChange(scenario));
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
      activities: {
        ...fake.activities(),
        planEvacuation: async ({ region }: { region: string }) =>
          evacuationPlan(
            { policies: () => ({ found: true, policy: policyFor(group) }), groupNames: [group.name] },
            region,
          ),
      },
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

  const drive = async (): Promise<{ workflowId: string; result: RunbookResult }> => {
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
      return { workflowId, result: (await handle.result()) as RunbookResult };
    }

    if (scenario === 'evacuation-aborted') {
      const workflowId = workflowIds.evacuation(failed);
      const reason = `${failed} is down: evacuate it (recorded scenario)`;
      // As `geofailover evacuate` signs it: the evacuation's start, and one start per group's failover.
      const input: RegionEvacuationInput = {
        region: failed,
        reason,
        request: signAction(personKey(requester), {
          action: 'start',
          actor: requester,
          workflowId,
          runId: null,
          targets: [],
          comment: reason,
          detail: { region: failed },
        }),
        starts: { [group.name]: signedRequest(workflowIds.failover(group.name), failed, reason) },
        concurrency: 1,
        tuning: TEST_TUNING,
      };
      const handle = await as(requester).workflow.start(WORKFLOW_TYPES.regionEvacuation, {
        taskQueue,
        workflowId,
        args: [input],
      });
      const deadline = Date.now() + 60_000;
      for (;;) {
        const s = await handle.query(evacuationStatusQuery);
        if (s.groups.some((g) => g.phase === 'awaiting-recovery')) break;
        if (Date.now() > deadline)
          throw new Error(`the evacuation's group never rerouted: ${JSON.stringify(s.groups)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      await abortAs(handle, requester, 'the region is back sooner than feared');
      return { workflowId, result: (await handle.result()) as RunbookResult };
    }

    if (scenario === 'rehearsal') {
      fake.failedAnswers = true; // a healthy region: every member answers
      const workflowId = workflowIds.rehearsal(group.name);
      const reason = `quarterly rehearsal of ${failed} (recorded scenario)`;
      const input: FailoverRunbookInput = {
        group: group.name,
        failedRegion: failed,
        reason,
        mode: 'rehearsal',
        request: signedRequest(workflowId, failed, reason),
        tuning: { ...TEST_TUNING, replicationCheckTimeout: '5s' },
      };
      const handle = await as(requester).workflow.start<typeof failoverRunbook>(WORKFLOW_TYPES.failoverRunbook, {
        taskQueue,
        workflowId,
        args: [input],
      });
      await waitForStatus(handle, (s) => s.phase === 'holding', 'the hold');
      await endRehearsalAs(handle, requester, 'players served from the other regions');
      return { workflowId, result: (await handle.result()) as RunbookResult };
    }

    const reason = `${failed} region outage (recorded scenario ${scenario})`;
    const pollsPerRun = POLLS_PER_RUN[scenario];
    const input: FailoverRunbookInput = {
      group: group.name,
      failedRegion: failed,
      reason,
      request: signedRequest(workflowIds.failover(group.name), failed, reason),
      tuning: pollsPerRun === undefined ? TEST_TUNING : { ...TEST_TUNING, pollsPerRun },
    };
    if (['rejected-unlink', 'long-outage-unlink-rejoin', 'escalation', 'recreate'].includes(scenario)) {
      fake.memoryPercent[survivor] = 95;
    }
    if (scenario === 'intervention-retry' || scenario === 'timeout') {
      fake.failures.setEndpointStatus = [FakeGroup.azureFailure('AzureBadRequest', 'BadRequest: endpoint is locked')];
    }
    if (scenario === 'skip') {
      fake.failures.canaryWriteRead = [FakeGroup.azureFailure('ProbeFailed', 'canary key did not come back')];
    }
    const started = await startFailover(as(requester), input, { taskQueue });
    const { workflowId } = started;
    // As the CLI does: the workflow id alone reaches the incident's current run (it may have continued as new), and
    // every statement is signed for the run the status query names.
    const handleOf = (actor: string): WorkflowHandle => as(actor).workflow.getHandle(workflowId);
    const handle = handleOf(requester);
    const recover = async (): Promise<void> => {
      await recoveredAs(handle, requester, `${failed} healthy again`);
      fake.failedAnswers = true;
    };
    const unlinkThenRejoin = async (unlinkApprover: string): Promise<void> => {
      await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'unlink gate');
      await decideAs(handleOf(unlinkApprover), unlinkApprover, 'approve', 'the survivors cannot wait');
      await waitForStatus(handle, (s) => stepIs(s, 'force-unlink', 'succeeded'), 'force-unlink');
      fake.memoryPercent[survivor] = 40;
      fake.failedAnswers = true; // the member answers again: the checks confirm it, no signal needed
      await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-rejoin', 'rejoin gate', 60_000);
      await decideAs(handleOf('data-owner'), 'data-owner', 'approve', 'data loss accepted');
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
        await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-rejoin', 'rejoin gate', 60_000);
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
      case 'escalation':
        // Nobody answers within approvalTimeout: the gate escalates (notifyEscalation) and keeps waiting.
        await waitForStatus(
          handle,
          (s) => s.openGate?.gate === 'approval-unlink' && !!s.openGate.escalatedAt && fake.calls.notifyEscalation > 0,
          'escalated unlink gate',
        );
        await unlinkThenRejoin('sre-manager');
        break;
      case 'skip':
        await waitForStatus(handle, (s) => s.openGate?.gate === 'intervention:verify', 'intervention');
        await interveneAs(handleOf(requester), requester, 'skip', 'the canary is flaky; traffic is fine');
        await waitForStatus(handle, (s) => s.openGate?.skipRequestedBy === requester, 'skip requested');
        // Four-eyes: whoever asked for the skip cannot approve it (refused, in the history); someone else does.
        await decideAs(handleOf(requester), requester, 'approve');
        await decideAs(handleOf('sre-manager'), 'sre-manager', 'approve', 'skip the canary');
        await waitForStatus(handle, (s) => stepIs(s, 'await-recovery', 'running'), 'await-recovery');
        await recover();
        break;
      case 'timeout':
        // Nobody answers the intervention gate: it escalates, then times out, and the run stops safely.
        break;
      case 'unlink-now':
        await waitForStatus(handle, (s) => stepIs(s, 'await-recovery', 'running'), 'await-recovery');
        await unlinkNowAs(handleOf(requester), requester, 'the survivors are filling up; do not wait for the trigger');
        await unlinkThenRejoin('sre-manager');
        break;
      case 'recreate':
        await unlinkThenRejoin('sre-manager');
        break;
      case 'continue-as-new': {
        // Polls go on while nothing happens: the incident continues as new, run after run.
        await waitForStatus(handle, (s) => (s.continued?.run ?? 1) >= 2, 'second run', 60_000);
        // The trigger fires in a later run: its gate is answered with a statement signed for that run.
        fake.memoryPercent[survivor] = 95;
        await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'unlink gate', 60_000);
        await decideAs(handleOf('sre-manager'), 'sre-manager', 'approve', 'memory is critical');
        await waitForStatus(handle, (s) => stepIs(s, 'force-unlink', 'succeeded'), 'force-unlink', 60_000);
        fake.memoryPercent[survivor] = 40;
        await waitForStatus(handle, (s) => (s.continued?.run ?? 1) >= CHAIN_MIN_RUNS, 'third run', 60_000);
        await recover();
        await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-rejoin', 'rejoin gate', 60_000);
        await decideAs(handleOf('data-owner'), 'data-owner', 'approve', 'data loss accepted');
        break;
      }
    }
    return { workflowId, result: (await handle.result()) as RunbookResult };
  };

  const nest = (list: Worker[], body: () => Promise<ScenarioRun>): Promise<ScenarioRun> => {
    const [first, ...rest] = list;
    return first ? first.runUntil(() => nest(rest, body)) : body();
  };
  return nest(workers, async () => {
    const { workflowId, result } = await drive();
    const runs = (await fetchIncidentRuns(as(requester), workflowId)).map((r) => ({
      runId: readHistoryFacts(r.history).runId ?? r.runId ?? '',
      history: r.history,
    }));
    const last = runs[runs.length - 1];
    if (!last) throw new Error(`${workflowId} has no run`);
    return {
      scenario,
      workflowId,
      runId: last.runId,
      workflowType: readHistoryFacts(last.history).workflowType,
      result,
      history: last.history,
      runs,
      fake,
    };
  });
}
