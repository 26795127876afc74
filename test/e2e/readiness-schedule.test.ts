// The readiness watch on the whole stack: `geofailover readiness G --schedule 3s` creates a Temporal Schedule on the
// shared dev server; its checks run on a real worker against the emulator over HTTPS. A member's eviction policy is
// changed through the official Azure SDK (as someone in the portal would), the watch turns fail and the group's
// webhook (a local HTTPS receiver) hears of it exactly once; put back, the watch passes and says so once.
import assert from 'node:assert/strict';
import { createArmClients } from '../../src/azure/clients';
import { parseDatabaseId } from '../../src/azure/resource-ids';
import type { ReadinessReport, ReadinessVerdict } from '../../src/contract/readiness';
import { describeReadinessSchedule } from '../../src/readiness-report/schedule';
import { emulatorCredential } from '../helpers/emulator';
import { RealStack, showRun, startWebhookReceiver, type WebhookReceiver } from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

interface ReadinessWebhook {
  event: string;
  group: string;
  from: string;
  to: ReadinessVerdict;
  failing: { check: string; reasons: string[] }[];
}

describe('readiness as a watch: a Temporal Schedule and its webhook', function () {
  this.timeout(480_000);
  let stack: RealStack;
  let receiver: WebhookReceiver;

  before(async () => {
    receiver = await startWebhookReceiver();
    // Probes get 10 s a stage: this test is about the settings drift, not about probes racing a loaded machine.
    stack = await RealStack.start(await getTestEnv(), {
      webhook: receiver,
      group: (g) => {
        if (g.durations) g.durations.probeTimeout = '10s';
      },
    });
  });
  after(async () => {
    await stack?.cli(['readiness', stack.group.name, '--schedule', 'delete']).catch(() => undefined);
    await stack?.close();
    await receiver?.close();
  });

  const changes = (): ReadinessWebhook[] =>
    receiver.received.filter((b) => b.event === 'readiness-changed') as unknown as ReadinessWebhook[];

  /** The schedule's recent checks that completed, oldest first, by workflow id. */
  async function completedChecks(): Promise<[string, ReadinessReport][]> {
    const d = await stack.client.schedule.getHandle(`readiness/${stack.group.name}`).describe();
    const done: [string, ReadinessReport][] = [];
    for (const a of [...d.info.recentActions].sort((x, y) => x.takenAt.getTime() - y.takenAt.getTime())) {
      const { workflowId, firstExecutionRunId } = a.action.workflow;
      const h = stack.client.workflow.getHandle(workflowId, firstExecutionRunId);
      if ((await h.describe()).status.name === 'COMPLETED')
        done.push([workflowId, (await h.result()) as ReadinessReport]);
    }
    return done;
  }

  /** Checks already looked at by waitForChecks. */
  const seen = new Set<string>();

  /** What a report found wrong, for assertion messages. */
  const findings = (r: ReadinessReport | undefined): string =>
    (r?.checks ?? [])
      .filter((c) => c.verdict !== 'pass')
      .map((c) => `${c.check} ${c.verdict}: ${c.reasons.join('; ')}`)
      .join(' | ');

  /**
   * Waits until at least `count` checks not seen before have completed, the newest with `verdict` (and, when given,
   * `also` true of it); returns them.
   */
  async function waitForChecks(
    count: number,
    verdict: ReadinessVerdict,
    also: (r: ReadinessReport) => boolean = () => true,
  ): Promise<ReadinessReport[]> {
    const deadline = Date.now() + 150_000;
    for (;;) {
      const fresh = (await completedChecks()).filter(([id]) => !seen.has(id));
      const newest = fresh[fresh.length - 1]?.[1];
      if (fresh.length >= count && newest?.verdict === verdict && also(newest)) {
        for (const [id] of fresh) seen.add(id);
        return fresh.map(([, r]) => r);
      }
      if (Date.now() > deadline) {
        assert.fail(
          `waited for ${count} check(s) ending ${verdict}: ${fresh.map(([, r]) => r.verdict).join(', ')}; ` +
            `the last: ${findings(newest)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Sets a member's eviction policy through the official Azure SDK; resolves with the one it had. */
  async function setEvictionPolicy(region: string, evictionPolicy: string): Promise<string> {
    const arm = createArmClients({
      subscriptionId: stack.emulator.state().subscriptionId,
      endpoint: stack.emulator.arm,
      caPem: stack.emulator.caPem,
      credential: emulatorCredential(stack.emulator),
      retryOptions: { maxRetries: 0 },
    });
    const id = parseDatabaseId(stack.group.members[region]!);
    const before = await arm.redis.databases.get(id.resourceGroupName, id.clusterName, id.databaseName);
    await arm.redis.databases.beginUpdateAndWait(
      id.resourceGroupName,
      id.clusterName,
      id.databaseName,
      { evictionPolicy },
      { updateIntervalInMs: 100 },
    );
    return before.evictionPolicy ?? '';
  }

  it('turns fail when an eviction policy drifts, and the webhook fires once per change', async () => {
    const group = stack.group.name;
    const created = await stack.cli(['readiness', group, '--schedule', '3s', '--task-queue', stack.taskQueue]);
    assert.equal(created.code, 0, showRun(created));
    assert.match(created.stdout, new RegExp(`created readiness schedule readiness/${group}`));

    await waitForChecks(1, 'pass');
    assert.deepEqual(changes(), [], 'a first check that passes is no change');

    const original = await setEvictionPolicy('westeurope', 'AllKeysLRU');
    assert.notEqual(original, 'AllKeysLRU');
    const settingsFail = (r: ReadinessReport): boolean =>
      r.checks.some((c) => c.check === 'settings' && c.verdict === 'fail');
    const afterDrift = await waitForChecks(1, 'fail', settingsFail);
    const firstFail = afterDrift.findIndex((r) => r.verdict === 'fail');
    const settings = afterDrift[firstFail]?.checks.find((c) => c.check === 'settings');
    assert.equal(
      settings?.verdict,
      'fail',
      `the first failing check after the drift: ${findings(afterDrift[firstFail])}`,
    );
    assert.ok(
      settings?.reasons.some((r) => /evictionPolicy differs: .*westeurope=AllKeysLRU/.test(r)),
      settings?.reasons.join('; '),
    );
    assert.equal(afterDrift[firstFail]?.change?.to, 'fail');
    assert.equal(
      afterDrift[firstFail]?.change?.webhook?.delivered,
      true,
      JSON.stringify(afterDrift[firstFail]?.change),
    );
    // Two more failing checks: still one webhook.
    await waitForChecks(2, 'fail');
    assert.equal(changes().length, 1, JSON.stringify(changes()));
    const [fired] = changes();
    assert.equal(fired?.group, group);
    assert.equal(fired?.from, 'pass');
    assert.equal(fired?.to, 'fail');
    assert.ok(fired?.failing.some((f) => f.check === 'settings'));

    await setEvictionPolicy('westeurope', original);
    await waitForChecks(1, 'pass');
    await waitForChecks(1, 'pass');
    assert.deepEqual(
      changes().map((c) => [c.from, c.to]),
      [
        ['pass', 'fail'],
        ['fail', 'pass'],
      ],
    );

    const paused = await stack.cli(['readiness', group, '--schedule', 'pause', '--json']);
    assert.equal(paused.code, 0, showRun(paused));
    assert.equal((await describeReadinessSchedule(stack.client, group))?.paused, true);
    const listed = await stack.cli(['readiness', '--schedules', '--json']);
    assert.equal(listed.code, 0, showRun(listed));
    const mine = (JSON.parse(listed.stdout) as { schedules: { group: string; paused: boolean }[] }).schedules.find(
      (s) => s.group === group,
    );
    assert.equal(mine?.paused, true, listed.stdout);
    const resumed = await stack.cli(['readiness', group, '--schedule', 'resume']);
    assert.equal(resumed.code, 0, showRun(resumed));
    assert.equal((await describeReadinessSchedule(stack.client, group))?.paused, false);
    const deleted = await stack.cli(['readiness', group, '--schedule', 'delete']);
    assert.equal(deleted.code, 0, showRun(deleted));
    assert.equal(await describeReadinessSchedule(stack.client, group), undefined);
  });
});
