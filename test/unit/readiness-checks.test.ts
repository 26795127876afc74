import assert from 'node:assert/strict';
import type { MemoryReading } from '../../src/activities/types';
import type { GroupDefinition } from '../../src/contract/runbook';
import type { ReadinessReport } from '../../src/contract/readiness';
import { readinessOutput, renderReadinessMarkdown, renderReadinessText } from '../../src/readiness-report';
import { parseInterval } from '../../src/readiness-report/schedule';
import {
  memoryHeadroomCheck,
  probesCheck,
  probeWorkersCheck,
  quorumCheck,
  settingsCheck,
  trafficManagerCheck,
  worst,
} from '../../src/workflows/readiness/checks';

const MiB = 1024 * 1024;
const THRESHOLDS = { elevatedPercent: 70, criticalPercent: 85 };

function reading(region: string, usedMiB: number, maxMiB = 100): MemoryReading {
  return {
    region,
    databaseId: `/db/${region}`,
    usedBytes: usedMiB * MiB,
    maxBytes: maxMiB * MiB,
    percent: (usedMiB / maxMiB) * 100,
    readAt: '2026-12-02T00:00:00.000Z',
  };
}

function group(change: Partial<GroupDefinition> = {}): GroupDefinition {
  return {
    name: 'leaderboard',
    members: { eastus: '/db/eastus', westeurope: '/db/westeurope' },
    trafficManager: {
      profileId: '/tm',
      endpoints: {
        eastus: { type: 'ExternalEndpoints', name: 'ep-eastus' },
        westeurope: { type: 'ExternalEndpoints', name: 'ep-westeurope' },
      },
    },
    applicationRegions: { eastus: { eastus: 'a:1', westeurope: 'b:1' } },
    commanders: ['alice'],
    approvers: ['alice', 'bob'],
    quorum: { unlink: 1, rejoin: 1, intervention: 1 },
    memoryThresholds: THRESHOLDS,
    rejoinMethod: 'force-link',
    durations: {
      approvalTimeout: '30m',
      escalationTimeout: '15m',
      recoveryPollInterval: '1m',
      maxOutageBeforeUnlink: '4h',
      resyncTimeout: '30m',
      probeTimeout: '5s',
    },
    ...change,
  };
}

const KEYS = { alice: ['ssh-ed25519 A'], bob: ['ssh-ed25519 B'], carol: ['ssh-ed25519 C'] };

describe('readiness checks', () => {
  it('grades by the worst finding', () => {
    assert.equal(worst([]), 'pass');
    assert.equal(worst(['pass', 'warn']), 'warn');
    assert.equal(worst(['warn', 'fail', 'pass']), 'fail');
  });

  describe('memory headroom', () => {
    it('passes when each survivor can take the largest other member', () => {
      const c = memoryHeadroomCheck([reading('eastus', 20), reading('westeurope', 30)], THRESHOLDS);
      assert.equal(c.verdict, 'pass', c.reasons.join('; '));
    });

    it("warns at the elevated threshold and fails at the critical one, with the survivor's numbers", () => {
      const warned = memoryHeadroomCheck([reading('eastus', 35), reading('westeurope', 40)], THRESHOLDS);
      assert.equal(warned.verdict, 'warn');
      assert.match(
        warned.reasons[0]!,
        /eastus: taking westeurope's load \(40\.0 MiB\) into 65\.0 MiB free would bring it to 75%/,
      );
      const failed = memoryHeadroomCheck([reading('eastus', 50), reading('westeurope', 40)], THRESHOLDS);
      assert.equal(failed.verdict, 'fail');
      assert.ok(failed.reasons.some((r) => r.startsWith('eastus:') && r.includes('critical 85%')));
    });

    it('warns when a member cannot be read or reports no limit', () => {
      const c = memoryHeadroomCheck(
        [reading('eastus', 10, 0), { region: 'westeurope', databaseId: '/db/westeurope', error: 'timeout' }],
        THRESHOLDS,
      );
      assert.equal(c.verdict, 'warn');
      assert.ok(c.reasons.some((r) => r.includes('westeurope: memory could not be read (timeout)')));
    });
  });

  describe('quorum', () => {
    it('passes when approvers other than the requester reach every quorum', () => {
      assert.equal(quorumCheck(group(), KEYS).verdict, 'pass');
    });

    it('fails when the requester is the only other approver the quorum would need', () => {
      const c = quorumCheck(group({ quorum: { unlink: 2, rejoin: 1, intervention: 1 } }), KEYS);
      assert.equal(c.verdict, 'fail');
      assert.deepEqual(c.reasons, [
        'unlink: quorum 2, but only 1 approver(s) with a key may decide when alice starts the run',
      ]);
    });

    it('fails for an approver without a key', () => {
      const c = quorumCheck(group({ approvers: ['alice', 'bob', 'dave'] }), KEYS);
      assert.equal(c.verdict, 'fail');
      assert.ok(c.reasons.includes('approver dave has no key, so their decisions cannot be checked'));
    });
  });

  describe('Traffic Manager', () => {
    it('fails for a missing or disabled endpoint and warns for a degraded one', () => {
      const c = trafficManagerCheck(group(), {
        profileId: '/tm',
        profileStatus: 'Enabled',
        endpoints: [{ name: 'ep-eastus', type: 'x', endpointStatus: 'Disabled' }],
      });
      assert.equal(c.verdict, 'fail');
      assert.deepEqual(c.reasons, [
        'eastus: endpoint ep-eastus is Disabled, not Enabled',
        'westeurope: endpoint ep-westeurope is not in the profile',
      ]);
      const degraded = trafficManagerCheck(group(), {
        profileId: '/tm',
        endpoints: [
          { name: 'ep-eastus', type: 'x', endpointStatus: 'Enabled', endpointMonitorStatus: 'Degraded' },
          { name: 'ep-westeurope', type: 'x', endpointStatus: 'Enabled', endpointMonitorStatus: 'Online' },
        ],
      });
      assert.equal(degraded.verdict, 'warn');
    });

    it('fails when the profile cannot be read', () => {
      assert.equal(trafficManagerCheck(group(), { error: 'NotFound' }).verdict, 'fail');
    });
  });

  it('fails probe workers and probes for a queue nobody polls, saying how to start one', () => {
    const workers = probeWorkersCheck([
      { applicationRegion: 'eastus', taskQueue: 'geofailover-probe-eastus', pollers: 0 },
      { applicationRegion: 'westeurope', taskQueue: 'geofailover-probe-westeurope', pollers: 1 },
    ]);
    assert.equal(workers.verdict, 'fail');
    assert.match(workers.reasons[0]!, /geofailover worker --probe-region eastus$/);
    const probes = probesCheck([{ applicationRegion: 'eastus', error: 'not probed' }]);
    assert.equal(probes.verdict, 'fail');
  });

  it('warns about settings it could not compare', () => {
    const c = settingsCheck([
      { region: 'eastus', databaseId: '/db/eastus', reachable: true, settings: { sku: 'B5', modules: [] } },
      { region: 'westeurope', databaseId: '/db/westeurope', reachable: false },
    ]);
    assert.equal(c.verdict, 'warn');
  });

  it('reads schedule intervals of a second or more', () => {
    assert.equal(parseInterval('15m'), 900_000);
    assert.equal(parseInterval('30 seconds'), 30_000);
    assert.equal(parseInterval('500ms'), undefined);
    assert.equal(parseInterval('pause'), undefined);
  });

  it('renders the report: a summary row per group and a row per check', () => {
    const report: ReadinessReport = {
      group: 'leaderboard',
      verdict: 'fail',
      ready: false,
      checkedAt: '2026-12-02T00:00:00.000Z',
      checks: [
        { check: 'membership', verdict: 'pass', reasons: ['2 members'] },
        {
          check: 'settings',
          verdict: 'fail',
          reasons: ['evictionPolicy differs: eastus=NoEviction, westeurope=AllKeysLRU'],
        },
      ],
      members: [],
      problems: ['evictionPolicy differs: eastus=NoEviction, westeurope=AllKeysLRU'],
    };
    const output = readinessOutput([report]);
    assert.equal(output.ready, false);
    const md = renderReadinessMarkdown(output);
    assert.match(md, /^# Readiness report\n/);
    assert.match(md, /\| leaderboard \| \*\*FAIL\*\* \| settings \(fail\) \|/);
    assert.match(
      md,
      /\| settings \| \*\*FAIL\*\* \| evictionPolicy differs: eastus=NoEviction, westeurope=AllKeysLRU \|/,
    );
    assert.match(renderReadinessText(output), /FAIL {2}settings {9}evictionPolicy differs/);
  });
});
