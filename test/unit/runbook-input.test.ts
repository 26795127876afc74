import assert from 'node:assert/strict';
import type { FailoverRunbookInput, GroupDefinition } from '../../src/contract/runbook';
import { failoverInputProblems, rejoinInputProblems } from '../../src/workflows/runbook/validate-input';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const REGIONS = ['eastus', 'westeurope', 'southeastasia'];
const dbId = (region: string): string =>
  `/subscriptions/${SUB}/resourceGroups/rg-geofailover-demo/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-${region}/databases/default`;

function group(): GroupDefinition {
  return {
    name: 'leaderboard',
    members: Object.fromEntries(REGIONS.map((r) => [r, dbId(r)])),
    trafficManager: {
      profileId: `/subscriptions/${SUB}/resourceGroups/rg-geofailover-demo/providers/Microsoft.Network/trafficManagerProfiles/tm-leaderboard`,
      endpoints: Object.fromEntries(REGIONS.map((r) => [r, { type: 'ExternalEndpoints' as const, name: r }])),
    },
    applicationRegions: Object.fromEntries(
      REGIONS.map((app, i) => [app, Object.fromEntries(REGIONS.map((m, j) => [m, `127.0.0.1:${16000 + i * 10 + j}`]))]),
    ),
    approvers: ['sre-lead', 'sre-manager', 'data-owner'],
    quorum: { unlink: 1, rejoin: 1, intervention: 1 },
    memoryThresholds: { elevatedPercent: 70, criticalPercent: 85 },
    rejoinMethod: 'force-link',
    durations: {
      approvalTimeout: '30 minutes',
      escalationTimeout: '30 minutes',
      recoveryPollInterval: '1 minute',
      maxOutageBeforeUnlink: '4 hours',
      resyncTimeout: '30 minutes',
      probeTimeout: '5 seconds',
    },
  };
}

function input(change: (i: FailoverRunbookInput) => void = () => undefined): FailoverRunbookInput {
  const i: FailoverRunbookInput = {
    group: group(),
    failedRegion: 'eastus',
    reason: 'region down',
    requestedBy: 'alice',
  };
  change(i);
  return i;
}

describe('runbook input validation (pure)', () => {
  it('accepts the default scenario', () => {
    assert.deepEqual(failoverInputProblems(input()), []);
  });

  it('refuses a failed region that is not a member, naming the members', () => {
    const problems = failoverInputProblems(input((i) => (i.failedRegion = 'northeurope')));
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /northeurope is not a member of group leaderboard \(members: eastus, westeurope, southeastasia\)/,
    );
  });

  it('refuses a group whose only member is the failed one', () => {
    const problems = failoverInputProblems(
      input((i) => {
        i.group.members = { eastus: dbId('eastus') };
      }),
    );
    assert.ok(
      problems.some((p) => /only member/.test(p)),
      problems.join('; '),
    );
  });

  it('refuses a malformed database resource id', () => {
    const problems = failoverInputProblems(input((i) => (i.group.members.westeurope = 'redis-westeurope')));
    assert.ok(
      problems.some((p) => p.includes('westeurope') && p.includes('resource id')),
      problems.join('; '),
    );
  });

  it('refuses a quorum the approvers other than the requester cannot reach', () => {
    const problems = failoverInputProblems(
      input((i) => {
        i.requestedBy = 'sre-lead';
        i.group.quorum.unlink = 3;
      }),
    );
    assert.ok(
      problems.some((p) => /quorum\.unlink is 3/.test(p) && /sre-lead/.test(p)),
      problems.join('; '),
    );
  });

  it('refuses a missing Traffic Manager endpoint or probe address', () => {
    const problems = failoverInputProblems(
      input((i) => {
        delete i.group.trafficManager.endpoints.eastus;
        delete i.group.applicationRegions.westeurope?.southeastasia;
      }),
    );
    assert.ok(
      problems.some((p) => /endpoint for eastus/.test(p)),
      problems.join('; '),
    );
    assert.ok(
      problems.some((p) => /westeurope has no address for southeastasia/.test(p)),
      problems.join('; '),
    );
  });

  it('refuses unreadable durations and an empty requester or reason', () => {
    const problems = failoverInputProblems(
      input((i) => {
        i.group.durations.approvalTimeout = 'soon' as never;
        i.requestedBy = ' ';
        i.reason = '';
      }),
    );
    assert.ok(
      problems.some((p) => /approvalTimeout/.test(p)),
      problems.join('; '),
    );
    assert.ok(
      problems.some((p) => /requestedBy/.test(p)),
      problems.join('; '),
    );
    assert.ok(
      problems.some((p) => /reason/.test(p)),
      problems.join('; '),
    );
  });

  it('checks the rejoin input the same way', () => {
    assert.deepEqual(rejoinInputProblems({ group: group(), region: 'eastus', reason: 'r', requestedBy: 'alice' }), []);
    assert.equal(rejoinInputProblems({ group: group(), region: 'mars', reason: 'r', requestedBy: 'alice' }).length, 1);
  });
});
