// await-recovery: a durable watch over the survivors' memory and the failed member, with the unlink
// trigger, approval-unlink and force-unlink.
import { condition, isCancellation } from '@temporalio/workflow';
import { sameLinkedId } from '../../azure/resource-ids';
import { FAILURE_TYPES } from '../../contract/failures';
import { formatMs } from './durations';
import { ApprovalGate } from './gate';
import { describeFailure, StepFailure } from './intervention';
import { now, type Runbook } from './runbook';
import { gradePressure, memoryTrend, worstGrade, type MemorySample, type TriggerFiring } from './unlink-trigger';

const KEPT_SAMPLES = 30;
// Whether a member's linkedDatabases lists an id: Azure's comparison, case-sensitive (see sameLinkedId).
const sameId = sameLinkedId;

/** The polling half of await-recovery; runs beside the main flow so it goes on while a gate is open. */
class RecoveryWatch {
  readonly samples: MemorySample[] = [];
  polls = 0;
  private stopped = false;

  constructor(private readonly rb: Runbook) {}

  async run(): Promise<void> {
    const { state } = this.rb;
    while (!this.stopped && !state.recovered) {
      await this.poll();
      await condition(() => this.stopped || !!state.recovered, this.rb.pollMs);
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private async poll(): Promise<void> {
    const { rb } = this;
    const [readings, failed] = await Promise.all([
      Promise.all(
        rb.survivors.map(async (m) => {
          try {
            const reading = await rb.acts.readMemory(m);
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
      ),
      rb.describeMembers([rb.member]),
    ]);
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
    const sample: MemorySample = {
      at: now(),
      percents,
      ...(grade ? { grade } : {}),
      ...(Object.keys(errors).length ? { errors } : {}),
      ...(Object.keys(sources).length ? { sources } : {}),
      ...(Object.keys(healthy).length ? { geoReplicationHealthy: healthy } : {}),
    };
    this.samples.push(sample);
    if (this.samples.length > KEPT_SAMPLES) this.samples.shift();
    this.polls += 1;
    const member = failed[0];
    if (member?.reachable && !rb.state.recovered) {
      rb.state.recovered = {
        by: 'describeMember',
        at: sample.at,
        via: 'poll',
        comment: `${rb.region} answers ARM again`,
      };
    }
    rb.state.trigger.observe({ atMs: Date.now(), outageMs: rb.elapsedMs, grade });
    rb.steps.addEvidence('await-recovery', {
      polls: this.polls,
      lastPollAt: sample.at,
      failedMember: member?.reachable ? 'answers' : (member?.error?.message ?? 'does not answer'),
      memoryTrend: memoryTrend(this.samples),
      trigger: rb.state.trigger.describe(),
    });
  }
}

/**
 * await-recovery: ends when the region is back (`regionRecovered`, or the member answers a poll). When the
 * unlink trigger fires, approval-unlink opens; approved → force-unlink, then the watch goes on; rejected or
 * timed out → the watch goes on and the trigger re-arms by its own rule.
 */
export async function awaitRecovery(rb: Runbook): Promise<void> {
  const { state, steps } = rb;
  rb.checkAbort();
  rb.setPhase('awaiting-recovery');
  steps.start(
    'await-recovery',
    `watching ${rb.region} and the survivors' memory every ${formatMs(rb.pollMs)}; ends on regionRecovered or when ${rb.region} answers`,
  );
  const watch = new RecoveryWatch(rb);
  const watching = watch.run();
  try {
    for (;;) {
      await condition(() => !!state.recovered || !!state.abortRequest || (!state.unlinked && !!state.trigger.firing));
      rb.checkAbort();
      if (state.recovered) break;
      await unlinkGate(rb, watch, state.trigger.firing as TriggerFiring);
    }
  } finally {
    watch.stop();
  }
  await watching;
  state.recoveryOpen = false;
  const recovered = state.recovered as NonNullable<typeof state.recovered>;
  steps.succeed(
    'await-recovery',
    `${rb.region} recovered after ${rb.formatElapsed()} (${recovered.via === 'signal' ? `regionRecovered from ${recovered.by}` : 'the member answers again'})`,
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

async function unlinkGate(rb: Runbook, watch: RecoveryWatch, firing: TriggerFiring): Promise<void> {
  const { state, steps } = rb;
  state.trigger.opened();
  const request = {
    trigger: firing,
    memoryTrend: memoryTrend(watch.samples),
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
      const result = await rb.acts.forceUnlink({
        survivorDatabaseId: survivor.databaseId,
        failedDatabaseId: failedId,
        survivorDatabaseIds: rb.survivors.map((m) => m.databaseId),
        group: rb.group.name,
        authorization: rb.authorization(approval),
        ...(rb.tuning.lroPollIntervalMs !== undefined ? { pollIntervalMs: rb.tuning.lroPollIntervalMs } : {}),
      });
      const after = await rb.describeMembers(rb.survivors);
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
          ? `${rb.region} was already unlinked (no survivor listed it); nothing was called`
          : `${rb.region} force-unlinked (called on ${survivor.region}${result.operationId ? `, operation ${result.operationId}` : ''}); no survivor lists it`,
        evidence: { result, after },
        value: undefined,
      };
    },
  );
  if (run.skipped) state.trigger.closed(Date.now());
  else state.unlinked = true;
  rb.setPhase('awaiting-recovery');
}
