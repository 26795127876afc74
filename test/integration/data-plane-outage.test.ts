// The emulator's data-plane-only outage: ARM answers for the region as usual (its database Running, read with the
// official SDK through the membership activity), while the probes from every application region to its private
// endpoints time out; the survivors accrue replication metadata; `restore` brings the data plane back.
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { createProbeActivities } from '../../src/activities/probe';
import type { GeofailoverActivities, ProbeActivities } from '../../src/activities/types';
import { createArmClients, type ArmClients } from '../../src/azure/clients';
import type { Emulator } from '../../src/emulator';
import { emulatorCredential, startTestEmulator } from '../helpers/emulator';

const FAILED = 'eastus';
const SURVIVOR = 'westeurope';
const RUN = { workflowId: 'failover/leaderboard', runId: 'run-data-plane-outage-test' };

describe('emulator: data-plane-only outage', function () {
  this.timeout(60_000);
  let emulator: Emulator;
  let arm: ArmClients;
  let acts: GeofailoverActivities;
  let probes: Pick<ProbeActivities, 'probeEndpoints'>;

  const run = <T>(fn: () => Promise<T>): Promise<T> =>
    new MockActivityEnvironment({ workflowExecution: RUN }, { logger: new DefaultLogger('ERROR') }).run(fn);
  const dbOf = (region: string): string => {
    const db = emulator.state().databases.find((d) => d.location === region);
    if (!db) throw new Error(`no database in ${region}`);
    return db.id;
  };
  const probeFromEverywhere = (region: string, timeoutMs = 400) =>
    Promise.all(
      emulator.scenario.applicationRegions.map(async (applicationRegion) => {
        const a = emulator.privateEndpoint(applicationRegion, dbOf(region));
        const [record] = await run(() =>
          probes.probeEndpoints({
            applicationRegion,
            targets: [{ memberRegion: region, databaseId: dbOf(region), address: `${a.host}:${a.port}` }],
            timeoutMs,
          }),
        );
        return record!;
      }),
    );

  before(async () => {
    emulator = await startTestEmulator();
    arm = createArmClients({
      subscriptionId: emulator.scenario.subscriptionId,
      endpoint: emulator.arm,
      caPem: emulator.caPem,
      credential: emulatorCredential(emulator),
      keepAlive: false,
      retryOptions: { maxRetries: 0 },
      requestTimeoutMs: 5000,
    });
    acts = createActivities({
      arm,
      caPem: emulator.caPem,
      redisTimeoutMs: 3000,
      callerCheck: async () => undefined,
    } as never);
    probes = createProbeActivities({ arm, caPem: emulator.caPem });
  });
  after(async () => {
    await emulator?.close();
  });

  it('ARM answers (Running) while every probe of the region times out; restore brings the data plane back', async () => {
    const state = await emulator.faults.dataPlaneOutage(FAILED);
    assert.deepEqual(state.dataPlaneOutages, [FAILED]);
    assert.deepEqual(state.regionsInOutage, [], 'ARM is not in outage');

    const member = await run(() => acts.describeMember({ region: FAILED, databaseId: dbOf(FAILED) }));
    assert.equal(member.reachable, true, 'ARM answers for the region');
    assert.equal(member.resourceState, 'Running');
    assert.equal(member.provisioningState, 'Succeeded');

    const down = await probeFromEverywhere(FAILED);
    assert.equal(down.length, emulator.scenario.applicationRegions.length);
    for (const p of down) {
      assert.equal(p.outcome, 'timeout', `${p.applicationRegion}: ${p.outcome} ${p.error ?? ''}`);
      assert.notEqual(p.failedStage, 'tcp', 'the endpoint accepts the connection; nothing behind it answers');
    }
    // The other regions are untouched.
    for (const p of await probeFromEverywhere(SURVIVOR, 3000)) assert.equal(p.outcome, 'ok', p.error);
    assert.equal(emulator.state().databases.find((d) => d.location === FAILED)?.running, false);

    // The survivors miss the region: they accrue replication metadata as in a full outage.
    for (const d of emulator.state().databases.filter((x) => x.location !== FAILED)) {
      assert.deepEqual(
        d.missingMembers.map((id) => id.toLowerCase()),
        [dbOf(FAILED).toLowerCase()],
        `${d.location} misses ${FAILED}`,
      );
    }

    const restored = await emulator.faults.restore(FAILED);
    assert.deepEqual(restored.dataPlaneOutages, []);
    for (const p of await probeFromEverywhere(FAILED, 3000)) {
      assert.equal(p.outcome, 'ok', `${p.applicationRegion}: ${p.failedStage} ${p.error}`);
    }
  });

  it('keeps a firewall rule set during the outage for after it, and reset ends the outage', async () => {
    const [app] = emulator.scenario.applicationRegions;
    await emulator.faults.dataPlaneOutage(FAILED);
    emulator.faults.firewall({ applicationRegion: app!, database: FAILED, mode: 'refuse' });
    const endpoint = emulator
      .state()
      .privateEndpoints.find((e) => e.applicationRegion === app && e.databaseId === dbOf(FAILED));
    assert.equal(endpoint?.firewall, 'blackhole', 'black-holed until the outage ends');
    await emulator.faults.restore(FAILED);
    const after = emulator
      .state()
      .privateEndpoints.find((e) => e.applicationRegion === app && e.databaseId === dbOf(FAILED));
    assert.equal(after?.firewall, 'refuse', 'the firewall rule applies once the outage ended');

    await emulator.faults.dataPlaneOutage(FAILED);
    const reset = await emulator.faults.reset();
    assert.deepEqual(reset.dataPlaneOutages, []);
    assert.ok(emulator.state().privateEndpoints.every((e) => e.firewall === 'open'));
    assert.ok(emulator.state().databases.every((d) => d.running));
  });

  it('is on the control API', async () => {
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${emulator.control}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const started = await post('/faults/data-plane-outage', { region: FAILED });
    assert.equal(started.status, 200);
    assert.deepEqual(started.body.dataPlaneOutages, [FAILED]);
    const unknown = await post('/faults/data-plane-outage', { region: 'moon' });
    assert.equal(unknown.status, 400);
    const restored = await post('/faults/restore', { region: FAILED });
    assert.deepEqual(restored.body.dataPlaneOutages, []);
  });
});
