import assert from 'node:assert/strict';
import { gradePressure, worstGrade } from '../../src/contract/pressure';
import { memoryTrend, UnlinkTrigger, type MemorySample } from '../../src/workflows/runbook/unlink-trigger';

const THRESHOLDS = { elevatedPercent: 70, criticalPercent: 90 };
const MAX_OUTAGE_MS = 60_000;
// A function, so TypeScript does not narrow the getter after an assertion.
const firing = (trigger: UnlinkTrigger): ReturnType<() => UnlinkTrigger['firing']> => trigger.firing;

describe('unlink trigger (pure)', () => {
  describe('gradePressure', () => {
    it('grades by the configured thresholds, inclusive', () => {
      assert.equal(gradePressure(10, THRESHOLDS), 'ok');
      assert.equal(gradePressure(69.9, THRESHOLDS), 'ok');
      assert.equal(gradePressure(70, THRESHOLDS), 'elevated');
      assert.equal(gradePressure(89.9, THRESHOLDS), 'elevated');
      assert.equal(gradePressure(90, THRESHOLDS), 'critical');
      assert.equal(gradePressure(100, THRESHOLDS), 'critical');
    });

    it('takes the worst grade across survivors', () => {
      assert.equal(worstGrade(['ok', 'critical', 'elevated']), 'critical');
      assert.equal(worstGrade(['ok', 'elevated']), 'elevated');
      assert.equal(worstGrade([]), undefined);
    });
  });

  describe('memoryTrend', () => {
    const sample = (at: number, percents: Record<string, number>): MemorySample => ({
      at: new Date(at).toISOString(),
      grade: worstGrade(Object.values(percents).map((p) => gradePressure(p, THRESHOLDS))),
      percents,
    });

    it('follows the fullest survivor and says which way it moves', () => {
      const rising = memoryTrend([sample(0, { a: 40, b: 50 }), sample(1000, { a: 41, b: 60 })]);
      assert.equal(rising.direction, 'rising');
      assert.equal(rising.fromPercent, 50);
      assert.equal(rising.toPercent, 60);
      assert.equal(memoryTrend([sample(0, { a: 60 }), sample(1000, { a: 40 })]).direction, 'falling');
      assert.equal(memoryTrend([sample(0, { a: 60 }), sample(1000, { a: 60.4 })]).direction, 'steady');
      assert.equal(memoryTrend([]).direction, 'unknown');
    });

    it('keeps only the most recent samples', () => {
      const many = Array.from({ length: 30 }, (_, i) => sample(i * 1000, { a: i }));
      const trend = memoryTrend(many, 10);
      assert.equal(trend.samples.length, 10);
      assert.equal(trend.toPercent, 29);
      assert.equal(trend.fromPercent, 20);
    });
  });

  describe('UnlinkTrigger', () => {
    it('does not fire while pressure is below critical and the outage is short', () => {
      const trigger = new UnlinkTrigger(MAX_OUTAGE_MS);
      trigger.observe({ atMs: 1000, outageMs: 1000, grade: 'elevated' });
      assert.equal(firing(trigger), undefined);
    });

    it('fires on critical pressure', () => {
      const trigger = new UnlinkTrigger(MAX_OUTAGE_MS);
      trigger.observe({ atMs: 1000, outageMs: 1000, grade: 'critical' });
      assert.equal(firing(trigger)?.reason, 'critical-pressure');
    });

    it('fires when the outage lasts longer than the limit', () => {
      const trigger = new UnlinkTrigger(MAX_OUTAGE_MS);
      trigger.observe({ atMs: 61_000, outageMs: 61_000, grade: 'ok' });
      assert.equal(firing(trigger)?.reason, 'outage-limit');
    });

    it('fires at once on unlinkNow, whatever the grade, and names who asked', () => {
      const trigger = new UnlinkTrigger(MAX_OUTAGE_MS);
      trigger.requestNow({ by: 'sre-lead', reason: 'region gone for hours', at: 't' });
      assert.equal(firing(trigger)?.reason, 'unlink-now');
      assert.match(firing(trigger)?.detail ?? '', /sre-lead/);
    });

    it('stays quiet while the gate it opened is open', () => {
      const trigger = new UnlinkTrigger(MAX_OUTAGE_MS);
      trigger.observe({ atMs: 1000, outageMs: 1000, grade: 'critical' });
      trigger.opened();
      trigger.observe({ atMs: 2000, outageMs: 2000, grade: 'critical' });
      assert.equal(firing(trigger), undefined);
    });

    it('after a rejection, stays quiet while pressure stays critical', () => {
      const trigger = new UnlinkTrigger(MAX_OUTAGE_MS);
      trigger.observe({ atMs: 1000, outageMs: 1000, grade: 'critical' });
      trigger.opened();
      trigger.closed(5000);
      trigger.observe({ atMs: 6000, outageMs: 6000, grade: 'critical' });
      trigger.observe({ atMs: 7000, outageMs: 7000, grade: 'critical' });
      assert.equal(firing(trigger), undefined);
    });

    it('re-arms when pressure falls below critical and rises to critical again', () => {
      const trigger = new UnlinkTrigger(MAX_OUTAGE_MS);
      trigger.observe({ atMs: 1000, outageMs: 1000, grade: 'critical' });
      trigger.opened();
      trigger.closed(5000);
      trigger.observe({ atMs: 6000, outageMs: 6000, grade: 'elevated' });
      assert.equal(firing(trigger), undefined);
      trigger.observe({ atMs: 7000, outageMs: 7000, grade: 'critical' });
      assert.equal(firing(trigger)?.reason, 'critical-pressure');
    });

    it('re-arms one outage limit after the last refusal', () => {
      const trigger = new UnlinkTrigger(MAX_OUTAGE_MS);
      trigger.observe({ atMs: 61_000, outageMs: 61_000, grade: 'ok' });
      trigger.opened();
      trigger.closed(62_000);
      trigger.observe({ atMs: 100_000, outageMs: 100_000, grade: 'ok' });
      assert.equal(firing(trigger), undefined);
      trigger.observe({ atMs: 122_000, outageMs: 122_000, grade: 'ok' });
      assert.equal(firing(trigger)?.reason, 'outage-limit');
    });

    it('re-fires on unlinkNow even right after a rejection', () => {
      const trigger = new UnlinkTrigger(MAX_OUTAGE_MS);
      trigger.observe({ atMs: 1000, outageMs: 1000, grade: 'critical' });
      trigger.opened();
      trigger.closed(2000);
      trigger.requestNow({ by: 'sre-manager', reason: 'memory keeps growing', at: 't' });
      assert.equal(firing(trigger)?.reason, 'unlink-now');
      trigger.opened();
      assert.equal(firing(trigger), undefined);
    });

    it('ignores unreadable polls (no grade) for arming', () => {
      const trigger = new UnlinkTrigger(MAX_OUTAGE_MS);
      trigger.observe({ atMs: 1000, outageMs: 1000, grade: 'critical' });
      trigger.opened();
      trigger.closed(2000);
      trigger.observe({ atMs: 3000, outageMs: 3000 });
      trigger.observe({ atMs: 4000, outageMs: 4000, grade: 'critical' });
      assert.equal(firing(trigger), undefined);
    });
  });
});
