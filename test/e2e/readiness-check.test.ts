// The whole stack for one workflow: the shared Temporal dev server, a real worker with the real activities and the
// group from its own configuration, probe workers on the probe task queues, the official Azure SDK over HTTPS
// against the emulator, and its redis-servers.
import assert from 'node:assert/strict';
import type { ReadinessCheckInput, ReadinessReport } from '../../src/contract/readiness';
import { startReadinessCheck } from '../../src/starter';
import { RealStack, showRun } from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

const REGIONS = ['eastus', 'westeurope', 'southeastasia'];

describe('readinessCheck end to end against the emulator', function () {
  this.timeout(120_000);
  let stack: RealStack;

  before(async () => {
    stack = await RealStack.start(await getTestEnv());
  });
  after(async () => {
    await stack?.close();
  });

  async function check(): Promise<ReadinessReport> {
    const input: ReadinessCheckInput = {
      group: stack.group.name,
      activityTimeouts: { scheduleToClose: '10s', initialRetryInterval: '100ms' },
      probeScheduleToStart: '10s',
    };
    const handle = await startReadinessCheck(stack.client, input, { taskQueue: stack.taskQueue });
    return handle.result();
  }

  it('passes every check of the default group, reading it from the worker configuration', async () => {
    const report = await check();
    assert.deepEqual(report.problems, []);
    assert.equal(report.verdict, 'pass');
    assert.equal(report.ready, true);
    assert.deepEqual(
      report.checks.map((c) => [c.check, c.verdict]),
      [
        ['policy', 'pass'],
        ['membership', 'pass'],
        ['settings', 'pass'],
        ['memory-headroom', 'pass'],
        ['probes', 'pass'],
        ['traffic-manager', 'pass'],
        ['quorum', 'pass'],
        ['probe-workers', 'pass'],
      ],
    );
    assert.match(report.policyDigest ?? '', /^sha256:/);
    assert.deepEqual(
      report.members.map((m) => [m.region, m.reachable, m.settings?.sku]),
      REGIONS.map((r) => [r, true, 'Balanced_B5']),
    );
  });

  it('fails membership and probes during an outage, naming the region', async () => {
    await stack.emulator.faults.outage('southeastasia');
    try {
      const report = await check();
      assert.equal(report.verdict, 'fail');
      assert.equal(report.ready, false);
      assert.equal(report.members.find((m) => m.region === 'southeastasia')?.reachable, false);
      const membership = report.checks.find((c) => c.check === 'membership');
      assert.equal(membership?.verdict, 'fail');
      assert.ok(
        membership?.reasons.some((p) => p.startsWith('southeastasia: unreachable')),
        `membership names the region: ${membership?.reasons.join('; ')}`,
      );
      assert.equal(report.checks.find((c) => c.check === 'probes')?.verdict, 'fail');
    } finally {
      await stack.emulator.faults.restore('southeastasia');
    }
  });

  it('`geofailover readiness G --report DIR` writes the md and json report and exits 1 on a fail', async () => {
    const dir = `${stack.dir}/report`;
    const ok = await stack.cli(['readiness', stack.group.name, '--task-queue', stack.taskQueue, '--report', dir]);
    assert.equal(ok.code, 0, showRun(ok));
    assert.match(ok.stdout, /PASS\s+membership/);
    const { readFileSync } = await import('node:fs');
    const md = readFileSync(`${dir}/readiness-report.md`, 'utf8');
    assert.match(md, /^# Readiness report/);
    assert.match(md, /\| membership \| \*\*PASS\*\* \|/);
    const json = JSON.parse(readFileSync(`${dir}/readiness-report.json`, 'utf8')) as { verdict: string };
    assert.equal(json.verdict, 'pass');

    stack.emulator.faults.firewall({ applicationRegion: 'eastus', database: 'westeurope', mode: 'refuse' });
    try {
      const failing = await stack.cli(['readiness', stack.group.name, '--task-queue', stack.taskQueue, '--json']);
      assert.equal(failing.code, 1, showRun(failing));
      const out = JSON.parse(failing.stdout) as { verdict: string; reports: ReadinessReport[] };
      assert.equal(out.verdict, 'fail');
      const probes = out.reports[0]?.checks.find((c) => c.check === 'probes');
      assert.equal(probes?.verdict, 'fail');
      assert.ok(
        probes?.reasons.some((r) => r.startsWith('eastus cannot reach westeurope')),
        probes?.reasons.join('; '),
      );
    } finally {
      await stack.emulator.faults.reset();
    }
  });
});
