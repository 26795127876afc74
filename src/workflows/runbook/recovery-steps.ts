// await-recovery: a durable watch over the survivors' memory and the failed region, with the unlink
// trigger, approval-unlink and force-unlink. The region counts as recovered only after K consecutive checks
// passed (ARM answers, its database is Running, the probes from every application region pass); the watch of
// the survivors' memory and the unlink trigger go on until rejoin has completed.
import { condition, isCancellation, log } from '@temporalio/workflow';
import { sameLinkedId } from '../../azure/resource-ids';
import { FAILURE_TYPES } from '../../contract/failures';
import { alreadyDone } from './attempts';
import { formatMs } from './durations';
import { ApprovalGate } from './gate';
import { describeFailure, StepFailure } from './intervention';
import { probeFrom } from './probes';
import {
  armFailures,
  describeProgress,
  KEPT_SAMPLES,
  recordCheck,
  requiredConfirmations,
  takeRequests,
  verificationPending,
  type RecoveryCheck,
} from './recovery-progress';
import { now, type Runbook } from './runbook';
import { gradePressure, worstGrade } from '../../contract/pressure';
import { memoryTrend, type MemorySample, type TriggerFiring } from './unlink-trigger';

export {
  newRecoveryProgress,
  restoredProgress,
  type RecoveryCheck,
  type RecoveryProgress,
  type VerificationRequest,
} from './recovery-progress';

// Whether a member's linkedDatabases lists an id: Azure's comparison, case-sensitive (see sameLinkedId).
const sameId = sameLinkedId;

/** The running recovery watch: stop it once rejoin has completed. */
export interface RecoveryWatchHandle {
  /** Stops polling and waits for the poll in flight; never throws. */
  stop(): Promise<void>;
}

/**
 * The polling half of await-recovery; runs beside the main flow so it goes on while a gate is open, and after the
 * region is confirmed, through approval-rejoin and rejoin (memory samples and the unlink trigger), until stopped.
 * Everything it remembers is `rb.state.recovery` (RecoveryProgress).
 */
class RecoveryWatch implements RecoveryWatchHandle {
  private stopped = false;
  private readonly running: Promise<void>;

  private readonly unregister: () => void;

  constructor(private readonly rb: Runbook) {
    // Before the run continues as new, the poll in flight settles; the next run starts the watch again.
    this.unregister = rb.settleBeforeContinue(() => this.stop());
    this.running = this.run().catch((err: unknown) => {
      // Cancellation ends the run anyway; anything else must not end the incident: the status says the watch stopped.
      if (isCancellation(err)) return;
      const why = describeFailure(err).message;
      log.error(`the recovery watch stopped: ${why}`);
      this.rb.steps.addEvidence('await-recovery', { watchStopped: why });
    });
  }

  private get required(): number {
    return requiredConfirmations(this.rb.group.recoveryConfirmations);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unregister();
    await this.running;
  }

  private async run(): Promise<void> {
    const { state } = this.rb;
    const progress = state.recovery;
    const done = (): boolean => this.stopped || !!state.ended;
    while (!done()) {
      await this.poll();
      // regionRecovered asks for a check now, not at the next interval.
      await condition(() => done() || (!state.recovered && verificationPending(progress)), this.rb.pollMs);
    }
  }

  private async readMemory(): Promise<MemorySample> {
    const { rb } = this;
    const readings = await Promise.all(
      rb.survivors.map(async (m) => {
        try {
          const reading = await rb.actsFor('await-recovery').readMemory(m);
          return {
            region: m.region,
            percent: reading.percent,
            source: reading.source,
            healthy: reading.geoReplicationHealthy,
          };
        } catch (err) {
          if (isCancellation(err)) throw err;
          return { region: m.region, error: describeFailure(err).message };
        }
      }),
    );
    const percents: Record<string, number> = {};
    const errors: Record<string, string> = {};
    const sources: NonNullable<MemorySample['sources']> = {};
    const healthy: Record<string, boolean> = {};
    for (const r of readings) {
      if (r.percent !== undefined) percents[r.region] = r.percent;
      else errors[r.region] = r.error ?? 'unreadable';
      if ('source' in r && r.source !== undefined) sources[r.region] = r.source;
      if ('healthy' in r && r.healthy !== undefined) healthy[r.region] = r.healthy;
    }
    const grade = worstGrade(Object.values(percents).map((p) => gradePressure(p, rb.group.memoryThresholds)));
    return {
      at: now(),
      percents,
      ...(grade ? { grade } : {}),
      ...(Object.keys(errors).length ? { errors } : {}),
      ...(Object.keys(sources).length ? { sources } : {}),
      ...(Object.keys(healthy).length ? { geoReplicationHealthy: healthy } : {}),
    };
  }

  /** One check of the failed region: ARM and its database first; the probes only once those pass. */
  private async checkRegion(): Promise<Omit<RecoveryCheck, 'poll' | 'passed' | 'askedBy'>> {
    const { rb } = this;
    const [member] = await rb.describeMembers('await-recovery', [rb.member]);
    const arm = member?.reachable ? 'answers' : (member?.error?.message ?? 'does not answer');
    const resourceState = member?.reachable ? { resourceState: member.resourceState ?? 'not reported' } : {};
    const failures = armFailures(rb.region, member);
    if (failures.length > 0) return { at: now(), arm, ...resourceState, probes: 'not run', failures };
    const report = await probeFrom(rb, 'await-recovery', Object.keys(rb.group.applicationRegions), [rb.member]);
    return {
      at: now(),
      arm,
      ...resourceState,
      probes: report.failures.length === 0 ? 'passed' : 'failed',
      failures: report.failures.map((f) => `probe: ${f}`),
    };
  }

  private async poll(): Promise<void> {
    const { rb } = this;
    const { state } = rb;
    const progress = state.recovery;
    const checking = !state.recovered;
    const askedBy = checking ? takeRequests(progress) : [];
    const [sample, found] = await Promise.all([this.readMemory(), checking ? this.checkRegion() : undefined]);
    progress.samples.push(sample);
    if (progress.samples.length > KEPT_SAMPLES) progress.samples.splice(0, progress.samples.length - KEPT_SAMPLES);
    progress.polls += 1;
    const required = this.required;
    if (found && !state.recovered) {
      recordCheck(progress, found, askedBy, required);
      const confirmed = progress.confirmed;
      if (confirmed) {
        const asked = confirmed.askedBy ?? [];
        state.recovered = {
          by: asked.length > 0 ? asked.join(', ') : 'recovery-check',
          at: confirmed.at,
          via: asked.length > 0 ? 'signal' : 'poll',
          comment: `${confirmed.checks} consecutive checks passed: ${rb.region} answers ARM, its database is Running, every application region's probe passes`,
        };
      } else if (!state.ended) {
        rb.steps.setSummary(
          'await-recovery',
          `watching ${rb.region}: ${describeProgress(progress, required, rb.region)}`,
        );
      }
    }
    state.trigger.observe({ atMs: Date.now(), outageMs: rb.elapsedMs, grade: sample.grade });
    const firing = state.trigger.firing;
    rb.steps.addEvidence('await-recovery', {
      polls: progress.polls,
      lastPollAt: sample.at,
      ...(checking
        ? {
            failedMember: progress.lastCheck?.arm ?? 'not checked',
            recovery: {
              required,
              consecutivePasses: progress.consecutivePasses,
              lastCheck: progress.lastCheck,
              requests: progress.requests,
              requestsTotal: progress.requestsTotal,
              ...(progress.confirmed ? { confirmed: progress.confirmed } : {}),
            },
          }
        : {}),
      memoryTrend: memoryTrend(progress.samples),
      trigger: { ...state.trigger.describe(), ...(firing && !state.unlinked ? { firing: firing.detail } : {}) },
    });
  }
}

/**
 * Starts (or, in a continued run, resumes from `rb.state.recovery`) the recovery watch. awaitRecovery starts it;
 * a run that continues as new during approval-rejoin or rejoin starts it again and stops it after rejoin.
 */
export function startRecoveryWatch(rb: Runbook): RecoveryWatchHandle {
  return new RecoveryWatch(rb);
}

/**
 * await-recovery: ends when the region passed `recoveryConfirmations` consecutive checks (ARM answers, its database
 * is Running, the probes from every application region pass); `regionRecovered` asks for a check at once. When the
 * unlink trigger fires, approval-unlink opens; approved → force-unlink, then the watch goes on; rejected or timed
 * out → the watch goes on and the trigger re-arms by its own rule. Returns the watch, still running: stop it once
 * rejoin has completed.
 */
export async function awaitRecovery(rb: Runbook): Promise<RecoveryWatchHandle | 'continue-as-new'> {
  const { state, steps } = rb;
  rb.checkAbort();
  rb.setPhase('awaiting-recovery');
  const required = requiredConfirmations(rb.group.recoveryConfirmations);
  const applicationRegions = Object.keys(rb.group.applicationRegions).join(', ');
  // A continued run resumes the step its previous run started.
  if (steps.get('await-recovery').status !== 'running')
    steps.start(
      'await-recovery',
      `watching ${rb.region} and the survivors' memory every ${formatMs(rb.pollMs)}; ${rb.region} counts as recovered ` +
        `after ${required} consecutive checks in which ARM answers, its database is Running and the probes from ` +
        `${applicationRegions} pass (regionRecovered asks for a check now)`,
    );
  const watch = startRecoveryWatch(rb);
  try {
    for (;;) {
      const firing = (): boolean => !state.unlinked && !!state.trigger.firing;
      await condition(() => !!state.recovered || !!state.abortRequest || firing() || rb.continueAsNewDue);
      rb.checkAbort();
      if (state.recovered) break;
      if (firing()) await unlinkGate(rb, state.trigger.firing as TriggerFiring);
      // A quiet point (no gate open): a long outage goes on in a new run, which starts the watch again.
      else if (rb.continueAsNewDue) return 'continue-as-new';
    }
  } catch (err) {
    await watch.stop();
    throw err;
  }
  state.recoveryOpen = false;
  const recovered = state.recovered as NonNullable<typeof state.recovered>;
  const progress = state.recovery;
  const asked = progress.confirmed?.askedBy;
  steps.succeed(
    'await-recovery',
    `${rb.region} recovered after ${rb.formatElapsed()}: ${progress.confirmed?.checks ?? required} consecutive checks ` +
      `passed (ARM answers, its database is Running, the probes from ${applicationRegions} pass)` +
      (asked?.length ? `; verification asked for by ${asked.join(', ')}` : ''),
    { recovered },
    recovered.by,
  );
  if (!state.unlinked) {
    const refused = state.closedGates.filter((g) => g.name === 'approval-unlink');
    const why = refused.length
      ? `not approved (${refused.map((g) => g.outcome).join(', ')}); ${rb.region} recovered without an unlink`
      : `${rb.region} recovered before the unlink trigger fired`;
    if (steps.get('approval-unlink').status !== 'succeeded') steps.skip('approval-unlink', why);
    if (steps.get('force-unlink').status === 'pending')
      steps.skip('force-unlink', `${why}: nothing destructive was needed`);
  }
  return watch;
}

function blastRadius(rb: Runbook): Record<string, unknown> {
  const failedId = rb.member.databaseId;
  return {
    members: [
      { region: rb.region, databaseId: failedId, change: 'leaves the group; must rejoin later, discarding its data' },
      ...rb.survivors.map((m) => ({
        region: m.region,
        databaseId: m.databaseId,
        change: `drops its link to ${rb.region}`,
      })),
    ],
    applicationRegions: Object.keys(rb.group.applicationRegions),
    endpoint: {
      profileId: rb.group.trafficManager.profileId,
      ...rb.group.trafficManager.endpoints[rb.region],
      status: 'Disabled',
    },
  };
}

async function unlinkGate(rb: Runbook, firing: TriggerFiring): Promise<void> {
  const { state, steps } = rb;
  state.trigger.opened();
  const request = {
    trigger: firing,
    memoryTrend: memoryTrend(state.recovery.samples),
    outageMs: rb.elapsedMs,
    blastRadius: blastRadius(rb),
  };
  const gate = new ApprovalGate(
    'approval-unlink',
    'approval-unlink',
    state.rules(rb.group.quorum.unlink),
    now(),
    request,
    state.nextGateInstance(),
    [rb.member.databaseId],
  );
  await rb.holdGate(
    gate,
    `waiting for ${gate.rules.quorum} approval(s) to force-unlink ${rb.region}: ${firing.detail}`,
    () => !!state.recovered,
  );
  rb.checkAbort();
  if (gate.outcome === 'approved') {
    const approvers = gate.approvals.join(', ');
    if (state.recovered) {
      steps.succeed('approval-unlink', `approved by ${approvers}`, undefined, approvers);
      steps.skip('force-unlink', `${rb.region} recovered after the approval, before the unlink: not needed`);
      return;
    }
    steps.succeed('approval-unlink', `approved by ${approvers}: ${firing.detail}`, undefined, approvers);
    await forceUnlinkStep(rb, gate);
    return;
  }
  state.trigger.closed(Date.now());
  const who = gate.votes.find((v) => v.decision === 'reject')?.approver;
  const how =
    gate.outcome === 'rejected'
      ? `rejected by ${who}`
      : gate.outcome === 'timed-out'
        ? 'timed out after escalating'
        : 'withdrawn: the region came back';
  steps.reset('approval-unlink', `${how}; nothing was unlinked; watching goes on and asks again at the next trigger`);
}

/** force-unlink: on one survivor, naming the failed member; then no survivor may list it any more. */
async function forceUnlinkStep(rb: Runbook, approval: ApprovalGate): Promise<void> {
  const { state } = rb;
  const [survivor] = rb.survivors;
  if (!survivor) throw new Error('force-unlink without a survivor');
  rb.setPhase('unlinking');
  const failedId = rb.member.databaseId;
  const run = await rb.runStep(
    'force-unlink',
    `force-unlinking ${rb.region}, called on ${survivor.region}`,
    async () => {
      const result = await rb.actsFor('force-unlink').forceUnlink({
        survivorDatabaseId: survivor.databaseId,
        failedDatabaseId: failedId,
        survivorDatabaseIds: rb.survivors.map((m) => m.databaseId),
        group: rb.group.name,
        authorization: rb.authorization(approval),
        ...(rb.tuning.lroPollIntervalMs !== undefined ? { pollIntervalMs: rb.tuning.lroPollIntervalMs } : {}),
      });
      const after = await rb.describeMembers('force-unlink', rb.survivors);
      const still = after.filter((m) => m.reachable && m.linkedDatabases?.some((l) => sameId(l.id, failedId)));
      if (still.length > 0) {
        throw new StepFailure(
          `after force-unlink, ${still.map((m) => m.region).join(', ')} still list ${rb.region}`,
          FAILURE_TYPES.verificationFailed,
          { result, after },
        );
      }
      return {
        summary: result.skipped
          ? result.foundAtAttempt === undefined
            ? `${rb.region} was already unlinked (no survivor listed it); nothing was called`
            : `${rb.region} ${alreadyDone('unlinked', result.foundAtAttempt)}: no survivor lists it`
          : `${rb.region} force-unlinked (called on ${survivor.region}${result.operationId ? `, operation ${result.operationId}` : ''}); no survivor lists it`,
        evidence: { result, after },
        value: undefined,
      };
    },
  );
  if (run.skipped) state.trigger.closed(Date.now());
  else state.unlinked = true;
  rb.setPhase(state.mode === 'rehearsal' ? 'holding' : 'awaiting-recovery');
}

/** What a rehearsal's force-unlink and rejoin cost, in words: the gate shows it to approvers and the evidence keeps it. */
export function rehearsalDataLoss(rb: Runbook): string {
  return (
    `${rb.region} is healthy and drained, not failed: force-unlink cuts it off the group, so writes made to the ` +
    `survivors from then on never reach it, and any write made directly to ${rb.region}'s database after the ` +
    `unlink (by clients that bypass Traffic Manager) is discarded when it rejoins (${rb.group.rejoinMethod}), ` +
    `which replaces ${rb.region}'s whole dataset with the group's; nothing written to the survivors is lost`
  );
}

/**
 * A rehearsal's destructive exercise (the group's configuration allows it): approval-unlink with the same rules and
 * quorum as an incident, the data loss spelled out in its request, then force-unlink. A rejected or timed-out gate
 * skips the exercise (nothing destructive is called) and the rehearsal goes on; an abort stops it.
 */
export async function rehearseUnlink(rb: Runbook): Promise<void> {
  const { state, steps } = rb;
  rb.checkAbort();
  if (state.unlinked || steps.get('force-unlink').status !== 'pending') return;
  const firing: TriggerFiring = {
    reason: 'rehearsal',
    detail:
      `a rehearsal exercises force-unlink and rejoin of ${rb.region}: group ${rb.group.name}'s configuration ` +
      'allows rehearsing destructive steps (rehearsal.destructive)',
  };
  const dataLoss = rehearsalDataLoss(rb);
  const radius = blastRadius(rb);
  const members = (radius.members as { region: string; change: string }[]).map((m) =>
    m.region === rb.region
      ? { ...m, change: `leaves the group (rehearsal); must rejoin, discarding its data: ${dataLoss}` }
      : m,
  );
  const gate = new ApprovalGate(
    'approval-unlink',
    'approval-unlink',
    state.rules(rb.group.quorum.unlink),
    now(),
    { trigger: firing, rehearsal: true, dataLoss, blastRadius: { ...radius, members } },
    state.nextGateInstance(),
    [rb.member.databaseId],
  );
  await rb.holdGate(gate, `rehearsal: waiting for ${gate.rules.quorum} approval(s) to force-unlink ${rb.region}`);
  rb.checkAbort();
  if (gate.outcome === 'approved') {
    const approvers = gate.approvals.join(', ');
    steps.succeed('approval-unlink', `approved by ${approvers}: ${firing.detail}`, { dataLoss }, approvers);
    await forceUnlinkStep(rb, gate);
    return;
  }
  const who = gate.votes.find((v) => v.decision === 'reject')?.approver;
  const how = gate.outcome === 'rejected' ? `rejected by ${who}` : 'timed out after escalating';
  steps.skip('approval-unlink', `rehearsal: ${how}; the destructive exercise is not done`);
  steps.skip('force-unlink', `rehearsal: approval-unlink ${how}; nothing destructive was called`);
}
