// The runbook's step log: one StepRecord per runbook step (STEP_NAMES), the model of the `status` query.
// Pure (a clock is injected; in the workflow it is the deterministic workflow clock).
import { STEP_NAMES } from '../../contract/names';
import type { StepName } from '../../contract/names';
import type { GateRecord, RefusedAttempt, StepRecord } from '../../contract/types';

/** A gate whose record is read when the status is asked for (it changes while it is open). */
export interface RecordedGate {
  record(): GateRecord;
}

/** Refused attempts kept per step; the rest are only counted. */
export const MAX_REFUSALS_KEPT = 20;

const workflowClock = (): string => new Date().toISOString();

export class StepLog {
  private readonly records = new Map<StepName, StepRecord>();
  private readonly gates = new Map<StepName, RecordedGate[]>();
  private frozen = false;

  constructor(private readonly now: () => string = workflowClock) {
    for (const step of STEP_NAMES)
      this.records.set(step, { step, status: 'pending', attempts: 0, summary: 'not started' });
  }

  /**
   * The log as a continued run received it (RunbookSnapshot.steps): records and the gates of earlier runs, which
   * closed before the run continued as new.
   */
  restore(saved: readonly StepRecord[]): void {
    for (const { gates, ...record } of saved) {
      if (!this.records.has(record.step)) continue;
      this.records.set(record.step, { ...record });
      if (gates?.length)
        this.gates.set(
          record.step,
          gates.map((g) => ({ record: () => ({ ...g }) })),
        );
    }
  }

  /** The live record of a step. */
  get(step: StepName): StepRecord {
    const record = this.records.get(step);
    if (!record) throw new Error(`unknown step ${step}`);
    return record;
  }

  /** The step starts (again): one more attempt; the first start time is kept. */
  start(step: StepName, summary: string, actor?: string): void {
    if (this.frozen) return;
    const record = this.get(step);
    record.status = 'running';
    record.attempts += 1;
    record.startedAt ??= this.now();
    record.endedAt = undefined;
    record.summary = summary;
    if (actor !== undefined) record.actor = actor;
  }

  /** The step waits for people (a gate). */
  wait(step: StepName, summary: string): void {
    if (this.frozen) return;
    const record = this.get(step);
    if (record.status === 'pending') record.attempts += 1;
    record.startedAt ??= this.now();
    record.endedAt = undefined;
    record.status = 'waiting';
    record.summary = summary;
  }

  succeed(step: StepName, summary: string, evidence?: Record<string, unknown>, actor?: string): void {
    this.end(step, 'succeeded', summary, evidence, actor);
  }

  fail(step: StepName, summary: string, evidence?: Record<string, unknown>): void {
    this.end(step, 'failed', summary, evidence);
  }

  skip(step: StepName, summary: string, actor?: string): void {
    this.end(step, 'skipped', summary, undefined, actor);
  }

  /** Back to pending (the unlink gate after a refusal: it may open again). */
  reset(step: StepName, summary: string): void {
    if (this.frozen) return;
    const record = this.get(step);
    record.status = 'pending';
    record.endedAt = this.now();
    record.summary = summary;
  }

  /** Shallow-merges keys into the step's evidence. */
  addEvidence(step: StepName, evidence: Record<string, unknown>): void {
    if (this.frozen) return;
    const record = this.get(step);
    const current = isRecord(record.evidence) ? record.evidence : {};
    record.evidence = { ...current, ...evidence };
  }

  setSummary(step: StepName, summary: string): void {
    if (this.frozen) return;
    this.get(step).summary = summary;
  }

  addGate(step: StepName, gate: RecordedGate): void {
    if (this.frozen) return;
    const list = this.gates.get(step) ?? [];
    list.push(gate);
    this.gates.set(step, list);
  }

  /**
   * Records a refused attempt. Anyone can send these, as often as they like: the step keeps the first
   * MAX_REFUSALS_KEPT (each field already bounded by the caller) and counts the rest, so the status and the
   * result stay far below Temporal's payload limits.
   */
  refuse(step: StepName, attempt: RefusedAttempt): void {
    const record = this.get(step);
    record.refusedTotal = (record.refusedTotal ?? 0) + 1;
    const kept = (record.refusedAttempts ??= []);
    if (kept.length < MAX_REFUSALS_KEPT) kept.push(attempt);
  }

  /** The step that needs attention: a waiting one (people), else the first running one; null when none. */
  get current(): StepName | null {
    const all = [...this.records.values()];
    return (all.find((r) => r.status === 'waiting') ?? all.find((r) => r.status === 'running'))?.step ?? null;
  }

  /** The last step (in order) that has started; 'validate-input' before anything started. */
  get latest(): StepName {
    const started = [...this.records.values()].filter((r) => r.status !== 'pending');
    return started[started.length - 1]?.step ?? 'validate-input';
  }

  /** The runbook ends: every step that did not finish is skipped, with the reason. */
  finishRemaining(summary: string): void {
    for (const record of this.records.values()) {
      if (record.status === 'pending') this.end(record.step, 'skipped', `not run: ${summary}`);
      else if (record.status === 'running' || record.status === 'waiting') {
        this.end(record.step, 'skipped', `interrupted: ${summary}`);
      }
    }
  }

  /** The runbook has ended: later calls change nothing (a parallel branch may still settle). */
  freeze(): void {
    this.frozen = true;
  }

  /** Every step in order, gates rendered as they are now. */
  snapshot(): StepRecord[] {
    return STEP_NAMES.map((step) => {
      const gates = this.gates.get(step);
      const record = { ...this.get(step) };
      if (gates?.length) record.gates = gates.map((g) => g.record());
      if (record.refusedAttempts) record.refusedAttempts = [...record.refusedAttempts];
      return record;
    });
  }

  private end(
    step: StepName,
    status: 'succeeded' | 'failed' | 'skipped',
    summary: string,
    evidence?: Record<string, unknown>,
    actor?: string,
  ): void {
    if (this.frozen) return;
    const record = this.get(step);
    record.status = status;
    record.endedAt = this.now();
    record.summary = summary;
    if (evidence) this.addEvidence(step, evidence);
    if (actor !== undefined) record.actor = actor;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
