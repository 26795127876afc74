// Two groups behind one Traffic Manager endpoint, on the real stack (dev server, one main worker, probe workers, the
// emulator through the official Azure SDK): the scenario gets a second geo-replication group, `sessions`, in the same
// regions, and the configuration names both groups with the same profile and endpoints. An incident holds the
// endpoint from its traffic-reroute until its own traffic-failback starts: group 1's failback waits while group 2's
// incident holds it, saying so, and the endpoint is enabled once, when group 2 reaches its failback.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workflowIds } from '../../src/contract/names';
import type { Scenario } from '../../src/emulator/scenario';
import { decideAs, unlinkNowAs } from '../helpers/people';
import { RealStack, REQUESTER, step, waitForStatus } from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

const FAILED = 'eastus';

/** A second group, `sessions`: one more database per region, like the leaderboard's. */
function withSessionsGroup(scenario: Scenario): void {
  const sessions = scenario.clusters
    .filter((c) => c.name.startsWith('redis-leaderboard-'))
    .map((c) => ({
      ...structuredClone(c),
      name: c.name.replace('leaderboard', 'sessions'),
      databases: c.databases.map((d) => ({ ...structuredClone(d), geoReplication: { groupNickname: 'sessions' } })),
    }));
  scenario.clusters.push(...sessions);
}

describe('Traffic Manager endpoint shared by two groups (real stack)', function () {
  this.timeout(240_000);
  let env: TestWorkflowEnvironment;
  let stack: RealStack | undefined;

  before(async () => {
    env = await getTestEnv();
  });
  after(async () => {
    await stack?.close();
    await env?.teardown();
  });

  it("group 1's failback waits while group 2's incident holds the endpoint, naming it; enabled once when group 2 fails back", async () => {
    stack = await RealStack.start(env, {
      scenario: withSessionsGroup,
      otherGroups: ['sessions'],
      // Memory stays calm: no unlink trigger but the one the test sends.
      metadataBytesPerSecond: 1024,
    });
    const group1 = stack.group;
    const group2 = stack.otherGroups.sessions!;
    assert.equal(group2.trafficManager.profileId, group1.trafficManager.profileId);
    assert.deepEqual(group2.trafficManager.endpoints[FAILED], group1.trafficManager.endpoints[FAILED]);
    const endpoint = `/${group1.trafficManager.endpoints[FAILED]!.name}`;

    await stack.emulator.faults.outage(FAILED);
    // Group 2's incident first: it disables the shared endpoint.
    const h2 = await stack.startFailoverOf(group2, FAILED);
    const rerouted2 = await waitForStatus(
      h2,
      (s) => step(s, 'await-recovery').status === 'running',
      'group 2 watching for recovery',
      60_000,
    );
    assert.match(step(rerouted2, 'traffic-reroute').summary, new RegExp(`shared with group\\(s\\) ${group1.name}`));
    // Group 1's incident finds it disabled already: no second PATCH.
    const h1 = await stack.startFailover(FAILED);
    const rerouted1 = await waitForStatus(
      h1,
      (s) => step(s, 'await-recovery').status === 'running',
      'group 1 watching for recovery',
      60_000,
    );
    assert.match(step(rerouted1, 'traffic-reroute').summary, /was already disabled/);
    assert.equal(stack.count('updateEndpoint', endpoint), 1, 'one PATCH disabled the shared endpoint');

    // Group 2 unlinks its member, so after the region returns its incident waits at approval-rejoin, still holding.
    await unlinkNowAs(h2, REQUESTER, `${FAILED} will be down for long`);
    await waitForStatus(h2, (s) => s.openGate?.gate === 'approval-unlink', 'group 2 unlink gate');
    const unlinked = await decideAs(h2, 'data-owner');
    assert.equal(unlinked.accepted, true, unlinked.reason);
    await waitForStatus(h2, (s) => step(s, 'force-unlink').status === 'succeeded', 'group 2 force-unlink', 60_000);

    await stack.emulator.faults.restore(FAILED);
    await waitForStatus(h2, (s) => s.openGate?.gate === 'approval-rejoin', 'group 2 rejoin gate', 60_000);
    const waiting = await waitForStatus(
      h1,
      (s) =>
        step(s, 'traffic-failback').status === 'running' &&
        /holds it disabled/.test(step(s, 'traffic-failback').summary),
      "group 1's failback waiting for the shared endpoint",
      90_000,
    );
    const failback1 = step(waiting, 'traffic-failback');
    assert.match(
      failback1.summary,
      new RegExp(`open incident ${workflowIds.failover(group2.name)} \\(group ${group2.name}; ${FAILED} rerouted`),
    );
    assert.deepEqual(
      (failback1.evidence as { heldBy: { workflowId: string }[] }).heldBy.map((h) => h.workflowId),
      [workflowIds.failover(group2.name)],
    );
    assert.equal(stack.endpointStatuses()[FAILED], 'Disabled', 'still disabled while group 2 holds it');
    assert.equal(stack.count('updateEndpoint', endpoint), 1, 'no enabling PATCH yet');

    // Group 2 rejoins and reaches its failback: it no longer holds the endpoint.
    const rejoin = await decideAs(h2, 'data-owner');
    assert.equal(rejoin.accepted, true, rejoin.reason);
    const [result1, result2] = await Promise.all([h1.result(), h2.result()]);

    assert.equal(result1.outcome, 'completed', result1.summary);
    assert.equal(result2.outcome, 'completed', result2.summary);
    assert.equal(stack.endpointStatuses()[FAILED], 'Enabled');
    assert.equal(stack.count('updateEndpoint', endpoint), 2, 'one PATCH disabled it, one enabled it');
    const done1 = step(result1.status, 'traffic-failback');
    assert.match(
      done1.summary,
      new RegExp(`while the shared endpoint was held by ${workflowIds.failover(group2.name)}`),
    );
    const lease = (done1.evidence as { lease: { heldBy: { workflowId: string }[]; asks: number } }).lease;
    assert.deepEqual(
      lease.heldBy.map((h) => h.workflowId),
      [workflowIds.failover(group2.name)],
    );
    assert.ok(lease.asks >= 2, `asked again after waiting (${lease.asks} asks)`);
  });
});
