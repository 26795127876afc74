// A standing order lets a Temporal Schedule start rehearsals: the runbook (and each destructive activity) accepts it
// only for a rehearsal of the schedule's own group and region, in one of the schedule's runs near its nominal time,
// before the order expires, signed by a commander of the worker's policy. Anything else is refused with a reason;
// the check never throws.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_STANDING_ORDER_VALIDITY_MS, type Proof } from '../../src/contract/policy';
import { scheduleIds, workflowIds } from '../../src/contract/names';
import { destructiveRefusal } from '../../src/policy/authorize';
import { specFiresAt } from '../../src/policy/schedule-times';
import {
  isStandingOrder,
  scheduledRunTime,
  verifyStandingOrder,
  type StandingOrderExpectation,
} from '../../src/policy/standing-order';
import { signStandingOrder, type StandingOrderToSign } from '../../src/signing/standing-order';
import { signAction } from '../../src/signing/sign-action';
import { OUTSIDER, personKey, policyFor, signedStart } from '../helpers/people';
import { testGroup, testRegions } from '../helpers/runbook-fakes';

const DAY = 24 * 3_600_000;

describe('standing order: a signed schedule statement that starts rehearsals', () => {
  const regions = testRegions();
  const [region, other] = regions;
  const group = testGroup(regions);
  const policy = policyFor(group);
  const issuedAt = new Date('2027-01-01T09:00:00.000Z');
  const nominal = '2027-01-05T10:00:00Z';
  const runId = `${workflowIds.rehearsal(group.name)}-${nominal}`;
  const runStart = Date.parse(nominal) + 2_000;

  function order(change: Partial<StandingOrderToSign> = {}, signer = 'sre-lead'): Proof {
    return signStandingOrder(personKey(signer), {
      actor: signer,
      workflowId: workflowIds.rehearsal(group.name),
      scheduleId: scheduleIds.rehearsal(group.name),
      group: group.name,
      region,
      databaseId: group.members[region]!,
      reason: 'quarterly DR rehearsal',
      spec: 'quarterly',
      hold: '30m',
      validForMs: 365 * DAY,
      issuedAt,
      ...change,
    });
  }

  function expectation(change: Partial<StandingOrderExpectation> = {}): StandingOrderExpectation {
    return {
      workflowId: runId,
      group: group.name,
      region,
      mode: 'rehearsal',
      hold: { value: '30m' },
      targets: [group.members[region]!],
      nowMs: runStart,
      scheduledById: scheduleIds.rehearsal(group.name),
      ...change,
    };
  }

  const refusal = (proof: unknown, change: Partial<StandingOrderExpectation> = {}): string => {
    const result = verifyStandingOrder(proof, policy, expectation(change));
    assert.equal(result.ok, false, 'expected a refusal');
    return (result as { reason: string }).reason;
  };

  it("accepts a commander's order in one of the schedule's runs, near its nominal time", () => {
    const result = verifyStandingOrder(order(), policy, expectation());
    assert.ok(result.ok, result.ok ? '' : result.reason);
    assert.equal(result.signer, 'sre-lead');
    assert.equal(result.statement.action, 'schedule');
    assert.ok(isStandingOrder(order()));
    assert.equal(isStandingOrder(signedStart(group, region, workflowIds.failover(group.name))), false);
  });

  it('refuses a forged order: signed by a key not the signer’s, or text changed after signing', () => {
    const forged = signStandingOrder(personKey(OUTSIDER), {
      actor: 'sre-lead',
      workflowId: workflowIds.rehearsal(group.name),
      scheduleId: scheduleIds.rehearsal(group.name),
      group: group.name,
      region,
      databaseId: group.members[region]!,
      reason: 'x',
      spec: 'weekly',
      validForMs: DAY,
      issuedAt,
    });
    assert.match(refusal(forged, { hold: { value: undefined } }), /not one of "sre-lead"'s keys/);
    const good = order();
    const tampered = { ...good, statement: good.statement.replace('"region":"', `"region":"${other}`) };
    assert.match(refusal(tampered), /standing order/);
  });

  it('refuses an expired order, and one valid for longer than a year', () => {
    const expired = order({ validForMs: 2 * DAY });
    assert.match(refusal(expired), /expired/);
    const tooLong = order({ validForMs: MAX_STANDING_ORDER_VALIDITY_MS + DAY });
    assert.match(refusal(tooLong), /longer than/);
  });

  it('refuses another group, region or hold than the order names', () => {
    const otherGroup = testGroup(regions);
    const otherPolicy = policyFor(otherGroup);
    const result = verifyStandingOrder(order(), otherPolicy, {
      ...expectation(),
      group: otherGroup.name,
      workflowId: `${workflowIds.rehearsal(otherGroup.name)}-${nominal}`,
      scheduledById: scheduleIds.rehearsal(otherGroup.name),
    });
    assert.equal(result.ok, false);
    assert.match((result as { reason: string }).reason, /group/);
    assert.match(refusal(order(), { group: 'someone-else' }), /group/);
    assert.match(refusal(order(), { region: other }), /region/);
    assert.match(refusal(order(), { hold: { value: undefined } }), /hold/);
  });

  it("refuses a run that is not one of the schedule's runs, or far from its nominal time", () => {
    assert.match(refusal(order(), { workflowId: workflowIds.rehearsal(group.name) }), /not a run of schedule/);
    assert.match(refusal(order(), { workflowId: workflowIds.failover(group.name) }), /not a run of schedule/);
    assert.match(refusal(order(), { workflowId: `${runId}x` }), /not a run of schedule/);
    assert.match(
      refusal(order(), { workflowId: `${workflowIds.rehearsal(group.name)}-extra-${nominal}` }),
      /not a run/,
    );
    assert.match(refusal(order(), { nowMs: Date.parse(nominal) + 20 * 60_000 }), /within 15 minutes/);
    assert.match(refusal(order(), { scheduledById: null }), /no schedule started this run/);
    assert.match(refusal(order(), { scheduledById: 'rehearsal-schedule/other' }), /started this run/);
    assert.equal(scheduledRunTime('rehearsal/g', 'rehearsal/g-2027-01-05T10:00:00Z'), Date.parse(nominal));
    assert.equal(scheduledRunTime('rehearsal/g', 'rehearsal/g-2027-02-30T10:00:00Z'), undefined);
  });

  it('refuses a signer who is not a commander of the group in the worker’s policy', () => {
    assert.match(refusal(order({}, 'sre-manager')), /not a commander/);
    assert.match(refusal(order({}, OUTSIDER)), /not a person in the worker's configuration/);
  });

  it('refuses a copy of the order in a run that names a time its spec never fires at (a run started by hand)', () => {
    // Within 15 minutes of the start and "started by the schedule" (a client can claim that), but 10:07 on the first
    // Tuesday of January is not a quarterly time: the schedule's own run at 10:00 holds that slot.
    const byHand = '2027-01-05T10:07:00Z';
    assert.match(
      refusal(order(), { workflowId: `${workflowIds.rehearsal(group.name)}-${byHand}`, nowMs: Date.parse(byHand) }),
      /2027-01-05T10:07:00.000Z, which is not a time of its spec "quarterly"/,
    );
    assert.match(
      refusal(order({ spec: 'now and then' })),
      /its spec "now and then" is not one a rehearsal schedule has/,
    );
  });

  it('knows the times of every spec a rehearsal schedule takes', () => {
    const at = (iso: string): number => Date.parse(iso);
    // 2027-01-05 and 2027-04-06 are first Tuesdays; 2027-02-02 a first Tuesday off-quarter; 2027-01-12 a later Tuesday.
    assert.equal(specFiresAt('quarterly', at('2027-01-05T10:00:00Z')), true);
    assert.equal(specFiresAt('quarterly', at('2027-04-06T10:00:00Z')), true);
    assert.equal(specFiresAt('quarterly', at('2027-02-02T10:00:00Z')), false);
    assert.equal(specFiresAt('quarterly', at('2027-01-05T11:00:00Z')), false);
    assert.equal(specFiresAt('monthly', at('2027-02-02T10:00:00Z')), true);
    assert.equal(specFiresAt('monthly', at('2027-01-12T10:00:00Z')), false);
    assert.equal(specFiresAt('weekly', at('2027-01-12T10:00:00Z')), true);
    assert.equal(specFiresAt('weekly', at('2027-01-13T10:00:00Z')), false);
    assert.equal(specFiresAt('0 10 1-7 1,4,7,10 TUE', at('2027-04-06T10:00:00Z')), true);
    assert.equal(specFiresAt('0 10 1-7 1,4,7,10 TUE', at('2027-04-07T10:00:00Z')), false);
    assert.equal(specFiresAt('*/15 * * * *', at('2027-04-07T03:45:00Z')), true);
    assert.equal(specFiresAt('*/15 * * * *', at('2027-04-07T03:46:00Z')), false);
    assert.equal(specFiresAt('30 2 * * 7', at('2027-01-03T02:30:00Z')), true, 'day 7 is Sunday');
    assert.equal(specFiresAt('every 3s', at('2027-01-03T02:30:03Z')), true);
    assert.equal(specFiresAt('every 3s', at('2027-01-03T02:30:04Z')), false);
    assert.equal(specFiresAt('every 90d', 90 * DAY * 200), true);
    for (const odd of ['', 'yearly', '61 * * * *', 'every soon', 'every 10ms', 42, null, 'x'.repeat(500)]) {
      assert.equal(specFiresAt(odd, at('2027-01-05T10:00:00Z')), undefined, String(odd).slice(0, 20));
    }
  });

  it('refuses any mode but rehearsal, and a start statement in place of a schedule statement', () => {
    assert.match(refusal(order(), { mode: 'incident' }), /rehearsals only/);
    assert.match(refusal(order(), { mode: undefined }), /rehearsals only/);
    assert.match(refusal(order(), { mode: 'drill' }), /rehearsals only/);
    const start = signAction(personKey('sre-lead'), {
      action: 'start',
      actor: 'sre-lead',
      workflowId: workflowIds.rehearsal(group.name),
      runId: null,
      targets: [group.members[region]!],
      issuedAt,
    });
    assert.match(refusal(start), /for start, not schedule/);
  });

  it('never throws, whatever the proof and the expectation', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.string(), (proof, mode, workflowId) => {
        const result = verifyStandingOrder(proof, policy, expectation({ mode, workflowId }));
        return result.ok === false && typeof result.reason === 'string';
      }),
    );
  });

  it("a destructive activity accepts the order only for the schedule's runs and its database", () => {
    const ask = (workflowId: string, target: string, request: unknown): string | undefined =>
      destructiveRefusal({ policy, workflowId, runId: 'r1', authorization: { request }, target });
    assert.equal(ask(runId, group.members[region]!, order()), undefined);
    assert.match(ask(runId, group.members[other]!, order()) ?? '', /does not name the target/);
    assert.match(ask(workflowIds.failover(group.name), group.members[region]!, order()) ?? '', /not a run of schedule/);
    assert.match(ask(runId, group.members[region]!, order({}, 'sre-manager')) ?? '', /not a commander/);
  });
});
