// failoverRunbook on the real stack (dev server, main worker, a probe worker per application region, the
// emulator through the official Azure SDK, its redis-servers): a short outage that heals by itself, and a long
// one that needs force-unlink and force-link, as the commander and the approvers see them (every action signed:
// test/helpers/people.ts, our CLI with --key, or its --print-payload sent with the plain Temporal CLI).
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { stepsNotIn } from '../../src/contract/steps';
import { decideAs, recoveredAs } from '../helpers/people';
import {
  FAST_METADATA_BUILDUP,
  RealStack,
  REQUESTER,
  showRun,
  step,
  stepStatuses,
  waitForStatus,
} from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

const FAILED = 'eastus';
const SURVIVORS = ['southeastasia', 'westeurope'];

describe('failoverRunbook on the real stack: outages', function () {
  this.timeout(240_000);
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

  it('short outage: traffic moves, the region returns before the unlink trigger, no force-unlink, resync, failback', async () => {
    stack = await RealStack.start(env);
    await stack.emulator.faults.outage(FAILED);
    const handle = await stack.startFailover(FAILED);

    const watching = await waitForStatus(
      handle,
      (s) => step(s, 'await-recovery').status === 'running',
      'await-recovery',
    );
    assert.equal(watching.phase, 'awaiting-recovery');
    assert.equal(stack.endpointStatuses()[FAILED], 'Disabled', 'traffic moved away from the failed region');
    const reroute = step(watching, 'traffic-reroute');
    assert.equal(reroute.status, 'succeeded', reroute.summary);
    assert.ok((reroute.evidence as { rtoMs: number }).rtoMs > 0, 'the RTO is measured');
    const probes = (step(watching, 'firewall').evidence as { probes: { applicationRegion: string; outcome: string }[] })
      .probes;
    assert.deepEqual(
      probes.map((p) => [p.applicationRegion, p.outcome]).sort(),
      SURVIVORS.flatMap((app) => SURVIVORS.map(() => [app, 'ok'])),
      'every application region but the failed one reached every survivor',
    );
    assert.match(step(watching, 'verify').summary, /canary written and read back/);
    assert.equal(stack.count('forceUnlink'), 0);

    // The region comes back well before the survivors' memory turns critical.
    await Promise.all([
      recoveredAs(handle, REQUESTER, `${FAILED} healthy again`),
      stack.emulator.faults.restore(FAILED),
    ]);
    const result = await handle.result();

    assert.equal(result.outcome, 'completed', result.summary);
    assert.deepEqual(stepStatuses(result.status), {
      'validate-input': 'succeeded',
      membership: 'succeeded',
      memory: 'succeeded',
      firewall: 'succeeded',
      'traffic-reroute': 'succeeded',
      verify: 'succeeded',
      'await-recovery': 'succeeded',
      'approval-unlink': 'skipped',
      'force-unlink': 'skipped',
      hold: 'skipped',
      'approval-rejoin': 'skipped',
      rejoin: 'succeeded',
      'traffic-failback': 'succeeded',
      'replication-check': 'skipped',
      complete: 'succeeded',
    });
    assert.match(step(result.status, 'rejoin').summary, /resynchronised by itself/);
    assert.equal(stack.count('forceUnlink'), 0, 'no force-unlink call at all');
    assert.equal(stack.count('forceLinkToReplicationGroup'), 0);
    assert.equal(stack.count('updateEndpoint', `/${FAILED}`), 2, 'one PATCH to reroute, one to fail back');
    assert.deepEqual(stack.endpointStatuses(), { eastus: 'Enabled', westeurope: 'Enabled', southeastasia: 'Enabled' });
    stack.assertFullyLinked();
    assert.equal(result.rtoMs, (reroute.evidence as { rtoMs: number }).rtoMs);

    const events = (await handle.fetchHistory()).events?.length ?? 0;
    process.stderr.write(`      short outage (happy path) history: ${events} events\n`);
    assert.ok(events > 0 && events < 500, `history stays small: ${events} events`);
  });

  it('long outage: critical pressure, unlink gate approved by our CLI and `temporal workflow signal` (quorum 2), force-unlink, recovery, rejoin gate, force-link, failback', async () => {
    stack = await RealStack.start(env, {
      metadataBytesPerSecond: FAST_METADATA_BUILDUP,
      group: (g) => void (g.quorum = { unlink: 2, rejoin: 1, intervention: 1 }),
    });
    await stack.emulator.faults.outage(FAILED);
    const handle = await stack.startFailover(FAILED);

    const gate = await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'the unlink gate');
    assert.equal(gate.phase, 'awaiting-approval');
    const request = gate.openGate?.request as {
      trigger: { reason: string };
      memoryTrend: { direction: string; toPercent: number };
      outageMs: number;
      blastRadius: { members: { region: string }[]; endpoint: { name: string } };
    };
    assert.equal(request.trigger.reason, 'critical-pressure');
    assert.ok(request.memoryTrend.toPercent >= 75, `memory at ${request.memoryTrend.toPercent}%`);
    assert.ok(request.outageMs > 0);
    assert.equal(request.blastRadius.endpoint.name, FAILED);
    assert.deepEqual(
      request.blastRadius.members.map((m) => m.region),
      [FAILED, 'westeurope', 'southeastasia'],
    );
    assert.deepEqual(gate.openGate?.eligibleApprovers, ['sre-manager', 'data-owner']);

    const first = await stack.cliAs('sre-manager', ['approve', stack.group.name, '--comment', 'outage confirmed']);
    assert.equal(first.code, 0, showRun(first));
    assert.match(
      first.stdout,
      /accepted: approve by sre-manager \(signed, SHA256:.*\) on approval-unlink/,
      showRun(first),
    );
    await waitForStatus(handle, (s) => s.openGate?.approvals.length === 1, 'the first approval');
    assert.equal(stack.count('forceUnlink'), 0, 'one approval of two changes nothing');

    // data-owner signs with our CLI and sends it with the plain Temporal CLI.
    const payload = await stack.signedPayloadFile('data-owner', ['approve', stack.group.name]);
    const second = await stack.temporal([
      'workflow',
      'signal',
      '--workflow-id',
      handle.workflowId,
      '--name',
      'approve',
      '--input-file',
      payload,
    ]);
    assert.equal(second.code, 0, showRun(second));

    const unlinked = await waitForStatus(handle, (s) => step(s, 'force-unlink').status === 'succeeded', 'force-unlink');
    assert.deepEqual(
      step(unlinked, 'approval-unlink').gates?.[0]?.votes.map((v) => [v.approver, v.via]),
      [
        ['sre-manager', 'decide'],
        ['data-owner', 'signal'],
      ],
    );
    assert.equal(stack.count('forceUnlink'), 1);
    for (const survivor of SURVIVORS) {
      assert.deepEqual(
        stack.links()[survivor]?.map(([region]) => region),
        SURVIVORS,
        `${survivor} no longer lists ${FAILED}`,
      );
    }
    assert.equal(step(unlinked, 'await-recovery').status, 'running', 'still watching for the region');

    // The region answers again: the watch notices by itself, and the rejoin waits for its own gate.
    await stack.emulator.faults.restore(FAILED);
    const rejoinGate = await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-rejoin', 'the rejoin gate');
    assert.equal(rejoinGate.openGate?.quorum, 1);
    assert.equal(stack.count('forceLinkToReplicationGroup'), 0, 'nothing rejoins before its gate');
    const approved = await decideAs(handle, 'data-owner');
    assert.equal(approved.accepted, true, approved.reason);
    const result = await handle.result();

    assert.equal(result.outcome, 'completed', result.summary);
    assert.ok(
      // Every step of an incident (a rehearsal's hold and replication check are not part of one).
      result.status.steps.every(
        (s) => s.status === (stepsNotIn('failover').includes(s.step) ? 'skipped' : 'succeeded'),
      ),
      JSON.stringify(stepStatuses(result.status)),
    );
    assert.equal(
      step(result.status, 'await-recovery').actor,
      'recovery-check',
      'the checks found it back, nobody asked',
    );
    assert.equal(stack.count('forceUnlink'), 1, 'exactly one force-unlink');
    assert.equal(stack.count('forceLinkToReplicationGroup', FAILED), 1, 'exactly one force-link');
    assert.deepEqual(stack.endpointStatuses(), { eastus: 'Enabled', westeurope: 'Enabled', southeastasia: 'Enabled' });
    stack.assertFullyLinked();
  });
});
