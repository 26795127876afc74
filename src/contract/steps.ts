/**
 * The runbook as data: every step, in order, with the phase it runs in, the activities it calls, the gate that
 * guards it, whether it changes anything, and how it ends up skipped. The step names (STEP_NAMES), the rejoin
 * runbook's skip list, the dry-run plan and the audit's activity → step mapping are all derived from this table;
 * adding a step is a change here (and its code in src/workflows/runbook). Pure data: safe in workflow code.
 */
import type { GeofailoverActivities, ProbeActivities } from './activities';
import type { RunbookPhase } from './names';

/** The type name of an activity the runbooks call (the main worker's, and probeEndpoints on probe workers). */
export type ActivityName = keyof GeofailoverActivities | keyof ProbeActivities;

/** The approval gates; intervention gates are per step (see {@link StepSpec.intervention}). */
export type ApprovalGateName = 'approval-unlink' | 'approval-rejoin';

/**
 * Which runbook runs a step: `failover` is failoverRunbook for an incident (and a drill), `rehearsal` is
 * failoverRunbook with `mode: 'rehearsal'` (a planned failover of a healthy region), `rejoin` is rejoinRunbook.
 */
export type RunbookKind = 'failover' | 'rejoin' | 'rehearsal';

export interface StepSpec {
  name: string;
  /** the RunbookPhase the step runs in (`awaiting-approval` or `intervention` show while one of its gates is open) */
  phase: RunbookPhase;
  /**
   * what the step does: calls activities; opens an approval gate; watches (polls until an event); records the
   * outcome
   */
  kind: 'activities' | 'approval' | 'watch' | 'record';
  /** the activities the step schedules, each tagged with the step (ActivityOptions.summary) */
  calls: readonly ActivityName[];
  /** the approval gate that must pass before the step acts (for an approval step: the gate it is) */
  gate: ApprovalGateName | 'none';
  /** a failure after the activities' retries opens an intervention gate (retry / skip with approval / abort) */
  intervention: boolean;
  /** deletes or discards something in Azure that cannot be put back by undoing the call */
  destructive: boolean;
  /** changes the Traffic Manager profile (an endpoint's status) */
  mutatesTrafficManager: boolean;
  /** the runbooks that run the step; in the others it is recorded as skipped ({@link NOT_IN_RUNBOOK}) */
  runbooks: readonly RunbookKind[];
  /** when the step ends as `skipped` instead of running */
  skippedWhen: readonly string[];
  /** one line for the plan */
  description: string;
}

/** The summary a step that is not part of a runbook gets, e.g. `not part of rejoinRunbook`. */
export const NOT_IN_RUNBOOK: Record<RunbookKind, string> = {
  failover: 'not part of an incident: rehearsals only',
  rejoin: 'not part of rejoinRunbook',
  rehearsal: 'not part of a rehearsal: the region has not failed',
};

const BOTH = ['failover', 'rejoin', 'rehearsal'] as const;
const FAILOVER = ['failover', 'rehearsal'] as const;
const INCIDENT = ['failover'] as const;
const REHEARSAL = ['rehearsal'] as const;
const NOT_DESTRUCTIVE_REHEARSAL =
  'a rehearsal of a group whose configuration does not allow rehearsing destructive steps (rehearsal.destructive)';
const ENDED = 'the runbook ended (aborted, stopped or refused) before it';
const INTERVENTION_SKIP = 'it failed and an intervention skip was approved';

/** Every runbook step, in the order the runbooks run them. */
export const RUNBOOK_STEPS = [
  {
    name: 'validate-input',
    phase: 'validating',
    kind: 'activities',
    calls: ['loadPolicy'],
    gate: 'none',
    intervention: false,
    destructive: false,
    mutatesTrafficManager: false,
    runbooks: BOTH,
    skippedWhen: [],
    description: "check the input, load the group's policy from the worker, verify the commander's signed start",
  },
  {
    name: 'membership',
    phase: 'validating',
    kind: 'activities',
    calls: ['describeMember'],
    gate: 'none',
    intervention: false,
    destructive: false,
    mutatesTrafficManager: false,
    runbooks: BOTH,
    skippedWhen: [ENDED],
    description: 'before-snapshot of every member; refuses when the group is not as expected',
  },
  {
    name: 'memory',
    phase: 'validating',
    kind: 'activities',
    calls: ['readMemory'],
    gate: 'none',
    intervention: true,
    destructive: false,
    mutatesTrafficManager: false,
    runbooks: FAILOVER,
    skippedWhen: [NOT_IN_RUNBOOK.rejoin, ENDED, INTERVENTION_SKIP],
    description: 'used/max memory per survivor, graded by the group’s thresholds',
  },
  {
    name: 'firewall',
    phase: 'validating',
    kind: 'activities',
    calls: ['probeEndpoints'],
    gate: 'none',
    intervention: true,
    destructive: false,
    mutatesTrafficManager: false,
    runbooks: FAILOVER,
    skippedWhen: [NOT_IN_RUNBOOK.rejoin, ENDED, INTERVENTION_SKIP],
    description: 'TCP, TLS, AUTH and PING from each application region but the failed one to each survivor',
  },
  {
    name: 'traffic-reroute',
    phase: 'rerouting',
    kind: 'activities',
    calls: ['setEndpointStatus'],
    gate: 'none',
    intervention: true,
    destructive: false,
    mutatesTrafficManager: true,
    runbooks: FAILOVER,
    skippedWhen: [NOT_IN_RUNBOOK.rejoin, ENDED, INTERVENTION_SKIP],
    description: 'disable the failed region’s endpoint, then verify the profile',
  },
  {
    name: 'verify',
    phase: 'rerouting',
    kind: 'activities',
    calls: ['canaryWriteRead'],
    gate: 'none',
    intervention: true,
    destructive: false,
    mutatesTrafficManager: false,
    runbooks: FAILOVER,
    skippedWhen: [NOT_IN_RUNBOOK.rejoin, ENDED, INTERVENTION_SKIP],
    description: 'canary write and read (with a TTL) on every survivor',
  },
  {
    name: 'await-recovery',
    phase: 'awaiting-recovery',
    kind: 'watch',
    // the failed member (ARM, resourceState), the probes of it once ARM answers, the survivors' memory
    calls: ['readMemory', 'describeMember', 'probeEndpoints'],
    gate: 'none',
    intervention: false,
    destructive: false,
    mutatesTrafficManager: false,
    runbooks: INCIDENT,
    skippedWhen: [NOT_IN_RUNBOOK.rejoin, NOT_IN_RUNBOOK.rehearsal, ENDED],
    description:
      'watch the failed member (ARM, Running, probes from every application region) until it is back, and the ' +
      'survivors’ memory for the unlink trigger',
  },
  {
    name: 'approval-unlink',
    phase: 'awaiting-approval',
    kind: 'approval',
    calls: [],
    gate: 'approval-unlink',
    intervention: false,
    destructive: false,
    mutatesTrafficManager: false,
    runbooks: FAILOVER,
    skippedWhen: [
      NOT_IN_RUNBOOK.rejoin,
      'the region recovers before the unlink trigger fires, or every unlink gate was rejected or timed out',
      NOT_DESTRUCTIVE_REHEARSAL,
      ENDED,
    ],
    description: 'only if the unlink trigger fires: approvals to force-unlink the failed member',
  },
  {
    name: 'force-unlink',
    phase: 'unlinking',
    kind: 'activities',
    calls: ['forceUnlink', 'describeMember'],
    gate: 'approval-unlink',
    intervention: true,
    destructive: true,
    mutatesTrafficManager: false,
    runbooks: FAILOVER,
    skippedWhen: [
      NOT_IN_RUNBOOK.rejoin,
      'the region recovers first (before the trigger, or after the approval but before the unlink)',
      NOT_DESTRUCTIVE_REHEARSAL,
      ENDED,
      INTERVENTION_SKIP,
    ],
    description: 'force-unlink the failed member, called on one survivor; then no survivor may list it',
  },
  {
    name: 'hold',
    phase: 'holding',
    kind: 'watch',
    calls: [],
    gate: 'none',
    intervention: false,
    destructive: false,
    mutatesTrafficManager: false,
    runbooks: REHEARSAL,
    skippedWhen: [NOT_IN_RUNBOOK.failover, NOT_IN_RUNBOOK.rejoin, ENDED],
    description:
      'a rehearsal: traffic stays drained from the region for the hold, or until a commander’s signed endRehearsal',
  },
  {
    name: 'approval-rejoin',
    phase: 'awaiting-approval',
    kind: 'approval',
    calls: [],
    gate: 'approval-rejoin',
    intervention: false,
    destructive: false,
    mutatesTrafficManager: false,
    runbooks: BOTH,
    skippedWhen: ['the failed member was not unlinked: the group resynchronises by itself', ENDED],
    description: 'only if the failed member was unlinked: approvals to rejoin it, discarding its data',
  },
  {
    name: 'rejoin',
    phase: 'rejoining',
    kind: 'activities',
    calls: ['rejoinMember', 'describeMember'],
    gate: 'approval-rejoin',
    intervention: true,
    destructive: true,
    mutatesTrafficManager: false,
    runbooks: BOTH,
    skippedWhen: [ENDED, INTERVENTION_SKIP],
    description:
      'if unlinked: rejoin the member (its data is discarded), else wait for the group to resynchronise; ' +
      'then every member must list every other as Linked',
  },
  {
    name: 'traffic-failback',
    phase: 'failing-back',
    kind: 'activities',
    calls: ['probeEndpoints', 'setEndpointStatus', 'readProfile'],
    gate: 'none',
    intervention: true,
    destructive: false,
    mutatesTrafficManager: true,
    runbooks: BOTH,
    skippedWhen: [ENDED, INTERVENTION_SKIP],
    description: 'probe the recovered member from every application region, re-enable its endpoint, wait for Online',
  },
  {
    name: 'replication-check',
    phase: 'failing-back',
    kind: 'activities',
    calls: ['canaryWrite', 'canaryRead'],
    gate: 'none',
    intervention: true,
    destructive: false,
    mutatesTrafficManager: false,
    runbooks: REHEARSAL,
    skippedWhen: [NOT_IN_RUNBOOK.failover, NOT_IN_RUNBOOK.rejoin, ENDED, INTERVENTION_SKIP],
    description:
      'a rehearsal: a canary written in one member is read in every other, through every application region’s ' +
      'probe worker, within a bound: replication runs again',
  },
  {
    name: 'complete',
    phase: 'completed',
    kind: 'record',
    // the run-ended notification
    calls: ['notify'],
    gate: 'none',
    intervention: false,
    destructive: false,
    mutatesTrafficManager: false,
    runbooks: BOTH,
    skippedWhen: ['the runbook was aborted, stopped or refused (the reason is its summary)'],
    description: 'record the outcome and the measured RTO',
  },
] as const satisfies readonly StepSpec[];

export type StepName = (typeof RUNBOOK_STEPS)[number]['name'];

type NamesOf<T extends readonly { name: string }[]> = { readonly [K in keyof T]: T[K]['name'] };

/** The step names in order, as a tuple type (zod enums and JSON schemas take it as is). */
export const STEP_NAMES = RUNBOOK_STEPS.map((s) => s.name) as unknown as NamesOf<typeof RUNBOOK_STEPS>;

const BY_NAME = new Map<string, StepSpec>(RUNBOOK_STEPS.map((s) => [s.name, s]));

export function isStepName(value: unknown): value is StepName {
  return typeof value === 'string' && BY_NAME.has(value);
}

/** A step's entry in the table. */
export function stepSpec(step: StepName): StepSpec {
  return BY_NAME.get(step) as StepSpec;
}

/** The steps a runbook does not run, in order (rejoinRunbook records them as skipped). */
export function stepsNotIn(runbook: RunbookKind): StepName[] {
  return RUNBOOK_STEPS.filter((s) => !(s.runbooks as readonly RunbookKind[]).includes(runbook)).map((s) => s.name);
}

/**
 * Activities a step may call besides its own, while it holds a gate: the notification that the gate opened or
 * escalated (notify), and the escalation webhook (notifyEscalation).
 */
export const GATE_CALLS = ['notify', 'notifyEscalation'] as const satisfies readonly ActivityName[];

/** Whether the step can hold a gate: it is an approval gate, or its failure opens an intervention gate. */
export function holdsGate(step: StepName): boolean {
  const spec = stepSpec(step);
  return spec.kind === 'approval' || spec.intervention;
}

/** Whether the table lets `step` schedule `activity`: one of its calls, or a gate's escalation. */
export function stepMayCall(step: StepName, activity: string): boolean {
  const spec = stepSpec(step);
  return (
    (spec.calls as readonly string[]).includes(activity) ||
    (holdsGate(step) && (GATE_CALLS as readonly string[]).includes(activity))
  );
}

/**
 * The step an activity was scheduled for, from its ActivityTaskScheduled event's `userMetadata.summary` (the
 * workflow sets it to the step name); undefined when the summary is not a step name.
 */
export function stepOfSummary(summary: unknown): StepName | undefined {
  return isStepName(summary) ? summary : undefined;
}
