// A rehearsal's inputs, checked where they enter: the runbook input's mode and hold (never thrown on, every message
// bounded), the mode ↔ workflow id binding, the endRehearsal payload, the configuration's rehearsal.destructive and
// what the destructive activities accept from a rehearsal's run. Pure.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../src/config/load';
import { workflowIds } from '../../src/contract/names';
import type { FailoverRunbookInput, GroupDefinition } from '../../src/contract/runbook';
import { destructiveRefusal } from '../../src/policy/authorize';
import { toGroupDefinition } from '../../src/policy/group-definition';
import { checkRehearsalOptions, buildRehearsalInput } from '../../src/cli/commands/rehearse';
import { byPayloadProblem } from '../../src/workflows/runbook/handlers';
import { inputProblems, modeIdProblems } from '../../src/workflows/runbook/validate-input';
import { activityAuthorization, policyFor, signedStart } from '../helpers/people';
import { testGroup } from '../helpers/runbook-fakes';

const REGIONS = ['eastus', 'westeurope', 'southeastasia'];

function input(group: GroupDefinition, change: (i: Record<string, unknown>) => void = () => undefined) {
  const i: FailoverRunbookInput = {
    group: group.name,
    failedRegion: 'eastus',
    reason: 'quarterly rehearsal',
    mode: 'rehearsal',
    request: signedStart(group, 'eastus', workflowIds.rehearsal(group.name)),
  };
  change(i as unknown as Record<string, unknown>);
  return i;
}

describe('rehearsal inputs (pure)', () => {
  const group = testGroup(REGIONS);

  describe('mode and hold in the runbook input', () => {
    it('accepts a rehearsal with and without a hold, and the drill and incident modes', () => {
      assert.deepEqual(inputProblems('failover', input(group)), []);
      assert.deepEqual(
        inputProblems(
          'failover',
          input(group, (i) => (i.hold = '30m')),
        ),
        [],
      );
      assert.deepEqual(
        inputProblems(
          'failover',
          input(group, (i) => (i.hold = 1500)),
        ),
        [],
      );
      for (const mode of ['incident', 'drill', undefined]) {
        assert.deepEqual(
          inputProblems(
            'failover',
            input(group, (i) => (i.mode = mode)),
          ),
          [],
        );
      }
      assert.deepEqual(
        inputProblems(
          'failover',
          input(group, (i) => (i.tuning = { replicationCheckTimeout: '2m' })),
        ),
        [],
      );
    });

    it('refuses an unknown mode, naming the modes', () => {
      const [problem, ...rest] = inputProblems(
        'failover',
        input(group, (i) => (i.mode = 'REHEARSAL')),
      );
      assert.equal(rest.length, 0);
      assert.match(problem ?? '', /mode is "REHEARSAL", expected one of incident, rehearsal, drill/);
    });

    it('refuses a hold outside a rehearsal, a hold that is not a positive duration, and one over 7 days', () => {
      assert.match(
        inputProblems(
          'failover',
          input(group, (i) => ((i.mode = 'incident'), (i.hold = '1h'))),
        )[0] ?? '',
        /hold applies to a rehearsal only/,
      );
      for (const hold of ['soon', '-5m', 0, '', {}, 'x'.repeat(500)]) {
        const problems = inputProblems(
          'failover',
          input(group, (i) => (i.hold = hold)),
        );
        assert.equal(problems.length, 1, `${JSON.stringify(hold)}: ${problems.join('; ')}`);
        assert.match(problems[0] ?? '', /^hold is .*expected a (positive )?duration/);
        assert.ok((problems[0] ?? '').length < 200, 'the message is bounded');
      }
      assert.match(
        inputProblems(
          'failover',
          input(group, (i) => (i.hold = '8 days')),
        )[0] ?? '',
        /longer than 7 days/,
      );
    });

    it('a rejoin input has no mode or hold', () => {
      const problems = inputProblems('rejoin', {
        group: group.name,
        region: 'eastus',
        reason: 'back',
        mode: 'rehearsal',
        request: { statement: 's', signature: 'x' },
      });
      assert.match(problems.join('; '), /unknown field\(s\) "mode"/);
    });

    it('never throws and bounds every message, whatever the mode, hold and tuning are', () => {
      fc.assert(
        fc.property(fc.anything(), fc.anything(), fc.anything(), (mode, hold, tuning) => {
          const problems = inputProblems(
            'failover',
            input(group, (i) => ((i.mode = mode), (i.hold = hold), (i.tuning = tuning))),
          );
          for (const p of problems) assert.ok(p.length <= 400, p);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('mode ↔ workflow id', () => {
    it('a rehearsal runs as rehearsal/<group> only, and nothing else runs under that id', () => {
      assert.deepEqual(modeIdProblems('rehearsal', 'g1', 'rehearsal/g1'), []);
      assert.deepEqual(modeIdProblems('incident', 'g1', 'failover/g1'), []);
      assert.deepEqual(modeIdProblems('drill', 'g1', 'failover/g1'), []);
      assert.match(modeIdProblems('rehearsal', 'g1', 'failover/g1')[0] ?? '', /runs as workflow rehearsal\/g1/);
      assert.match(modeIdProblems('rehearsal', 'g1', 'rehearsal/g2')[0] ?? '', /runs as workflow rehearsal\/g1/);
      assert.match(modeIdProblems('incident', 'g1', 'rehearsal/g1')[0] ?? '', /mode is incident/);
    });
  });

  describe('the endRehearsal payload', () => {
    it('needs a bounded `by`, and a bounded comment when there is one; never throws', () => {
      assert.equal(byPayloadProblem({ by: 'sre-lead', comment: 'done', proof: {} }, false), undefined);
      assert.equal(byPayloadProblem({ by: 'sre-lead' }, false), undefined);
      assert.match(byPayloadProblem({ comment: 'x' }, false) ?? '', /by must be a string/);
      assert.match(byPayloadProblem({ by: 'x'.repeat(65) }, false) ?? '', /longer than 64/);
      assert.match(byPayloadProblem({ by: 'a', comment: 'c'.repeat(2001) }, false) ?? '', /longer than 2000/);
      fc.assert(fc.property(fc.anything(), (payload) => void byPayloadProblem(payload, false)));
    });
  });

  describe('the configuration and the worker', () => {
    const example = path.resolve(__dirname, '../../geofailover.config.example.json');

    it('rehearsal.destructive is optional, false by default, and reaches the group definition only when set', () => {
      const raw = JSON.parse(readFileSync(example, 'utf8')) as { groups: Record<string, Record<string, unknown>> };
      const [name, first] = Object.entries(raw.groups)[0] as [string, Record<string, unknown>];
      delete first.rehearsal;
      const without = parseConfig(JSON.stringify(raw), example);
      assert.equal(toGroupDefinition(name, without.groups[name]!).rehearsal, undefined, 'the digest is unchanged');
      first.rehearsal = {};
      assert.deepEqual(toGroupDefinition(name, parseConfig(JSON.stringify(raw), example).groups[name]!).rehearsal, {
        destructive: false,
      });
      first.rehearsal = { destructive: true };
      assert.deepEqual(toGroupDefinition(name, parseConfig(JSON.stringify(raw), example).groups[name]!).rehearsal, {
        destructive: true,
      });
      first.rehearsal = { destructive: 'yes' };
      assert.throws(() => parseConfig(JSON.stringify(raw), example), /rehearsal/);
    });

    it('force-unlink and rejoin of a rehearsal act only where the group allows rehearsing them; traffic always', () => {
      const databaseId = group.members.eastus!;
      const run = { workflowId: workflowIds.rehearsal(group.name), runId: 'run-1' };
      const base = { policy: policyFor(group), ...run, target: databaseId };
      assert.equal(destructiveRefusal({ ...base, authorization: activityAuthorization(run, [databaseId]) }), undefined);
      const gated = { ...base, authorization: activityAuthorization(run, [databaseId], 'approval-unlink') };
      assert.match(
        destructiveRefusal({ ...gated, gate: 'approval-unlink' }) ?? '',
        /does not allow rehearsing destructive steps/,
      );
      const allowed = policyFor(
        testGroup(REGIONS, (g) => ((g.name = group.name), (g.rehearsal = { destructive: true }))),
      );
      assert.equal(destructiveRefusal({ ...gated, policy: allowed, gate: 'approval-unlink' }), undefined);
    });
  });

  describe('the CLI', () => {
    it('rehearse checks --hold and --incident before anything is signed', () => {
      checkRehearsalOptions({ hold: '30m', incident: 'CHG-1234' });
      assert.throws(() => checkRehearsalOptions({ hold: 'soon' }), /--hold "soon": expected a duration/);
      assert.throws(() => checkRehearsalOptions({ hold: '30 days' }), /at most 7 days/);
      assert.throws(() => checkRehearsalOptions({ incident: 'no spaces allowed' }), /--incident/);
    });

    it('builds the input a rehearsal records: names, mode, hold, the signed start', () => {
      const request = signedStart(group, 'eastus', workflowIds.rehearsal(group.name));
      assert.deepEqual(
        buildRehearsalInput({ group, region: 'eastus', reason: 'Q4', hold: '30m', incident: 'CHG-1' }, request),
        {
          group: group.name,
          failedRegion: 'eastus',
          reason: 'Q4',
          mode: 'rehearsal',
          hold: '30m',
          incident: 'CHG-1',
          request,
        },
      );
      assert.deepEqual(
        inputProblems('failover', buildRehearsalInput({ group, region: 'eastus', reason: 'Q4' }, request)),
        [],
      );
    });
  });
});
