// The runbook's main flow helpers: phases and search attributes, steps with intervention, gates with
// escalation, member reads, and how a run ends. The step functions (preflight, traffic, recovery,
// rejoin) are written against this class.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { MembershipActivities } from '../../contract/activities';
import type { Authorization, Proof } from '../../contract/policy';
import type { GroupMember } from '../../contract/readiness';
import type { RunbookMode, RunbookOutcome, RunbookResult, RunbookTuning } from '../../contract/runbook';
import { SEARCH_ATTRIBUTE_KEYS } from '../../contract/search-attributes';
import type { RunbookPhase, StepName } from '../../contract/names';
import type { RunbookSnapshot, RunbookStage } from '../../contract/snapshot';
import type { MemberSnapshot } from '../../contract/types';
import { runbookActivities, type RunbookActivities } from './activity-proxies';
import { durationMs, formatMs } from './durations';
import { escalationNotice, type ApprovalGate } from './gate';
import { describeFailure, InterventionGate, type StepFailureInfo } from './intervention';
import type { Gate, RunbookState } from './runbook-state';
import { countDestructiveCalls, countIntervention, recordGateWait, recordRto } from './metrics';
import { Notices } from './notify';
import { leftStateWords } from './left-state';
import { resumeProblems } from './validate-input';
import { reportToEvacuation } from '../evacuation/child';

/** Ends the run from anywhere in the main flow: caught by `Runbook.run`, which records the outcome. */
export class RunbookStop extends Error {
  constructor(
    readonly outcome: Exclude<RunbookOutcome, 'completed'>,
    message: string,
  ) {
    super(message);
    this.name = 'RunbookStop';
  }
}

/** What a successful attempt of a step reports. */
export interface StepDone<T> {
  summary: string;
  evidence?: Record<string, unknown>;
  actor?: string;
  value: T;
}

export type StepRun<T> = { skipped: false; value: T } | { skipped: true };

// One gate open at a time: memory and firewall run side by side and may both need people.
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

const safeMs = (value: Parameters<typeof durationMs>[0], fallback: number): number => {
  try {
    return durationMs(value);
  } catch {
    return fallback;
  }
};

/** Past this many events a run continues as new even if Temporal has not suggested it yet (warning at 10,240). */
const MAX_EVENTS_PER_RUN = 8000;
/** await-recovery polls of one run (about 14 events each) before it continues as new. */
export const MAX_POLLS_PER_RUN = 400;

export class Runbook {
  /** when the incident started: this run's start, or the first run's when this one continues it */
  startedAtMs = workflowInfo().startTime.getTime();
  /** the stage running now (a continued run starts at the stage its previous run had not finished) */
  stage: RunbookStage = 'checks';
  /** the incident's first run, and how many runs came before this one */
  firstRunId = workflowInfo().firstExecutionRunId;
  runsBefore = 0;
  /** what must settle before this run hands over (the recovery watch's poll in flight) */
  private readonly beforeContinue = new Set<() => Promise<void>>();
  /** the recovery watch's polls when this run started: a run continues as new after MAX_POLLS_PER_RUN of its own */
  private pollsAtStart = 0;
  /** reachable survivors as membership found them (failover), or every other member (rejoin) */
  survivors: GroupMember[] = [];
  /** the group nickname the survivors report (rejoin by recreate needs it) */
  groupNickname?: string;
  rtoMs?: number;
  /** test and drill tuning, set by validate-input once it is checked */
  tuning: RunbookTuning = {};
  private readonly stepProxies = new Map<StepName, RunbookActivities>();
  private readonly gateLock = new Mutex();
  /** notifications to people (gate opened, escalation, run ended), sent beside the flow */
  readonly notices = new Notices(() => ({
    workflowId: this.state.context.workflowId,
    group: this.group.name,
    region: this.region,
    mode: this.state.mode,
  }));
  private shownPhase?: RunbookPhase;
  /** phase reports sent to the evacuation that started this run (evacuation/child.ts) */
  private evacuationReports = 0;

  constructor(readonly state: RunbookState) {}

  /**
   * A continued run takes the incident over from its previous run's snapshot, before any handler runs. Returns why a
   * snapshot is refused (validate-input then refuses the run); undefined when there is none or it was taken.
   */
  resume(input: unknown): string | undefined {
    const continued = (input as { continued?: unknown } | null)?.continued;
    if (continued === undefined) return undefined;
    const info = workflowInfo();
    const problem = resumeProblems(continued, {
      continuedFromRunId: info.continuedFromExecutionRunId,
      firstRunId: info.firstExecutionRunId,
      cron: info.cronSchedule !== undefined,
    });
    if (problem) return problem;
    const snapshot = continued as RunbookSnapshot;
    this.state.restore(snapshot);
    this.startedAtMs = Date.parse(snapshot.startedAt);
    this.stage = snapshot.stage;
    this.runsBefore = snapshot.runsBefore;
    this.survivors = snapshot.survivors.map((m) => ({ ...m }));
    this.groupNickname = snapshot.groupNickname;
    this.rtoMs = snapshot.rtoMs;
    this.pollsAtStart = this.state.recovery.polls;
    this.tuning = ((input as { tuning?: RunbookTuning }).tuning ?? {}) as RunbookTuning;
    this.state.mode = (input as { mode?: RunbookMode }).mode ?? 'incident';
    return undefined;
  }

  /** Whether this run should hand over to a new one at the next quiet point. */
  get continueAsNewDue(): boolean {
    const info = workflowInfo();
    return (
      info.continueAsNewSuggested ||
      info.historyLength >= MAX_EVENTS_PER_RUN ||
      this.state.recovery.polls - this.pollsAtStart >= (this.tuning.pollsPerRun ?? MAX_POLLS_PER_RUN)
    );
  }

  /** Something running beside the main flow that must settle before the run continues as new; returns the undo. */
  settleBeforeContinue(settle: () => Promise<void>): () => void {
    this.beforeContinue.add(settle);
    return () => this.beforeContinue.delete(settle);
  }

  /**
   * Continues the incident in a new run (same workflow id) from `stage`, carrying the whole state: called only at a
   * quiet point (no gate open, no activity of the main flow in flight). Message handlers finish first.
   */
  async continueAsNew(input: object, stage: RunbookStage): Promise<never> {
    for (const settle of [...this.beforeContinue]) await settle();
    await this.notices.settle();
    await condition(allHandlersFinished);
    const snapshot = this.state.save({
      stage,
      startedAt: new Date(this.startedAtMs).toISOString(),
      survivors: this.survivors,
      groupNickname: this.groupNickname,
      rtoMs: this.rtoMs,
      firstRunId: this.firstRunId,
      runsBefore: this.runsBefore,
    });
    log.info(`continuing as new at ${stage} (run ${this.runsBefore + 2} of this incident)`, {
      historyLength: workflowInfo().historyLength,
    });
    return continueAsNew({ ...input, continued: snapshot });
  }

  /**
   * Runs the stages of a runbook from the one a continued run resumes at. Between stages, and when a stage asks
   * for it (returns 'continue-as-new' at its own quiet point), the run hands over to a new one.
   */
  async runStages(input: object, stages: readonly (readonly [RunbookStage, () => Promise<unknown>])[]): Promise<void> {
    const from = Math.max(
      0,
      stages.findIndex(([name]) => name === this.stage),
    );
    for (let i = from; i < stages.length; i++) {
      const [name, run] = stages[i]!;
      this.stage = name;
      if ((await run()) === 'continue-as-new') await this.continueAsNew(input, name);
      const next = stages[i + 1];
      if (next && this.continueAsNewDue && !this.state.ended) {
        this.checkAbort();
        await this.continueAsNew(input, next[0]);
      }
    }
  }

  /**
   * The activities of one step, each call tagged with the step (the audit reads it from history), proxied with
   * the tuning validate-input accepted and the policy's probe timeout once the step first calls one.
   */
  actsFor(step: StepName): RunbookActivities {
    let acts = this.stepProxies.get(step);
    if (!acts) {
      acts = countDestructiveCalls(runbookActivities(step, this.tuning, this.probeTimeoutMs), () => this.group.name);
      this.stepProxies.set(step, acts);
    }
    return acts;
  }
  get pollMs(): number {
    return safeMs(this.group.durations?.recoveryPollInterval, 60_000);
  }
  get resyncMs(): number {
    return safeMs(this.group.durations?.resyncTimeout, 30 * 60_000);
  }
  get probeTimeoutMs(): number {
    return safeMs(this.group.durations?.probeTimeout, 5000);
  }

  /** What a destructive activity needs to verify the call itself: the signed start, and a gate's approvals. */
  authorization(gate?: ApprovalGate): Authorization {
    const request = this.state.startProof as Proof;
    return gate ? { request, approvals: gate.approvalProofs } : { request };
  }

  get steps(): RunbookState['steps'] {
    return this.state.steps;
  }
  get group(): RunbookState['group'] {
    return this.state.group;
  }
  get region(): string {
    return this.state.context.region;
  }
  get member(): GroupMember {
    return { region: this.region, databaseId: this.group.members[this.region] ?? '' };
  }
  get allMembers(): GroupMember[] {
    return Object.entries(this.group.members).map(([region, databaseId]) => ({ region, databaseId }));
  }
  get elapsedMs(): number {
    return Date.now() - this.startedAtMs;
  }

  /**
   * Runs a flow to its end and records how it ended. The flow returns the summary of a completed run or
   * throws RunbookStop; anything else is a bug and fails the workflow task (Temporal retries it).
   */
  async run(flow: () => Promise<string>): Promise<RunbookResult> {
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTE_KEYS.group, value: this.group.name || '(none)' },
      { key: SEARCH_ATTRIBUTE_KEYS.failedRegion, value: this.region || '(none)' },
    ]);
    this.syncPhase();
    try {
      return await this.notices.ended(this.finish('completed', await flow()));
    } catch (err) {
      if (err instanceof RunbookStop) return await this.notices.ended(this.finish(err.outcome, err.message));
      throw err;
    }
  }

  /** The main flow's phase; the search attribute follows what `status` shows. */
  setPhase(phase: RunbookPhase): void {
    this.state.basePhase = phase;
    this.syncPhase();
  }

  private syncPhase(): void {
    const phase = this.state.phase;
    if (phase === this.shownPhase) return;
    this.shownPhase = phase;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTE_KEYS.phase, value: phase }]);
    this.evacuationReports += 1;
    reportToEvacuation(
      phase,
      this.rtoMs,
      this.state.gate?.openGate(this.state.context.workflowId),
      this.evacuationReports,
    );
  }

  /** Stops here when someone sent `abort`. */
  checkAbort(): void {
    const abort = this.state.abortRequest;
    if (abort) throw new RunbookStop('aborted', `aborted by ${abort.by} (${abort.reason})`);
  }

  /**
   * Runs one step: its attempt, and when that still fails after the activities' own retries, an
   * intervention gate (retry / skip with approval / abort) instead of failing the workflow.
   */
  async runStep<T>(step: StepName, summary: string, attempt: () => Promise<StepDone<T>>): Promise<StepRun<T>> {
    for (;;) {
      this.checkAbort();
      this.steps.start(step, summary);
      let failure: StepFailureInfo;
      try {
        const done = await attempt();
        this.steps.succeed(step, done.summary, done.evidence, done.actor);
        return { skipped: false, value: done.value };
      } catch (err) {
        if (err instanceof RunbookStop || isCancellation(err)) throw err;
        failure = describeFailure(err);
      }
      this.steps.fail(step, `${failure.type}: ${failure.message}`, { failure });
      const gate = new InterventionGate(
        step,
        failure,
        this.state.rules(this.group.quorum.intervention),
        now(),
        this.state.nextGateInstance(),
        this.state.answerers,
      );
      await this.holdGate(gate);
      switch (gate.outcome) {
        case 'retry':
          continue;
        case 'skipped': {
          const approvers = gate.skipApprovers.join(', ');
          this.steps.skip(
            step,
            `skipped after it failed (${failure.type}: ${failure.message}); approved by ${approvers}`,
            approvers,
          );
          return { skipped: true };
        }
        case 'timed-out':
          throw new RunbookStop(
            'stopped',
            `nobody answered the intervention gate of ${step} after escalating; stopped safely`,
          );
        default: {
          this.checkAbort();
          const by = gate.interventions[gate.interventions.length - 1]?.by ?? 'an intervention';
          throw new RunbookStop('aborted', `aborted by ${by} at the intervention gate of ${step}`);
        }
      }
    }
  }

  /**
   * Opens a gate and waits until it is decided, aborted, or `interrupted()` says it no longer matters.
   * After `approvalTimeout` it escalates once (log + notifyEscalation); after `escalationTimeout` more it
   * closes as timed-out, and the caller stops safely. Gates open one at a time.
   */
  async holdGate(gate: Gate, waiting?: string, interrupted: () => boolean = () => false): Promise<void> {
    await this.gateLock.run(async () => {
      if (this.state.ended) return closeGate(gate, 'aborted');
      const durations = this.group.durations;
      this.state.gate = gate;
      this.steps.addGate(gate.step, gate);
      if (waiting) this.steps.wait(gate.step, waiting);
      this.syncPhase();
      const approvalMs = safeMs(durations.approvalTimeout, 30 * 60_000);
      gate.escalatesAt = new Date(Date.now() + approvalMs).toISOString();
      gate.expiresAt = new Date(
        Date.now() + approvalMs + safeMs(durations.escalationTimeout, 15 * 60_000),
      ).toISOString();
      this.notices.gateOpened(gate);
      countIntervention(this.group.name, gate);
      const settled = (): boolean => gate.decided || !!this.state.abortRequest || interrupted();
      if (!(await condition(settled, approvalMs))) {
        await this.escalate(gate);
        if (!(await condition(settled, durations.escalationTimeout))) closeGate(gate, 'timed-out');
      }
      if (!gate.decided) closeGate(gate, this.state.abortRequest ? 'aborted' : 'withdrawn');
      this.state.gate = undefined;
      this.state.closedGates.push(gate);
      recordGateWait(this.group.name, gate);
      this.syncPhase();
    });
  }

  private async escalate(gate: Gate): Promise<void> {
    gate.escalatedAt = now();
    this.notices.escalated(gate);
    const notice = escalationNotice(gate, {
      workflowId: this.state.context.workflowId,
      group: this.group.name,
      region: this.region,
    });
    log.warn(notice.message, { gate: gate.name });
    // Recorded on the gate either way: the evidence says whether people were actually told.
    try {
      const sent = await this.actsFor(gate.step).notifyEscalation({ group: this.group.name, body: notice.body });
      gate.escalation = {
        delivered: sent.delivered,
        attempts: sent.attempts,
        ...(sent.target !== undefined ? { target: sent.target } : {}),
        ...(sent.error !== undefined ? { error: sent.error } : {}),
      };
      if (!sent.delivered) log.error(`escalation of ${gate.name} was not delivered: ${sent.error ?? 'no reason'}`);
    } catch (err) {
      if (isCancellation(err)) throw err;
      const error = describeFailure(err).message;
      gate.escalation = { delivered: false, error };
      log.error(`escalation of ${gate.name} could not be delivered: ${error}`);
    }
  }

  /** Reads members in parallel; a member whose read still fails after retries counts as unreachable. */
  async describeMembers(step: StepName, members: readonly GroupMember[]): Promise<MemberSnapshot[]> {
    const { describeMember } = this.actsFor(step);
    return Promise.all(members.map((member) => this.describeOne(member, describeMember)));
  }

  /**
   * failover's membership read: every member in parallel (scheduled in the members' order, as
   * {@link describeMembers} does), the failed region's with its own short budget (`tuning.failedMemberRead`). It
   * returns as soon as the survivors are read: a failed member that has not answered by then is recorded as not
   * answering — a finding, never a wait on the RTO path — while its read runs out its budget on its own.
   */
  async describeMembersFailedOffPath(members: readonly GroupMember[], failedRegion: string): Promise<MemberSnapshot[]> {
    const { describeMember, describeFailedMember } = this.actsFor('membership');
    let failed: MemberSnapshot | undefined;
    const reads = members.map((member) => {
      if (member.region !== failedRegion) return this.describeOne(member, describeMember);
      const read = this.describeOne(member, describeFailedMember).then((s) => (failed = s));
      // Nobody awaits it: a cancellation of the run must not surface as an unhandled rejection.
      read.catch(() => undefined);
      return undefined;
    });
    const survivors = await Promise.all(reads);
    return members.map(
      (member, i): MemberSnapshot =>
        survivors[i] ??
        failed ?? {
          ...member,
          reachable: false,
          error: {
            code: 'NoAnswer',
            message:
              `${member.region} had not answered when the survivors had; its read goes on for at most ` +
              `${formatMs(safeMs(this.tuning.failedMemberRead, 5000))}, off the RTO path`,
          },
        },
    );
  }

  private async describeOne(
    member: GroupMember,
    describe: MembershipActivities['describeMember'],
  ): Promise<MemberSnapshot> {
    try {
      return await describe(member);
    } catch (err) {
      if (isCancellation(err)) throw err;
      const failure = describeFailure(err);
      return { ...member, reachable: false, error: { code: failure.type, message: failure.message } };
    }
  }

  /** Records the end: every unfinished step skipped with the reason, `complete`, phase, result. */
  private finish(outcome: RunbookOutcome, reason: string): RunbookResult {
    const summary =
      outcome === 'aborted' || outcome === 'stopped' ? `${reason}. Left as is: ${this.leftState()}` : reason;
    if (outcome === 'completed') this.steps.succeed('complete', summary);
    else this.steps.skip('complete', `${outcome}: ${summary}`);
    this.steps.finishRemaining(`${outcome}: ${summary}`);
    this.state.ended = outcome;
    // A side-by-side branch (memory ∥ firewall) may still settle after the end; the log stays as recorded.
    this.steps.freeze();
    this.syncPhase();
    const result: RunbookResult = { outcome, summary, status: this.state.status() };
    if (this.state.mode !== 'incident') result.mode = this.state.mode;
    if (this.rtoMs !== undefined) result.rtoMs = this.rtoMs;
    if (this.rtoMs !== undefined) recordRto(this.group.name, this.rtoMs);
    if (outcome !== 'completed') log.warn(`runbook ${outcome}: ${summary}`);
    return result;
  }

  /** The state a stopped run leaves behind, in words: traffic and membership. */
  private leftState(): string {
    return leftStateWords(this);
  }

  formatElapsed(): string {
    return formatMs(this.elapsedMs);
  }
}

function closeGate(gate: Gate, outcome: 'timed-out' | 'aborted' | 'withdrawn'): void {
  if (gate instanceof InterventionGate) gate.close(outcome === 'withdrawn' ? 'aborted' : outcome, now());
  else (gate as ApprovalGate).close(outcome, now());
}

export function now(): string {
  return new Date().toISOString();
}
