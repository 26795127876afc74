import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RunbookPolicy } from '../../src/contract/policy';
import type { FailoverRunbookInput, GroupDefinition, RejoinRunbookInput } from '../../src/contract/runbook';
import { workflowIds } from '../../src/contract/names';
import { inputProblems, policyProblems } from '../../src/workflows/runbook/validate-input';
import { policyFor, signedStart } from '../helpers/people';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const REGIONS = ['eastus', 'westeurope', 'southeastasia'];
const dbId = (region: string): string =>
  `/subscriptions/${SUB}/resourceGroups/rg-geofailover-demo/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-${region}/databases/default`;

function group(change: (g: GroupDefinition) => void = () => undefined): GroupDefinition {
  const g: GroupDefinition = {
    name: 'leaderboard',
    members: Object.fromEntries(REGIONS.map((r) => [r, dbId(r)])),
    trafficManager: {
      profileId: `/subscriptions/${SUB}/resourceGroups/rg-geofailover-demo/providers/Microsoft.Network/trafficManagerProfiles/tm-leaderboard`,
      endpoints: Object.fromEntries(REGIONS.map((r) => [r, { type: 'ExternalEndpoints' as const, name: r }])),
    },
    applicationRegions: Object.fromEntries(
      REGIONS.map((app, i) => [app, Object.fromEntries(REGIONS.map((m, j) => [m, `127.0.0.1:${16000 + i * 10 + j}`]))]),
    ),
    commanders: ['sre-lead'],
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
  change(g);
  return g;
}

function policy(change?: (g: GroupDefinition) => void): RunbookPolicy {
  return policyFor(group(change));
}

function input(change: (i: Record<string, unknown>) => void = () => undefined): FailoverRunbookInput {
  const i: FailoverRunbookInput = {
    group: 'leaderboard',
    failedRegion: 'eastus',
    reason: 'region down',
    request: signedStart(group(), 'eastus', workflowIds.failover('leaderboard')),
  };
  change(i as unknown as Record<string, unknown>);
  return i;
}

const show = (problems: string[]): string => problems.join('; ');

describe('runbook input validation (pure)', () => {
  describe('inputProblems: the shape of what a caller sends (names only)', () => {
    it('accepts the default scenario', () => {
      assert.deepEqual(inputProblems('failover', input()), []);
      assert.deepEqual(
        inputProblems(
          'failover',
          input((i) => (i.tuning = { mutationMaximumAttempts: 2, reads: { startToClose: '2s' } })),
        ),
        [],
      );
    });

    it('refuses a group definition in the input: the group is a name the worker resolves', () => {
      const problems = inputProblems(
        'failover',
        input((i) => (i.group = group())),
      );
      assert.equal(problems.length, 1, show(problems));
      assert.match(
        problems[0] ?? '',
        /group must be the name of a group in the worker's configuration, not a definition/,
      );
    });

    it('refuses approvers, quorum or requestedBy brought by the caller, naming the fields', () => {
      const problems = inputProblems(
        'failover',
        input((i) => {
          i.approvers = ['mallory'];
          i.quorum = { unlink: 1 };
          i.requestedBy = 'mallory';
        }),
      );
      assert.equal(problems.length, 1, show(problems));
      assert.match(problems[0] ?? '', /unknown field\(s\) "approvers", "quorum", "requestedBy"/);
      assert.match(problems[0] ?? '', /come from the worker's configuration/);
    });

    it('refuses a missing or unreadable signed request and an empty reason', () => {
      const problems = inputProblems(
        'failover',
        input((i) => {
          delete i.request;
          i.reason = ' ';
        }),
      );
      assert.ok(
        problems.some((p) => /request must be the signed start/.test(p)),
        show(problems),
      );
      assert.ok(
        problems.some((p) => /reason must say why/.test(p)),
        show(problems),
      );
      const wrong = inputProblems(
        'failover',
        input((i) => (i.request = { statement: 42, signature: 'x' })),
      );
      assert.ok(
        wrong.some((p) => /request must hold a statement/.test(p)),
        show(wrong),
      );
    });

    it('refuses a group that is not a name, a region that is not a region, and bad tuning', () => {
      const problems = inputProblems(
        'failover',
        input((i) => {
          i.group = 42;
          i.failedRegion = 'East US!';
          i.acceptSettingsMismatch = 'yes';
          i.tuning = { mutationMaximumAttempts: -1, heartbeatTimeout: 'soon', reads: { startToClose: -5 } };
        }),
      );
      for (const pattern of [
        /group is 42, expected a group name/,
        /failedRegion is "East US!"/,
        /acceptSettingsMismatch is "yes"/,
        /tuning\.mutationMaximumAttempts is -1/,
        /tuning\.heartbeatTimeout is "soon"/,
        /tuning\.reads\.startToClose is -5/,
      ]) {
        assert.ok(
          problems.some((p) => pattern.test(p)),
          `${pattern}: ${show(problems)}`,
        );
      }
    });

    it('refuses anything that is not an object', () => {
      for (const value of [null, undefined, 42, 'failover', [input()]]) {
        const problems = inputProblems('failover', value);
        assert.equal(problems.length, 1);
        assert.match(problems[0] ?? '', /the input must be an object/);
      }
    });

    it('checks the rejoin input the same way, with its own fields', () => {
      const request = signedStart(group(), 'eastus', workflowIds.rejoin('leaderboard'));
      const rejoin: RejoinRunbookInput = { group: 'leaderboard', region: 'eastus', reason: 'r', request };
      assert.deepEqual(inputProblems('rejoin', rejoin), []);
      const problems = inputProblems('rejoin', { ...rejoin, region: 'Mars!', failedRegion: 'eastus' });
      assert.equal(problems.length, 2, show(problems));
      assert.ok(problems.some((p) => /unknown field\(s\) "failedRegion"/.test(p)));
      assert.ok(problems.some((p) => /region is "Mars!"/.test(p)));
    });
  });

  describe('policyProblems: the worker’s policy for this run', () => {
    it('accepts the default scenario', () => {
      assert.deepEqual(policyProblems(policy(), 'eastus', 'sre-lead'), []);
    });

    it('refuses a failed region that is not a member, naming the members', () => {
      const problems = policyProblems(policy(), 'northeurope', 'sre-lead');
      assert.equal(problems.length, 1, show(problems));
      assert.match(
        problems[0] ?? '',
        /region northeurope is not a member of group leaderboard \(members: eastus, westeurope, southeastasia\)/,
      );
    });

    it('refuses a group whose only member is the failed one', () => {
      const problems = policyProblems(
        policy((g) => (g.members = { eastus: dbId('eastus') })),
        'eastus',
        'sre-lead',
      );
      assert.ok(
        problems.some((p) => /only member/.test(p)),
        show(problems),
      );
    });

    it('refuses a quorum the approvers other than the requester cannot reach', () => {
      const problems = policyProblems(
        policy((g) => (g.quorum.unlink = 3)),
        'eastus',
        'sre-lead',
      );
      assert.ok(
        problems.some((p) => /quorum\.unlink is 3 but only 2 approver\(s\) other than the requester sre-lead/.test(p)),
        show(problems),
      );
      // the requester is the verified signer of the start: someone who is no approver leaves all three eligible
      assert.deepEqual(
        policyProblems(
          policy((g) => (g.quorum.unlink = 3)),
          'eastus',
          'incident-bot',
        ),
        [],
      );
    });

    it('refuses a missing Traffic Manager endpoint or probe address', () => {
      const problems = policyProblems(
        policy((g) => {
          delete g.trafficManager.endpoints.eastus;
          delete g.applicationRegions.westeurope?.southeastasia;
        }),
        'eastus',
        'sre-lead',
      );
      assert.ok(
        problems.some((p) => /endpoint for eastus/.test(p)),
        show(problems),
      );
      assert.ok(
        problems.some((p) => /westeurope has no address for southeastasia/.test(p)),
        show(problems),
      );
    });

    it('refuses unreadable durations and a quorum below one', () => {
      const problems = policyProblems(
        policy((g) => {
          g.durations.approvalTimeout = 'soon' as never;
          g.quorum.rejoin = 0;
        }),
        'eastus',
        'sre-lead',
      );
      assert.ok(
        problems.some((p) => /approvalTimeout/.test(p)),
        show(problems),
      );
      assert.ok(
        problems.some((p) => /quorum\.rejoin must be a whole number of at least 1/.test(p)),
        show(problems),
      );
    });
  });

  describe('inputProblems for any JSON (property)', () => {
    const HUGE = 1_500_000;
    const huge = [
      'x'.repeat(HUGE),
      'eastus'.repeat(HUGE / 6),
      '"\\\n\u0000'.repeat(HUGE / 4),
      '\u{1F600}'.repeat(HUGE / 2),
    ];
    const hugeString = fc.constantFrom(...huge);
    const anything = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withSparseArray: true,
      withTypedArray: true,
    });

    function assertBounded(problems: unknown): void {
      assert.ok(Array.isArray(problems), 'an array of sentences');
      assert.ok(problems.length <= 30, `${problems.length} problems`);
      for (const p of problems) {
        assert.equal(typeof p, 'string');
        assert.ok(
          (p as string).length > 0 && (p as string).length <= 500,
          `a sentence of ${(p as string).length} chars`,
        );
      }
    }

    it('never throws and returns bounded sentences for any value', () => {
      fc.assert(
        fc.property(fc.constantFrom('failover' as const, 'rejoin' as const), anything, (kind, value) => {
          assertBounded(inputProblems(kind, value));
        }),
        { numRuns: 500 },
      );
    });

    it('never throws and returns bounded sentences for objects of random fields', () => {
      const field = fc.oneof(anything, hugeString);
      const tuning = fc.record(
        {
          mutationMaximumAttempts: field,
          mutationInitialRetryInterval: field,
          probeScheduleToStart: field,
          lroPollIntervalMs: field,
          heartbeatTimeout: field,
          reads: fc.oneof(field, fc.record({ startToClose: field, scheduleToClose: field, [huge[0]!]: field })),
        },
        { requiredKeys: [] },
      );
      const value = fc.record(
        {
          group: field,
          failedRegion: field,
          region: field,
          reason: field,
          request: fc.oneof(field, fc.record({ statement: field, signature: field })),
          acceptSettingsMismatch: field,
          tuning: fc.oneof(field, tuning),
          extra: field,
        },
        { requiredKeys: [] },
      );
      fc.assert(
        fc.property(fc.constantFrom('failover' as const, 'rejoin' as const), value, (kind, input) => {
          assertBounded(inputProblems(kind, input));
        }),
        { numRuns: 100 },
      );
    });

    it('keeps every sentence short when every field (and a field name) is 1.5 MB', () => {
      for (const s of huge) {
        const everything = {
          group: s,
          failedRegion: s,
          region: s,
          reason: s,
          request: { statement: s, signature: s },
          acceptSettingsMismatch: s,
          tuning: {
            mutationMaximumAttempts: s,
            mutationInitialRetryInterval: s,
            probeScheduleToStart: s,
            lroPollIntervalMs: s,
            heartbeatTimeout: s,
            reads: { startToClose: s, scheduleToClose: s, initialRetryInterval: s, [s]: s },
            [s]: s,
          },
          [s]: s,
        };
        for (const kind of ['failover', 'rejoin'] as const) {
          const problems = inputProblems(kind, everything);
          assertBounded(problems);
          assert.ok(problems.length >= 8, show(problems));
        }
      }
    });
  });
});
