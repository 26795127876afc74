// The Traffic Manager endpoint lease: which groups share an endpoint (the worker's configuration), and which open
// incident holds it — from its traffic-reroute until its own traffic-failback starts.
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import {
  endpointHolders,
  holdsEndpoint,
  sharingGroups,
  type EndpointLeaseDependencies,
  type OpenRunbook,
} from '../../src/activities/endpoint-lease';
import type { StepName, StepStatus } from '../../src/contract/names';
import { STEP_NAMES } from '../../src/contract/names';
import type { GroupDefinition } from '../../src/contract/runbook';
import type { RunbookStatus } from '../../src/contract/types';
import { trafficLeftState } from '../../src/workflows/runbook/left-state';
import type { Runbook } from '../../src/workflows/runbook/runbook';
import { policyFor } from '../helpers/people';
import { testGroup } from '../helpers/runbook-fakes';

const REGIONS = ['eastus', 'westeurope', 'southeastasia'];
const PROFILE = (name: string): string =>
  `/subscriptions/6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6/resourceGroups/rg/providers/Microsoft.Network/trafficManagerProfiles/${name}`;

function group(name: string, change: (g: GroupDefinition) => void = () => undefined): GroupDefinition {
  return testGroup(REGIONS, (g) => {
    g.name = name;
    g.trafficManager = {
      profileId: PROFILE('tm-shared'),
      endpoints: Object.fromEntries(REGIONS.map((r) => [r, { type: 'ExternalEndpoints' as const, name: r }])),
    };
    change(g);
  });
}

function deps(
  groups: GroupDefinition[],
  runs: Record<string, OpenRunbook[]> = {},
): EndpointLeaseDependencies & {
  asked: string[];
} {
  const asked: string[] = [];
  return {
    asked,
    groupNames: groups.map((g) => g.name),
    policies: (name) => {
      const g = groups.find((x) => x.name === name);
      return g ? { found: true, policy: policyFor(g) } : { found: false, reason: `no group ${name}` };
    },
    openRunbooks: async (name) => {
      asked.push(name);
      return runs[name] ?? [];
    },
  };
}

/** A status whose steps are pending but for those given. */
function status(failedRegion: string, steps: Partial<Record<StepName, StepStatus>>): RunbookStatus {
  return {
    group: 'g',
    failedRegion,
    phase: 'awaiting-recovery',
    currentStep: null,
    steps: STEP_NAMES.map((step) => ({
      step,
      status: steps[step] ?? 'pending',
      attempts: 0,
      summary: '',
      ...(steps[step] === 'succeeded' ? { endedAt: '2026-12-02T01:00:00.000Z' } : {}),
    })),
  };
}

describe('endpoint lease: who holds a shared Traffic Manager endpoint', () => {
  describe('holdsEndpoint', () => {
    const cases: [string, Partial<Record<StepName, StepStatus>>, boolean][] = [
      ['rerouted, failback not started', { 'traffic-reroute': 'succeeded' }, true],
      ['rerouting now', { 'traffic-reroute': 'running' }, true],
      ['reroute failed, at its intervention gate', { 'traffic-reroute': 'failed' }, true],
      ['not rerouted yet', {}, false],
      ['reroute skipped', { 'traffic-reroute': 'skipped' }, false],
      ['failback started', { 'traffic-reroute': 'succeeded', 'traffic-failback': 'running' }, false],
      ['failback at its intervention gate', { 'traffic-reroute': 'succeeded', 'traffic-failback': 'failed' }, false],
      ['failed back', { 'traffic-reroute': 'succeeded', 'traffic-failback': 'succeeded' }, false],
      ['ended: failback skipped', { 'traffic-reroute': 'succeeded', 'traffic-failback': 'skipped' }, false],
    ];
    for (const [what, steps, holds] of cases) {
      it(`${what}: ${holds ? 'holds' : 'does not hold'}`, () => {
        assert.equal(holdsEndpoint(status('eastus', steps), ['eastus']), holds);
      });
    }
    it("holds only its failed region's endpoint (region names in any case)", () => {
      const rerouted = status('EastUS', { 'traffic-reroute': 'succeeded' });
      assert.equal(holdsEndpoint(rerouted, ['eastus']), true);
      assert.equal(holdsEndpoint(rerouted, ['westeurope']), false);
    });
  });

  describe('sharingGroups', () => {
    it('the other groups with the same profile and endpoint (any case), never the caller', () => {
      const a = group('a');
      const b = group('b', (g) => {
        g.trafficManager.profileId = g.trafficManager.profileId.toUpperCase();
        g.trafficManager.endpoints.eastus = { type: 'ExternalEndpoints', name: 'EASTUS' };
      });
      const c = group('c', (g) => void (g.trafficManager.profileId = PROFILE('tm-other')));
      const d = group(
        'd',
        (g) => void (g.trafficManager.endpoints.eastus = { type: 'AzureEndpoints', name: 'eastus' }),
      );
      const found = sharingGroups(deps([a, b, c, d]), 'a', PROFILE('tm-shared'), {
        type: 'ExternalEndpoints',
        name: 'eastus',
      });
      assert.deepEqual(found, [{ group: 'b', regions: ['eastus'] }]);
    });
  });

  describe('endpointHolders', () => {
    const endpoint = { type: 'ExternalEndpoints' as const, name: 'eastus' };
    const run = <T>(fn: () => Promise<T>): Promise<T> =>
      new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(fn);

    it('names the open incidents that hold it, with group, region and since when', async () => {
      const d = deps([group('a'), group('b')], {
        b: [{ workflowId: 'failover/b', runId: 'r1', status: status('eastus', { 'traffic-reroute': 'succeeded' }) }],
      });
      const holders = await run(() => endpointHolders(d, { group: 'a', profileId: PROFILE('tm-shared'), endpoint }));
      assert.deepEqual(holders, [
        {
          workflowId: 'failover/b',
          runId: 'r1',
          group: 'b',
          region: 'eastus',
          phase: 'awaiting-recovery',
          since: '2026-12-02T01:00:00.000Z',
        },
      ]);
    });

    it('an incident of another region, or one failing back, holds nothing', async () => {
      const d = deps([group('a'), group('b')], {
        b: [
          { workflowId: 'failover/b', runId: 'r1', status: status('westeurope', { 'traffic-reroute': 'succeeded' }) },
        ],
      });
      assert.deepEqual(
        await run(() => endpointHolders(d, { group: 'a', profileId: PROFILE('tm-shared'), endpoint })),
        [],
      );
    });

    it('an open run whose status cannot be read counts as holding, and says why', async () => {
      const d = deps([group('a'), group('b')], {
        b: [{ workflowId: 'failover/b', runId: 'r1', error: 'no worker answered the query' }],
      });
      const holders = await run(() => endpointHolders(d, { group: 'a', profileId: PROFILE('tm-shared'), endpoint }));
      assert.equal(holders.length, 1);
      assert.match(holders[0]!.note ?? '', /its status could not be read: no worker answered the query/);
    });

    it('an endpoint no other group has: nobody is asked', async () => {
      const d = deps([group('a'), group('b', (g) => void (g.trafficManager.profileId = PROFILE('tm-other')))]);
      assert.deepEqual(
        await run(() => endpointHolders(d, { group: 'a', profileId: PROFILE('tm-shared'), endpoint })),
        [],
      );
      assert.deepEqual(d.asked, []);
    });
  });
});

describe('trafficLeftState: what a stopped run leaves of Traffic Manager, in words', () => {
  const rb = (steps: Partial<Record<StepName, { status: StepStatus; evidence?: unknown }>>): Runbook =>
    ({
      region: 'eastus',
      group: { trafficManager: { endpoints: { eastus: { type: 'ExternalEndpoints', name: 'ep-eastus' } } } },
      steps: { get: (name: StepName) => steps[name] ?? { status: 'pending' } },
    }) as unknown as Runbook;

  it('rerouted, failback waiting for the shared endpoint: stays disabled, naming the sharing groups', () => {
    assert.equal(
      trafficLeftState(
        rb({
          'traffic-reroute': { status: 'succeeded', evidence: { sharedWith: ['sessions'] } },
          'traffic-failback': { status: 'running', evidence: { heldBy: [{ workflowId: 'failover/sessions' }] } },
        }),
      ),
      'endpoint ep-eastus stays disabled, traffic stays on the survivors (the endpoint is shared with group(s) ' +
        'sessions: their failback enables it once no open incident holds it)',
    );
  });

  it('failback enabled it but stopped before Online: enabled again, said so', () => {
    assert.equal(
      trafficLeftState(
        rb({
          'traffic-reroute': { status: 'succeeded' },
          'traffic-failback': { status: 'failed', evidence: { endpointEnabled: true } },
        }),
      ),
      'endpoint ep-eastus enabled again (Traffic Manager had not reported it Online)',
    );
  });

  it('failed back: enabled again; never rerouted: unchanged', () => {
    assert.equal(
      trafficLeftState(rb({ 'traffic-reroute': { status: 'succeeded' }, 'traffic-failback': { status: 'succeeded' } })),
      'endpoint ep-eastus enabled again',
    );
    assert.equal(trafficLeftState(rb({ 'traffic-reroute': { status: 'skipped' } })), 'Traffic Manager unchanged');
  });
});
