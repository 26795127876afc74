// When await-recovery asks people to force-unlink the failed member. Pure: no Temporal calls, so the
// rule is unit-tested and the workflow only feeds it observations.
import type { MemorySource, PressureGrade } from '../../contract/activities';
import type { UnlinkTriggerSnapshot } from '../../contract/snapshot';
import { formatMs } from './durations';

/** One await-recovery poll of the survivors' memory. */
export interface MemorySample {
  at: string;
  /** worst grade of the readings; absent when no survivor could be read */
  grade?: PressureGrade;
  /** survivor region → used/max percent */
  percents: Record<string, number>;
  /** survivor region → why its memory could not be read */
  errors?: Record<string, string>;
  /** survivor region → where its percent comes from (Azure Monitor's usedmemorypercentage, or INFO memory) */
  sources?: Record<string, MemorySource>;
  /** survivor region → Azure Monitor's geoReplicationHealthy, when it was read */
  geoReplicationHealthy?: Record<string, boolean>;
}

export interface MemoryTrend {
  direction: 'rising' | 'falling' | 'steady' | 'unknown';
  /** fullest survivor's percent in the oldest and newest sample kept */
  fromPercent?: number;
  toPercent?: number;
  samples: MemorySample[];
}

// A change under this many percentage points between the oldest and newest sample is noise.
const STEADY_BAND = 1;

/** Which way the fullest survivor's memory moves over the last `keep` samples. */
export function memoryTrend(samples: readonly MemorySample[], keep = 10): MemoryTrend {
  const recent = samples.slice(-keep);
  const fullest = recent
    .map((s) => Object.values(s.percents))
    .filter((values) => values.length > 0)
    .map((values) => Math.max(...values));
  const from = fullest[0];
  const to = fullest[fullest.length - 1];
  if (from === undefined || to === undefined || fullest.length < 2) {
    return { direction: 'unknown', fromPercent: from, toPercent: to, samples: recent };
  }
  const direction = to - from > STEADY_BAND ? 'rising' : from - to > STEADY_BAND ? 'falling' : 'steady';
  return { direction, fromPercent: from, toPercent: to, samples: recent };
}

/** `rehearsal`: a rehearsal exercises the destructive steps (the group's configuration allows it). */
export type UnlinkTriggerReason = 'unlink-now' | 'critical-pressure' | 'outage-limit' | 'rehearsal';

export interface TriggerFiring {
  reason: UnlinkTriggerReason;
  /** one sentence for the gate's request and the step log */
  detail: string;
  /** who sent unlinkNow */
  by?: string;
}

/**
 * The unlink trigger of await-recovery. It fires (asks for `approval-unlink`) when
 * - `unlinkNow` was sent: always, even right after a refusal — a person asked;
 * - or, while armed, the worst survivor grade is critical, or the outage has lasted `maxOutageMs`.
 *
 * It is armed at the start. Opening the gate disarms it. When the gate ends without an unlink (rejected,
 * timed out after escalating, withdrawn) it stays disarmed — approvers are not asked the same question
 * again at every poll — until either
 * - the pressure falls below critical and then reaches critical again (a new crossing), or
 * - another `maxOutageMs` has passed since the gate ended (the outage limit counted again from the refusal).
 */
export class UnlinkTrigger {
  private armed = true;
  private closedAtMs?: number;
  private belowCriticalSinceClosed = false;
  private last?: { outageMs: number; grade?: PressureGrade };
  private manual?: { by: string; reason: string; at: string };

  constructor(readonly maxOutageMs: number) {}

  /** One poll: the outage length so far and the worst survivor grade (undefined when unreadable). */
  observe(sample: { atMs: number; outageMs: number; grade?: PressureGrade }): void {
    this.last = { outageMs: sample.outageMs, grade: sample.grade };
    if (this.armed || this.closedAtMs === undefined) return;
    if (sample.grade !== undefined && sample.grade !== 'critical') this.belowCriticalSinceClosed = true;
    const newCrossing = sample.grade === 'critical' && this.belowCriticalSinceClosed;
    const limitAgain = sample.atMs - this.closedAtMs >= this.maxOutageMs;
    if (newCrossing || limitAgain) this.armed = true;
  }

  /** `unlinkNow`: fire at the next chance, whatever the grade. */
  requestNow(request: { by: string; reason: string; at: string }): void {
    this.manual = request;
  }

  /** Why the gate should open now; undefined when it should not. */
  get firing(): TriggerFiring | undefined {
    if (this.manual) {
      return {
        reason: 'unlink-now',
        detail: `${this.manual.by} sent unlinkNow: ${this.manual.reason}`,
        by: this.manual.by,
      };
    }
    if (!this.armed || !this.last) return undefined;
    if (this.last.grade === 'critical') {
      return { reason: 'critical-pressure', detail: 'memory pressure on a survivor reached the critical grade' };
    }
    if (this.last.outageMs >= this.maxOutageMs) {
      return {
        reason: 'outage-limit',
        detail: `the outage has lasted ${formatMs(this.last.outageMs)}, over the limit of ${formatMs(this.maxOutageMs)}`,
      };
    }
    return undefined;
  }

  /** The gate opened: nothing fires until it ends. */
  opened(): void {
    this.manual = undefined;
    this.armed = false;
    this.closedAtMs = undefined;
  }

  /** The gate ended without an unlink at `atMs`: quiet until the re-arm rule says otherwise. */
  closed(atMs: number): void {
    this.armed = false;
    this.closedAtMs = atMs;
    this.belowCriticalSinceClosed = false;
  }

  /** Its memory, for a continued run (RunbookSnapshot.trigger). */
  save(): UnlinkTriggerSnapshot {
    const saved: UnlinkTriggerSnapshot = { armed: this.armed, belowCriticalSinceClosed: this.belowCriticalSinceClosed };
    if (this.closedAtMs !== undefined) saved.closedAtMs = this.closedAtMs;
    if (this.last) saved.last = { ...this.last };
    if (this.manual) saved.manual = { ...this.manual };
    return saved;
  }

  restore(saved: UnlinkTriggerSnapshot): void {
    this.armed = saved.armed;
    this.belowCriticalSinceClosed = saved.belowCriticalSinceClosed;
    this.closedAtMs = saved.closedAtMs;
    this.last = saved.last ? { ...saved.last } : undefined;
    this.manual = saved.manual ? { ...saved.manual } : undefined;
  }

  /** For the step log. */
  describe(): { armed: boolean; pendingUnlinkNow?: { by: string; reason: string; at: string }; lastClosedAt?: string } {
    return {
      armed: this.armed,
      pendingUnlinkNow: this.manual,
      lastClosedAt: this.closedAtMs === undefined ? undefined : new Date(this.closedAtMs).toISOString(),
    };
  }
}
