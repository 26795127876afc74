// regionEvacuation on the real stack (dev server, one main worker, probe workers, the emulator through the official
// Azure SDK over HTTPS, redis-servers): a scenario of its own with extra geo-replication groups in the three regions,
// each routed by its own Traffic Manager profile, and a configuration naming every one of them. The evacuation of
// eastus starts one failoverRunbook per group; people answer each child's gates as they would alone.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  evacuationStatusQuery,
  type EvacuationResult,
  type EvacuationStatus,
  type RegionEvacuationInput,
} from '../../src/contract/evacuation';
import { statusQuery } from '../../src/contract/messages';
import { WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type { GroupDefinition } from '../../src/contract/runbook';
import type { Scenario } from '../../src/emulator/scenario';
import { signAction } from '../../src/signing/sign-action';
import { decideAs, interveneAs, personKey } from '../helpers/people';
import {
  REAL_STACK_TUNING,
  RealStack,
  REQUESTER,
  showRun,
  waitForStatus,
  type RunbookHandle,
} from '../helpers/real-stack';
import { assertCliSchema } from '../helpers/cli-schema';
import { getTestEnv, getWorkflowBundle } from '../helpers/temporal';
import { emulatorCredential } from '../helpers/emulator';
import { createActivities } from '../../src/activities';
import { createArmClients } from '../../src/azure/clients';
import { loadConfig } from '../../src/config/load';
import { DRILL_SDK_RETRIES } from '../../src/drill/settings';
import { activityDependenciesFromConfig, createWorker } from '../../src/worker';

const FAILED = 'eastus';

/** `count` more groups (`evac-01` …): one cluster per region each, and a Traffic Manager profile of their own. */
function withGroups(count: number): (scenario: Scenario) => void {
  return (scenario) => {
    const leaderboard = scenario.clusters.filter((c) => c.name.startsWith('redis-leaderboard-'));
    const profile = scenario.trafficManagerProfiles.find((p) => p.name === 'tm-leaderboard')!;
    for (let i = 1; i <= count; i++) {
      const nickname = `evac-${String(i).padStart(2, '0')}`;
      scenario.clusters.push(
        ...leaderboard.map((c) => ({
          ...structuredClone(c),
          name: c.name.replace('leaderboard', nickname),
          databases: c.databases.map((d) => ({ ...structuredClone(d), geoReplication: { groupNickname: nickname } })),
        })),
      );
      const own = structuredClone(profile);
      own.name = `tm-${nickname}`;
      own.relativeName = `${nickname}-demo`;
      for (const e of own.endpoints) e.target = e.target?.replace('leaderboard', nickname);
      scenario.trafficManagerProfiles.push(own);
    }
  };
}

function nicknames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `evac-${String(i + 1).padStart(2, '0')}`);
}

/** What `geofailover evacuate --key` sends, with the tests' second-scale tuning. */
function evacuationInput(stack: RealStack, groups: GroupDefinition[], concurrency: number): RegionEvacuationInput {
  const reason = `${FAILED} regional outage (real-stack evacuation test)`;
  return {
    region: FAILED,
    reason,
    request: signAction(personKey(REQUESTER), {
      action: 'start',
      actor: REQUESTER,
      workflowId: workflowIds.evacuation(FAILED),
      runId: null,
      comment: reason,
      detail: { region: FAILED },
    }),
    starts: Object.fromEntries(groups.map((g) => [g.name, stack.signedStart(FAILED, reason, REQUESTER, g)])),
    concurrency,
    // Ten force-unlinks at once on a loaded machine: a heartbeat timeout of seconds, not the drill's 3 s.
    tuning: { ...REAL_STACK_TUNING, heartbeatTimeout: '30s' },
  };
}

async function waitForEvacuation(
  handle: WorkflowHandle,
  predicate: (s: EvacuationStatus) => boolean,
  what: string,
  timeoutMs = 120_000,
): Promise<EvacuationStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: EvacuationStatus | undefined;
  for (;;) {
    last = await handle.query(evacuationStatusQuery);
    if (predicate(last)) return last;
    if (Date.now() > deadline) {
      // What each child waiting at an intervention gate says about its failed step.
      const failures = await Promise.all(
        last.groups
          .filter((g) => g.openGate?.kind === 'intervention')
          .map(async (g) => {
            const st = await handle.client.getHandle(g.workflowId).query(statusQuery);
            return `${g.group}: ${st.steps.find((x) => x.step === g.openGate?.step)?.summary ?? '?'}`;
          }),
      );
      throw new Error(
        `timed out waiting for ${what}; last status:\n${JSON.stringify(last.groups, null, 1)}\n${failures.join('\n')}`,
      );
    }
    await sleep(300);
  }
}

/** Endpoint status of `region` in the group's own Traffic Manager profile, as ARM shows it. */
function endpointStatus(stack: RealStack, group: GroupDefinition, region: string): string | undefined {
  const profiles = stack.emulator.state().trafficManagerProfiles as {
    id: string;
    properties: { endpoints: { name: string; properties: { endpointStatus: string } }[] };
  }[];
  const profile = profiles.find((p) => p.id.toLowerCase() === group.trafficManager.profileId.toLowerCase());
  const name = group.trafficManager.endpoints[region]?.name;
  return profile?.properties.endpoints.find((e) => e.name === name)?.properties.endpointStatus;
}

/** Whether the group's members all list each other as Linked (ARM's view). */
function fullyLinked(stack: RealStack, group: GroupDefinition): boolean {
  const ids = Object.values(group.members).map((id) => id.toLowerCase());
  const { databases } = stack.emulator.state();
  return ids.every((id) => {
    const db = databases.find((d) => d.id.toLowerCase() === id);
    return (
      !!db && ids.every((other) => db.linkedDatabases.some((l) => l.id.toLowerCase() === other && l.state === 'Linked'))
    );
  });
}

/**
 * A main worker built as `geofailover worker --config FILE` builds it (activityDependenciesFromConfig), so the
 * configuration's evacuation section reaches the activities; ARM through the emulator's credential.
 */
async function batchWorker(stack: RealStack): Promise<{ shutdown(): void; running: Promise<void> }> {
  const fromConfig = activityDependenciesFromConfig(loadConfig(stack.configFile), { configDir: stack.dir });
  const arm = createArmClients({
    subscriptionId: stack.emulator.state().subscriptionId,
    endpoint: stack.emulator.arm,
    credential: emulatorCredential(stack.emulator),
    caPem: stack.emulator.caPem,
    keepAlive: false,
    retryOptions: { ...DRILL_SDK_RETRIES },
  });
  const worker = await createWorker({
    connection: stack.env.nativeConnection,
    namespace: stack.env.namespace,
    taskQueue: stack.taskQueue,
    activities: createActivities({
      ...fromConfig,
      arm,
      caPem: stack.emulator.caPem,
      redisTimeoutMs: 3000,
      verifyTimeoutMs: 10_000,
    }),
    workflowBundle: await getWorkflowBundle(),
  });
  return { shutdown: () => worker.shutdown(), running: worker.run() };
}

describe('regionEvacuation on the real stack', function () {
  this.timeout(600_000);
  let env: TestWorkflowEnvironment;
  let stack: RealStack | undefined;

  before(async () => {
    env = await getTestEnv();
  });
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });
  after(async () => {
    await env?.teardown();
  });

  async function startEvacuation(
    s: RealStack,
    groups: GroupDefinition[],
    concurrency: number,
  ): Promise<{ handle: WorkflowHandle; children: Map<string, RunbookHandle> }> {
    const started = await s.client.workflow.start(WORKFLOW_TYPES.regionEvacuation, {
      taskQueue: s.taskQueue,
      workflowId: workflowIds.evacuation(FAILED),
      args: [evacuationInput(s, groups, concurrency)],
    });
    const handle = s.track(started.workflowId, started.firstExecutionRunId);
    // The children are terminated with the stack too (close() terminates every tracked run still open).
    const children = new Map(groups.map((g) => [g.name, s.track(workflowIds.failover(g.name))]));
    return { handle, children };
  }

  it('10 groups: traffic moves for every group, one force-unlink fails and waits at its intervention gate, the nine others rejoin and fail back', async function () {
    this.timeout(1_500_000);
    const extra = nicknames(9);
    stack = await RealStack.start(env, {
      scenario: withGroups(extra.length),
      otherGroups: extra,
      // The unlink trigger fires a few seconds into the outage; gates wait long enough for every answer.
      group: (g) => {
        g.durations = { ...g.durations, maxOutageBeforeUnlink: '3s', approvalTimeout: '10m', escalationTimeout: '10m' };
      },
      metadataBytesPerSecond: 1024,
    });
    const groups = [stack.group, ...extra.map((n) => stack!.otherGroups[n]!)];
    const failing = groups[3]!;
    const { faults } = stack.emulator;
    await faults.outage(FAILED);
    // Every force-unlink of that one group fails (each of its survivors' databases).
    faults.lro({
      operation: 'forceUnlink',
      resource: `redis-${extra[2]}-`,
      fail: { code: 'UnlinkFailed', message: 'the survivor could not drop the link' },
      sticky: true,
    });
    assert.ok(failing.name.startsWith(extra[2]!), `${failing.name} is ${extra[2]}`);
    const { handle, children } = await startEvacuation(stack, groups, 4);

    // Under load a step of a group (a probe, an ARM call) may fail after its retries: a person retries it, as they
    // would alone. Only the group whose force-unlink the emulator fails is left at its gate.
    const retried = new Set<string>();
    const retryChecks = (s: EvacuationStatus): void => {
      for (const g of s.groups) {
        const gate = g.openGate;
        if (g.outcome || gate?.kind !== 'intervention' || (g.group === failing.name && gate.step === 'force-unlink')) {
          continue;
        }
        const key = `${g.group}:${gate.instance}`;
        if (retried.has(key)) continue;
        retried.add(key);
        void interveneAs(children.get(g.group)!, REQUESTER, 'retry', 'retry the check');
      }
    };
    // Traffic moves for every group before anything waits on a person: every child opens its unlink gate.
    const gated = await waitForEvacuation(
      handle,
      (s) => {
        retryChecks(s);
        return s.groups.length === 10 && s.groups.every((g) => g.openGate?.gate === 'approval-unlink');
      },
      'every group at approval-unlink',
      300_000,
    );
    assert.equal(gated.requestedBy, REQUESTER);
    assert.equal(gated.concurrency, 4);
    for (const g of gated.groups) assert.ok(g.rtoMs !== undefined && g.rtoMs > 0, `${g.group} has an RTO`);
    assert.equal(gated.gatesOpen.length, 10);
    for (const group of groups) assert.equal(endpointStatus(stack, group, FAILED), 'Disabled', group.name);

    // Each group's unlink is approved on its own (per-group: the configuration's default).
    for (const group of groups) {
      const ok = await decideAs(children.get(group.name)!, 'data-owner');
      assert.equal(ok.accepted, true, `${group.name}: ${ok.reason}`);
    }
    const failingHandle = children.get(failing.name)!;
    await waitForStatus(
      failingHandle,
      (s) => s.openGate?.gate === 'intervention:force-unlink',
      'the failing group at its intervention gate',
      120_000,
    );
    const others = groups.filter((g) => g !== failing);
    // The nine others are not held up: each force-unlinks, then the region returns and each rejoins on approval.
    await waitForEvacuation(
      handle,
      (s) => {
        retryChecks(s);
        return s.groups.filter((g) => g.group !== failing.name).every((g) => g.phase === 'awaiting-recovery');
      },
      'the nine others force-unlinked and watching for recovery',
      180_000,
    );
    await faults.restore(FAILED);
    const rejoinApproved = new Set<string>();
    await waitForEvacuation(
      handle,
      (s) => {
        retryChecks(s);
        for (const g of s.groups) {
          if (g.openGate?.gate === 'approval-rejoin' && !rejoinApproved.has(g.group)) {
            rejoinApproved.add(g.group);
            void decideAs(children.get(g.group)!, 'data-owner');
          }
        }
        return s.groups.filter((g) => g.group !== failing.name).every((g) => g.outcome === 'completed');
      },
      'the nine others completed',
      600_000,
    );

    const status = await handle.query(evacuationStatusQuery);
    assert.equal(status.byPhase.completed, 9, JSON.stringify(status.byPhase));
    assert.equal(status.byPhase.intervention, 1, JSON.stringify(status.byPhase));
    assert.deepEqual(
      status.gatesOpen.map((g) => [g.workflowId, g.gate]),
      [[workflowIds.failover(failing.name), 'intervention:force-unlink']],
    );
    for (const group of others) {
      assert.equal(endpointStatus(stack, group, FAILED), 'Enabled', `${group.name} failed back`);
      assert.ok(fullyLinked(stack, group), `${group.name} is fully linked again`);
    }
    assert.equal(endpointStatus(stack, failing, FAILED), 'Disabled', 'the failing group stays on its survivors');

    // The aggregate, as a commander reads it.
    const cli = await stack.cli(['status', workflowIds.evacuation(FAILED), '--json']);
    assert.equal(cli.code, 0, showRun(cli));
    const shown = JSON.parse(cli.stdout) as { status: EvacuationStatus };
    assert.equal(shown.status.groups.length, 10);
    assert.equal(shown.status.gatesOpen.length, 1);
  });

  it('an abort of the evacuation reaches every group: each stops on its own safe path, traffic stays on the survivors, nothing is unlinked', async () => {
    const extra = nicknames(2);
    stack = await RealStack.start(env, {
      scenario: withGroups(extra.length),
      otherGroups: extra,
      metadataBytesPerSecond: 1024,
    });
    const groups = [stack.group, ...extra.map((n) => stack!.otherGroups[n]!)];
    await stack.emulator.faults.outage(FAILED);
    // As a commander starts it: geofailover evacuate signs the evacuation's start and one start per group.
    const started = await stack.cliAs(REQUESTER, [
      'evacuate',
      '--region',
      FAILED,
      '--reason',
      'eastus is down (real-stack evacuation test)',
      '--concurrency',
      '2',
      '--task-queue',
      stack.taskQueue,
      '--json',
    ]);
    assert.equal(started.code, 0, showRun(started));
    const startedJson = JSON.parse(started.stdout) as { workflowId: string; runId: string; groups: string[] };
    assertCliSchema('evacuate', startedJson);
    assert.deepEqual([...startedJson.groups].sort(), groups.map((g) => g.name).sort());
    const handle = stack.track(startedJson.workflowId, startedJson.runId);
    for (const g of groups) stack.track(workflowIds.failover(g.name));
    await waitForEvacuation(
      handle,
      (s) => s.groups.length === 3 && s.groups.every((g) => g.phase === 'awaiting-recovery'),
      'every group rerouted and watching for recovery',
      180_000,
    );

    // The aggregate a commander reads: groups per phase, the RTO of each, in the published shape.
    const aggregate = await stack.cli(['status', workflowIds.evacuation(FAILED), '--json']);
    assert.equal(aggregate.code, 0, showRun(aggregate));
    const view = JSON.parse(aggregate.stdout) as { status: EvacuationStatus };
    assertCliSchema('evacuation-status', view);
    assert.equal(view.status.byPhase['awaiting-recovery'], 3, aggregate.stdout);
    assert.ok(
      view.status.groups.every((g) => typeof g.rtoMs === 'number'),
      'an RTO per rerouted group',
    );

    const abort = await stack.cliAs(REQUESTER, [
      'abort',
      workflowIds.evacuation(FAILED),
      '--reason',
      'the region is back sooner than feared',
    ]);
    assert.equal(abort.code, 0, showRun(abort));
    const result = (await handle.result()) as unknown as EvacuationResult;
    assert.equal(result.outcome, 'aborted', result.summary);
    for (const g of result.status.groups) {
      assert.equal(g.outcome, 'aborted', `${g.group}: ${g.summary}`);
      assert.match(g.summary ?? '', /aborted by sre-lead/);
    }
    for (const group of groups) {
      assert.equal(endpointStatus(stack, group, FAILED), 'Disabled', `${group.name}: traffic stays on the survivors`);
    }
    assert.equal(stack.count('forceUnlink'), 0, 'nothing was unlinked');

    // The evacuation's evidence package: every group's own package, and a summary table linking each report.
    const out = path.join(stack.dir, 'evidence-evacuation');
    const audit = await stack.cli([
      'audit',
      workflowIds.evacuation(FAILED),
      '--out',
      out,
      '--format',
      'md,json',
      '--json',
    ]);
    assert.equal(audit.code, 0, showRun(audit));
    const summary = readFileSync(path.join(out, 'README.md'), 'utf8');
    for (const group of groups) {
      assert.match(summary, new RegExp(`\\| ${group.name} \\| aborted \\|.*\\(${group.name}/report\\.md\\)`));
      assert.ok(existsSync(path.join(out, group.name, 'report.md')), `${group.name}/report.md`);
      assert.ok(existsSync(path.join(out, group.name, 'SHA256SUMS')), `${group.name}/SHA256SUMS`);
    }
    const written = JSON.parse(audit.stdout) as { verified: boolean; groups: { verdict?: string }[] };
    assert.equal(written.verified, true);
    assert.deepEqual(
      written.groups.map((g) => g.verdict),
      groups.map(() => 'verified'),
    );
  });

  it('batch approval: one signed approve-batch approves the unlink gate of every listed group; each checks it and force-unlinks', async () => {
    const extra = nicknames(2);
    stack = await RealStack.start(env, {
      scenario: withGroups(extra.length),
      otherGroups: extra,
      mainWorker: false,
      group: (g) => {
        g.durations = { ...g.durations, maxOutageBeforeUnlink: '2s', approvalTimeout: '10m', escalationTimeout: '10m' };
      },
      metadataBytesPerSecond: 1024,
    });
    // The worker's configuration says batch: the stack's own configuration file, with an evacuation section.
    const configured = JSON.parse(readFileSync(stack.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      stack.configFile,
      JSON.stringify({ ...configured, evacuation: { unlinkApproval: 'batch' } }, null, 2),
    );
    const worker = await batchWorker(stack);
    try {
      const groups = [stack.group, ...extra.map((n) => stack!.otherGroups[n]!)];
      await stack.emulator.faults.outage(FAILED);
      const { handle, children } = await startEvacuation(stack, groups, 3);
      const gated = await waitForEvacuation(
        handle,
        (s) => s.groups.length === 3 && s.groups.every((g) => g.openGate?.gate === 'approval-unlink'),
        'every group at approval-unlink',
        180_000,
      );
      assert.equal(gated.unlinkApproval, 'batch');

      // The requester cannot approve (four-eyes, checked by each group); an approver's one statement covers all three.
      const own = await stack.cliAs(REQUESTER, [
        'approve-batch',
        workflowIds.evacuation(FAILED),
        '--groups',
        groups.map((g) => g.name).join(','),
      ]);
      assert.equal(own.code, 0, showRun(own));
      const batch = await stack.cliAs('data-owner', [
        'approve-batch',
        workflowIds.evacuation(FAILED),
        '--groups',
        groups.map((g) => g.name).join(','),
        '--comment',
        'eastus is gone for hours',
      ]);
      assert.equal(batch.code, 0, showRun(batch));
      for (const group of groups) {
        const status = await waitForStatus(
          children.get(group.name)!,
          (st) => st.steps.find((x) => x.step === 'force-unlink')?.status === 'succeeded',
          `${group.name} force-unlinked`,
          120_000,
        );
        const gate = status.steps.find((x) => x.step === 'approval-unlink')!;
        assert.equal(gate.status, 'succeeded', gate.summary);
        const refused = (gate.refusedAttempts ?? []).map((r) => r.reason).join('; ');
        assert.match(refused, /sre-lead requested this incident and cannot approve it/, 'the requester was refused');
      }
      assert.equal(stack.count('forceUnlink'), 3, 'one force-unlink per group');
      const actions = (await handle.query(evacuationStatusQuery)).actions.filter((a) => a.action === 'approve-batch');
      assert.deepEqual(
        actions.map((a) => [a.by, a.accepted]),
        [
          ['sre-lead', true],
          ['data-owner', true],
        ],
      );
    } finally {
      worker.shutdown();
      await worker.running;
    }
  });
});
