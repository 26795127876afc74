// What regionEvacuation's handlers act on, and the aggregate its `status` query answers. Handlers only mutate
// this state; the main flow (../region-evacuation.ts) reads it and acts.
import type {
  ChildProgress,
  EvacuationAction,
  EvacuationChild,
  EvacuationPhase,
  EvacuationPlan,
  EvacuationStatus,
} from '../../contract/evacuation';
import { DEFAULT_EVACUATION_CONCURRENCY } from '../../contract/evacuation';
import { RUNBOOK_PHASES, type RunbookPhase } from '../../contract/names';
import type { RunbookPolicy } from '../../contract/policy';
import type { GroupDefinition } from '../../contract/runbook';
import { bounded } from '../runbook/bounded';

const ENDED: readonly string[] = ['completed', 'aborted', 'stopped', 'refused', 'not-started'];
/** Past these phases a child's traffic has moved, or it waits on a person: it no longer holds a slot. */
const BEFORE_REROUTE: readonly string[] = ['starting', 'validating', 'rerouting'];
const MAX_ACTIONS = 200;

export class EvacuationState {
  phase: EvacuationPhase = 'validating';
  plan?: EvacuationPlan;
  requestedBy?: string;
  reason?: string;
  refusal?: string;
  concurrency = DEFAULT_EVACUATION_CONCURRENCY;
  readonly children = new Map<string, EvacuationChild>();
  readonly actions: EvacuationAction[] = [];
  abortRequest?: { by: string; reason: string; at: string; payload: unknown };
  /** nonces of statements acted on */
  readonly usedNonces = new Set<string>();

  constructor(
    readonly region: string,
    readonly workflowId: string,
    readonly runId: string,
    readonly startedAt: string,
  ) {}

  /** A policy of every group's people and roles, for verifying what is signed to the evacuation itself. */
  combinedPolicy(): RunbookPolicy | undefined {
    const plan = this.plan;
    if (!plan) return undefined;
    const commanders = new Set<string>();
    const approvers = new Set<string>();
    for (const roles of Object.values(plan.roles)) {
      roles.commanders.forEach((c) => commanders.add(c));
      roles.approvers.forEach((a) => approvers.add(a));
    }
    const group = {
      name: `evacuation of ${this.region}`,
      commanders: [...commanders],
      approvers: [...approvers],
    } as GroupDefinition;
    return { group, people: plan.people, digest: '' };
  }

  child(workflowId: string): EvacuationChild | undefined {
    for (const child of this.children.values()) if (child.workflowId === workflowId) return child;
    return undefined;
  }

  /** A child's phase change, sent by the child: only for children this evacuation started. */
  progress(report: unknown): void {
    if (typeof report !== 'object' || report === null) return;
    const r = report as Partial<ChildProgress>;
    if (typeof r.workflowId !== 'string') return;
    const child = this.child(r.workflowId);
    if (!child || child.outcome || child.phase === 'queued' || child.phase === 'not-started') return;
    // Signals may arrive out of order: a report older than the last one taken from the same run is stale.
    if (typeof r.runId === 'string' && typeof r.seq === 'number' && Number.isSafeInteger(r.seq)) {
      const last = child.reported;
      if (last && last.runId === r.runId && r.seq <= last.seq) return;
      child.reported = { runId: r.runId.slice(0, 64), seq: r.seq };
    }
    if (typeof r.phase === 'string' && (RUNBOOK_PHASES as readonly string[]).includes(r.phase)) {
      child.phase = r.phase as RunbookPhase;
    }
    if (typeof r.rtoMs === 'number' && Number.isFinite(r.rtoMs) && r.rtoMs >= 0) child.rtoMs = r.rtoMs;
    const gate = r.openGate;
    if (gate && typeof gate === 'object' && typeof gate.gate === 'string') {
      child.openGate = {
        gate: bounded(gate.gate, 64),
        ...(gate.kind === 'approval' || gate.kind === 'intervention' ? { kind: gate.kind } : {}),
        ...(typeof gate.step === 'string' ? { step: bounded(gate.step, 64) as never } : {}),
        ...(Number.isSafeInteger(gate.instance) ? { instance: gate.instance } : {}),
      };
    } else delete child.openGate;
  }

  /** Children started and still before their traffic reroute: what the concurrency bound counts. */
  get inFlight(): number {
    let n = 0;
    for (const c of this.children.values()) {
      if (!c.outcome && c.rtoMs === undefined && BEFORE_REROUTE.includes(c.phase)) n++;
    }
    return n;
  }

  /** Children whose start was asked for and not yet confirmed by Temporal. */
  get starting(): number {
    let n = 0;
    for (const c of this.children.values()) if (c.phase === 'starting') n++;
    return n;
  }

  get allSettled(): boolean {
    return [...this.children.values()].every((c) => c.phase !== 'starting' && ENDED.includes(c.phase));
  }

  record(action: EvacuationAction): void {
    if (this.actions.length < MAX_ACTIONS) this.actions.push(action);
  }

  status(): EvacuationStatus {
    const groups = [...this.children.values()].map((c) => ({
      ...c,
      ...(c.openGate ? { openGate: { ...c.openGate } } : {}),
    }));
    const byPhase: Record<string, number> = {};
    for (const c of groups) byPhase[c.phase] = (byPhase[c.phase] ?? 0) + 1;
    const status: EvacuationStatus = {
      region: this.region,
      runId: this.runId,
      phase: this.phase,
      concurrency: this.concurrency,
      unlinkApproval: this.plan?.unlinkApproval ?? 'per-group',
      startedAt: this.startedAt,
      groups,
      byPhase,
      gatesOpen: groups
        .filter((c) => c.openGate && !c.outcome)
        .map((c) => ({ workflowId: c.workflowId, group: c.group, gate: c.openGate!.gate })),
      actions: this.actions.map((a) => ({ ...a })),
    };
    if (this.requestedBy) status.requestedBy = this.requestedBy;
    if (this.reason) status.reason = this.reason;
    if (this.refusal) status.refusal = this.refusal;
    return status;
  }
}
