import type { RunbookPhase, StepName } from './names';
import type { Proof, RunbookPolicy } from './policy';
import type { GroupMember } from './readiness';
import type { StepRecord } from './types';

/**
 * Where a continued run picks the runbook up: the stage that had not finished when the previous run continued as
 * new. Stages are the stretches between the runbook's quiet points.
 */
export type RunbookStage = 'checks' | 'reroute' | 'verify' | 'await-recovery' | 'rejoin' | 'failback';

/** A commander's request recorded by the runbook (regionRecovered, abort). */
export interface RecordedRequest {
  by: string;
  at: string;
  comment?: string;
  fingerprint?: string;
}

/** The unlink trigger's memory (see UnlinkTrigger). */
export interface UnlinkTriggerSnapshot {
  armed: boolean;
  closedAtMs?: number;
  belowCriticalSinceClosed: boolean;
  last?: { outageMs: number; grade?: 'ok' | 'elevated' | 'critical' };
  manual?: { by: string; reason: string; at: string };
}

/** A gate that has closed, as much of it as later refusals name. */
export interface ClosedGateSnapshot {
  name: string;
  step: StepName;
  outcome?: string;
  decidedAt?: string;
}

/**
 * The whole state of one incident, as one run hands it to the next when it continues as new (Temporal keeps each
 * run's history bounded; an outage may last days). Written only by the runbook itself: a run accepts it only when
 * Temporal says the run continues an earlier run of this incident (see validate-input).
 */
export interface RunbookSnapshot {
  version: 1;
  /** the incident's first run, and the run this one continues */
  firstRunId: string;
  previousRunId: string;
  /** how many runs the incident has had before this one */
  runsBefore: number;
  /** when the incident started (its first run), for elapsed time, outage length and RTO */
  startedAt: string;
  stage: RunbookStage;
  basePhase: RunbookPhase;
  policy: RunbookPolicy;
  startProof: Proof;
  requestedBy: string;
  /** the step log, gates rendered as they closed */
  steps: StepRecord[];
  closedGates: ClosedGateSnapshot[];
  gatesOpened: number;
  /** nonces of signed statements already acted on: a statement counts once across the whole incident */
  usedNonces: string[];
  trigger: UnlinkTriggerSnapshot;
  recovered?: RecordedRequest & { via: 'signal' | 'poll' };
  abortRequest?: RecordedRequest & { reason: string };
  /** a rehearsal: the commander's signed endRehearsal, once accepted */
  rehearsalEnd?: RecordedRequest;
  recoveryOpen: boolean;
  unlinked: boolean;
  survivors: GroupMember[];
  groupNickname?: string;
  rtoMs?: number;
  /** the recovery watch's own state: memory samples, polls, consecutive passing checks, requests to check */
  recovery?: unknown;
}
