// A rehearsal on the real stack (dev server, workers, ARM emulator over HTTPS, redis-servers), driven the way a
// commander and approvers drive it: `geofailover rehearse`, `status`, `end-rehearsal`, `approve`, `abort`. Traffic
// drains from a healthy region and comes back; a canary written in one member is read in every other through the
// probe workers (replication runs again); destructive steps only for a group whose configuration allows them.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workflowIds } from '../../src/contract/names';
import type { RunbookResult } from '../../src/contract/runbook';
import type { RehearseResult } from '../../src/cli/commands/rehearse';
import { RealStack, REQUESTER, showRun, step, waitForStatus } from '../helpers/real-stack';
import { assertCliSchema } from '../helpers/cli-schema';
import { getTestEnv } from '../helpers/temporal';

const REGION = 'eastus';
const DESTRUCTIVE = ['forceUnlink', 'forceLinkToReplicationGroup', 'deleteDatabase', 'createDatabase'] as const;

function destructiveCalls(stack: RealStack): Record<string, number> {
  return Object.fromEntries(DESTRUCTIVE.map((op) => [op, stack.count(op)]));
}

describe('a rehearsal on the real stack', function () {
  this.timeout(300_000);
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

  async function rehearse(s: RealStack, extra: string[] = []): Promise<RehearseResult> {
    const run = await s.cliAs(REQUESTER, [
      'rehearse',
      s.group.name,
      '--region',
      REGION,
      '--reason',
      'Q4 DR rehearsal (real-stack test)',
      '--incident',
      'CHG-2026-12',
      '--json',
      '--task-queue',
      s.taskQueue,
      ...extra,
    ]);
    assert.equal(run.code, 0, showRun(run));
    const started = JSON.parse(run.stdout) as RehearseResult;
    assertCliSchema('rehearse', started);
    return started;
  }

  it('drains a healthy region, holds until end-rehearsal, fails back and proves replication; nothing destructive', async () => {
    stack = await RealStack.start(env);
    const s = stack;
    // Bad usage exits 2 before anything is signed or started.
    for (const args of [
      ['--reason', 'x'],
      ['--region', REGION],
      ['--region', REGION, '--reason', 'x', '--hold', 'soon'],
    ]) {
      const bad = await s.cliAs(REQUESTER, ['rehearse', s.group.name, ...args]);
      assert.equal(bad.code, 2, showRun(bad));
    }
    const notAMember = await s.cliAs(REQUESTER, ['rehearse', s.group.name, '--region', 'westus', '--reason', 'x']);
    assert.equal(notAMember.code, 1, showRun(notAMember));
    const started = await rehearse(s);
    assert.equal(started.workflowId, workflowIds.rehearsal(s.group.name));
    const again = await s.cliAs(REQUESTER, [
      'rehearse',
      s.group.name,
      '--region',
      REGION,
      '--reason',
      'x',
      '--task-queue',
      s.taskQueue,
    ]);
    assert.equal(again.code, 1, 'a second rehearsal of the group is refused while one runs');
    assert.match(again.stderr, /a runbook of group .* is open: workflow rehearsal\//);
    assert.equal(started.destructive, false);
    assert.ok(
      started.next.some((line) => line.includes(`end-rehearsal ${s.group.name}`)),
      started.next.join('\n'),
    );
    const handle = s.track(started.workflowId, started.runId);

    const holding = await waitForStatus(handle, (st) => st.phase === 'holding', 'the hold', 120_000);
    assert.equal(holding.mode, 'rehearsal');
    assert.equal(s.endpointStatuses()[REGION], 'Disabled', 'traffic drained from the rehearsed region');
    assert.match(step(holding, 'force-unlink').summary, /does not allow rehearsing destructive steps/);
    // The firewall probed the members that carry traffic from every application region, the rehearsed one's too.
    const probes = (step(holding, 'firewall').evidence as { probes: { applicationRegion: string }[] }).probes;
    assert.ok(probes.some((p) => p.applicationRegion === REGION));

    const status = await s.cli(['status', started.workflowId, '--json']);
    assert.equal(status.code, 0, showRun(status));
    assert.equal((JSON.parse(status.stdout) as { status: { mode: string } }).status.mode, 'rehearsal');
    const byGroup = await s.cli(['status', s.group.name]);
    assert.equal(byGroup.code, 0, showRun(byGroup));
    assert.match(byGroup.stdout, /REHEARSAL of group .*, drained region eastus, phase holding/);

    const ended = await s.cliAs(REQUESTER, [
      'end-rehearsal',
      s.group.name,
      '--comment',
      'players served elsewhere',
      '--json',
    ]);
    assert.equal(ended.code, 0, showRun(ended));
    assertCliSchema('signal', JSON.parse(ended.stdout));
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.outcome, 'completed', result.summary);
    assert.equal(result.mode, 'rehearsal');
    assert.match(result.summary, /^rehearsal of /);
    assert.equal(s.endpointStatuses()[REGION], 'Enabled', 'traffic came back');
    assert.deepEqual(destructiveCalls(s), Object.fromEntries(DESTRUCTIVE.map((op) => [op, 0])));
    assert.match(step(result.status, 'hold').summary, new RegExp(`ended by ${REQUESTER}`));
    const check = step(result.status, 'replication-check');
    assert.equal(check.status, 'succeeded', check.summary);
    const reads = (check.evidence as { reads: { seenAfterMs?: number; memberRegion: string }[] }).reads;
    // Two canaries (the region's and another member's), each read in the two other members from three regions.
    assert.equal(reads.length, 2 * 2 * 3);
    assert.ok(reads.every((r) => typeof r.seenAfterMs === 'number'));
    s.assertFullyLinked();
  });

  it('a group allowed to rehearse destructively goes through force-unlink and rejoin behind signed approvals', async () => {
    stack = await RealStack.start(env, { group: (g) => (g.rehearsal = { destructive: true }) });
    const s = stack;
    const started = await rehearse(s, ['--hold', '1s']);
    assert.equal(started.destructive, true);
    const handle = s.track(started.workflowId, started.runId);

    const unlink = await waitForStatus(handle, (st) => st.openGate?.gate === 'approval-unlink', 'unlink gate', 120_000);
    assert.match(JSON.stringify(unlink.openGate), /discarded when it rejoins/, 'the gate spells out the data loss');
    const own = await s.cliAs(REQUESTER, ['approve', started.workflowId, '--yes']);
    assert.notEqual(own.code, 0, 'the requester cannot approve their own rehearsal');
    const approved = await s.cliAs('sre-manager', ['approve', started.workflowId, '--yes', '--comment', 'staging']);
    assert.equal(approved.code, 0, showRun(approved));

    await waitForStatus(handle, (st) => st.openGate?.gate === 'approval-rejoin', 'rejoin gate', 120_000);
    assert.equal(s.count('forceUnlink'), 1);
    assert.equal(s.endpointStatuses()[REGION], 'Disabled');
    const rejoin = await s.cliAs('data-owner', ['approve', started.workflowId, '--yes']);
    assert.equal(rejoin.code, 0, showRun(rejoin));

    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.outcome, 'completed', result.summary);
    assert.match(result.summary, /force-unlinked and rejoined \(destructive steps rehearsed\)/);
    assert.equal(s.count('forceUnlink'), 1);
    assert.equal(s.count('forceLinkToReplicationGroup'), 1);
    assert.equal(s.endpointStatuses()[REGION], 'Enabled');
    assert.equal(step(result.status, 'replication-check').status, 'succeeded');
    s.assertFullyLinked();
  });

  it('an abort during the hold gives the region its traffic back and ends safely', async () => {
    stack = await RealStack.start(env);
    const s = stack;
    const started = await rehearse(s);
    const handle = s.track(started.workflowId, started.runId);
    await waitForStatus(handle, (st) => st.phase === 'holding', 'the hold', 120_000);
    assert.equal(s.endpointStatuses()[REGION], 'Disabled');
    // An incident cannot start on the group while its rehearsal holds the Traffic Manager profile.
    const incident = await s.cliAs(REQUESTER, [
      'start',
      s.group.name,
      '--failed-region',
      'westeurope',
      '--reason',
      'westeurope down during the rehearsal',
      '--task-queue',
      s.taskQueue,
    ]);
    assert.equal(incident.code, 1, showRun(incident));
    assert.match(incident.stderr, /a rehearsal of group .* is open: workflow rehearsal\/.*nothing was started/);
    const abort = await s.cliAs(REQUESTER, ['abort', started.workflowId, '--reason', 'players complain']);
    assert.equal(abort.code, 0, showRun(abort));
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.outcome, 'aborted', result.summary);
    assert.match(result.summary, /traffic restored/);
    assert.equal(s.endpointStatuses()[REGION], 'Enabled');
    assert.deepEqual(destructiveCalls(s), Object.fromEntries(DESTRUCTIVE.map((op) => [op, 0])));
  });
});
