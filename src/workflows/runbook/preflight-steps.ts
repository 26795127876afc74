// The checks before anything changes: validate-input, membership, and memory ∥ firewall.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import type { MemoryReading } from '../../contract/activities';
import { sameLinkedId } from '../../azure/resource-ids';
import { MAX_START_VALIDITY_MS, type PolicyLookup, type Proof, type RunbookPolicy } from '../../contract/policy';
import type { RunbookMode, RunbookTuning } from '../../contract/runbook';
import type { MemberSnapshot } from '../../contract/types';
import { isStandingOrder, verifyStandingOrder } from '../../policy/standing-order';
import { verifySigned } from '../../policy/verify';
import { formatMs } from './durations';
import { describeFailure } from './intervention';
import { inputProblems, modeIdProblems, policyProblems } from './validate-input';
import { linkProblems, memberStateProblems, settingsProblems } from './group-checks';
import { probeFrom, requireProbesPassed } from './probes';
import { RunbookStop, type Runbook } from './runbook';
import { gradePressure, worstGrade } from '../../contract/pressure';

/** Set by Temporal on a run its scheduler started: the schedule's id. */
const SCHEDULED_BY_ID = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

/** validate-input refuses the run at once (nothing read in Azure, nothing changed). */
export function refuseInput(rb: Runbook, problem: string): never {
  rb.steps.fail('validate-input', `refused: ${problem}`, { problems: [problem] });
  throw new RunbookStop('refused', `the input was refused, nothing was changed: ${problem}`);
}

/**
 * validate-input: the input's shape, then the worker's policy (loadPolicy: the only source of the group, its
 * people and roles), then the signed start: a commander of the group signed a start of this workflow naming the
 * region's database. Refuses (nothing read in Azure, nothing changed) on any problem.
 */
export async function validateInputStep(rb: Runbook, kind: 'failover' | 'rejoin', input: unknown): Promise<void> {
  rb.setPhase('validating');
  rb.steps.start('validate-input', "checking the input, the worker's policy and the signed request");
  const refuse = (problems: string[], evidence: Record<string, unknown> = {}): never => {
    rb.steps.fail('validate-input', `refused: ${problems.join('; ')}`, { ...evidence, problems });
    throw new RunbookStop('refused', `the input was refused, nothing was changed: ${problems.join('; ')}`);
  };
  const shapeProblems = inputProblems(kind, input);
  if (shapeProblems.length > 0) refuse(shapeProblems);
  const { group, request, tuning, mode } = input as {
    group: string;
    request: Proof;
    tuning?: RunbookTuning;
    mode?: RunbookMode;
  };
  rb.tuning = tuning ?? {};
  rb.state.mode = mode ?? 'incident';
  const idProblems = modeIdProblems(rb.state.mode, group, rb.state.context.workflowId);
  if (idProblems.length > 0) refuse(idProblems);
  let lookup: PolicyLookup;
  try {
    lookup = await rb.actsFor('validate-input').loadPolicy({ group });
  } catch (err) {
    if (isCancellation(err)) throw err;
    return refuse([`the worker's policy could not be read: ${describeFailure(err).message}`]);
  }
  if (!lookup.found) return refuse([lookup.reason]);
  const { policy } = lookup;
  rb.state.setPolicy(policy);
  const policyEvidence = {
    digest: policy.digest,
    commanders: policy.group.commanders,
    approvers: policy.group.approvers,
    quorum: policy.group.quorum,
  };
  const databaseId = policy.group.members[rb.region];
  if (!databaseId) return refuse(regionProblems(policy, rb.region), { policy: policyEvidence });
  // A scheduled rehearsal carries a commander's standing order instead of a start (src/policy/standing-order.ts).
  const standing = isStandingOrder(request);
  const start = standing
    ? verifyStandingOrder(request, policy, {
        workflowId: rb.state.context.workflowId,
        group,
        region: rb.region,
        mode: (input as { mode?: unknown }).mode,
        hold: { value: (input as { hold?: unknown }).hold },
        targets: [databaseId],
        nowMs: rb.startedAtMs,
        scheduledById: workflowInfo().typedSearchAttributes.get(SCHEDULED_BY_ID) ?? null,
      })
    : verifySigned(request, policy, {
        actions: ['start'],
        workflowId: rb.state.context.workflowId,
        targets: [databaseId],
        role: 'commander',
        nowMs: rb.startedAtMs,
      });
  if (!start.ok) return refuse([`the signed request is refused: ${start.reason}`], { policy: policyEvidence });
  const signed = start.statement;
  const bindingProblems: string[] = [];
  // A start names no run (none exists when it is signed), so anyone who reads a history could start another run
  // with it until it expires: a start is only good for a short while.
  const lifetimeMs = Date.parse(signed.expiresAt) - Date.parse(signed.issuedAt);
  if (!standing && lifetimeMs > MAX_START_VALIDITY_MS) {
    bindingProblems.push(
      `the signed request is valid for ${formatMs(lifetimeMs)}; a start may be valid for at most ${formatMs(MAX_START_VALIDITY_MS)}`,
    );
  }
  if (signed.runId !== null && signed.runId !== rb.state.context.runId) {
    bindingProblems.push(`the signed request names run ${signed.runId}, not this run`);
  }
  if (signed.detail?.region !== undefined && signed.detail.region !== rb.region) {
    bindingProblems.push(`the signed request is for region ${signed.detail.region}, not ${rb.region}`);
  }
  if (signed.detail?.policyDigest !== undefined && signed.detail.policyDigest !== policy.digest) {
    bindingProblems.push(
      `the request was signed against policy ${signed.detail.policyDigest}, but the worker's is ${policy.digest}: ` +
        "the configuration the commander used differs from the worker's",
    );
  }
  if (bindingProblems.length > 0) refuse(bindingProblems, { policy: policyEvidence });
  rb.state.setRequest(start, request);
  const problems = policyProblems(policy, rb.region, start.signer);
  if (problems.length > 0) refuse(problems, { policy: policyEvidence });
  if (standing) {
    // A schedule started this rehearsal: nobody ran a command, so the people who answer its gates hear of it now.
    rb.notices.rehearsalStarted({
      scheduleId: signed.detail?.scheduleId ?? '',
      orderedBy: start.signer,
      orderExpiresAt: signed.expiresAt,
    });
  }
  rb.steps.succeed(
    'validate-input',
    `${rb.state.mode === 'rehearsal' ? 'rehearsal: ' : ''}group ${policy.group.name}, region ${rb.region}, requested by ${start.signer} (signature verified, ` +
      `key ${start.fingerprint}); policy ${policy.digest.slice(0, 19)}…`,
    {
      policy: policyEvidence,
      request: { signer: start.signer, fingerprint: start.fingerprint, verified: true, statement: request.statement },
    },
    start.signer,
  );
}

function regionProblems(policy: RunbookPolicy, region: string): string[] {
  const members = Object.keys(policy.group.members);
  return [`region ${region} is not a member of group ${policy.group.name} (members: ${members.join(', ')})`];
}

/** Patch id: failover's membership step no longer waits for the failed region's member read (short budget). */
export const FAILED_MEMBER_READ_OFF_RTO_PATH = 'failed-member-read-off-rto-path';

// Whether a member's linkedDatabases lists an id: Azure's comparison, case-sensitive (see sameLinkedId).
const sameId = sameLinkedId;

function refuse(rb: Runbook, problems: string[], evidence: Record<string, unknown>): never {
  rb.steps.fail('membership', `refused: ${problems.join('; ')}`, { ...evidence, problems });
  throw new RunbookStop('refused', `membership check refused the run, nothing was changed: ${problems.join('; ')}`);
}

/**
 * membership: a before-snapshot of every member, read in parallel. Failover refuses when no survivor
 * answers, when no survivor lists the failed member (it is not in the group), or when survivors' settings
 * differ (unless accepted). Rejoin refuses when the region does not answer yet or no other member answers.
 */
export async function membershipStep(
  rb: Runbook,
  mode: 'failover' | 'rejoin' | 'rehearsal',
  acceptSettingsMismatch = false,
): Promise<void> {
  rb.checkAbort();
  rb.steps.start('membership', `reading ${Object.keys(rb.group.members).length} members`);
  if (mode === 'rehearsal') return rehearsalMembership(rb, acceptSettingsMismatch);
  // Runs started before this change waited for the failed member's read with the survivors' budget.
  const before =
    mode === 'failover' && patched(FAILED_MEMBER_READ_OFF_RTO_PATH)
      ? await rb.describeMembersFailedOffPath(rb.allMembers, rb.region)
      : await rb.describeMembers('membership', rb.allMembers);
  const others = before.filter((m) => m.region !== rb.region);
  const reachable = others.filter((m) => m.reachable);
  const self = before.find((m) => m.region === rb.region) as MemberSnapshot;
  const evidence: Record<string, unknown> = { before };
  if (reachable.length === 0) {
    refuse(rb, [`no surviving member answers: ${others.flatMap(memberStateProblems).join('; ')}`], evidence);
  }
  const listing = reachable.filter((m) => m.linkedDatabases?.some((l) => sameId(l.id, self.databaseId)));
  rb.survivors = reachable.map((m) => ({ region: m.region, databaseId: m.databaseId }));
  rb.groupNickname = reachable.find((m) => m.groupNickname)?.groupNickname;
  rb.state.unlinked = mode === 'rejoin' && listing.length === 0;
  if (mode === 'failover') {
    if (listing.length === 0) {
      refuse(
        rb,
        [
          `${rb.region} is not a member of the replication group: no surviving member lists ${self.databaseId} ` +
            '(if it was unlinked earlier, rejoin it with rejoinRunbook)',
        ],
        evidence,
      );
    }
    const differences = settingsProblems(reachable);
    if (differences.length > 0) {
      evidence.settingsDifferences = differences;
      if (!acceptSettingsMismatch) refuse(rb, [`survivors' settings differ: ${differences.join('; ')}`], evidence);
      evidence.acceptedSettingsMismatch = true;
    }
  } else if (!self.reachable) {
    refuse(
      rb,
      [`${rb.region} does not answer yet (${memberStateProblems(self).join('; ')}); rejoin once it is back`],
      evidence,
    );
  }
  const unreachable = others.filter((m) => !m.reachable).map((m) => m.region);
  const summary =
    `${reachable.length} reachable survivor(s): ${rb.survivors.map((m) => m.region).join(', ')}` +
    (unreachable.length ? `; unreachable: ${unreachable.join(', ')}` : '') +
    `; ${rb.region} ${self.reachable ? 'answers' : 'does not answer'}` +
    (mode === 'rejoin' ? (rb.state.unlinked ? ', unlinked from the group' : ', still listed by the group') : '') +
    (evidence.acceptedSettingsMismatch ? '; settings differences accepted by the input' : '');
  rb.steps.succeed('membership', summary, evidence);
}

/**
 * membership of a rehearsal: the region is healthy, so every member (the region's too) must answer, be Succeeded and
 * Running, and list every other as Linked; the others' settings must agree (unless accepted). Refuses otherwise.
 */
async function rehearsalMembership(rb: Runbook, acceptSettingsMismatch: boolean): Promise<void> {
  const before = await rb.describeMembers('membership', rb.allMembers);
  const evidence: Record<string, unknown> = { before, rehearsal: true };
  const problems = [...before.flatMap(memberStateProblems), ...linkProblems(before)];
  if (problems.length > 0) {
    refuse(rb, [`a rehearsal needs every member answering and linked: ${problems.join('; ')}`], evidence);
  }
  const others = before.filter((m) => m.region !== rb.region);
  rb.survivors = others.map((m) => ({ region: m.region, databaseId: m.databaseId }));
  rb.groupNickname = before.find((m) => m.groupNickname)?.groupNickname;
  rb.state.unlinked = false;
  const differences = settingsProblems(others);
  if (differences.length > 0) {
    evidence.settingsDifferences = differences;
    if (!acceptSettingsMismatch)
      refuse(rb, [`the other members' settings differ: ${differences.join('; ')}`], evidence);
    evidence.acceptedSettingsMismatch = true;
  }
  rb.steps.succeed(
    'membership',
    `rehearsal: all ${before.length} members answer and list every other as Linked; traffic will drain from ` +
      `${rb.region} to ${rb.survivors.map((m) => m.region).join(', ')}` +
      (evidence.acceptedSettingsMismatch ? '; settings differences accepted by the input' : ''),
    evidence,
  );
}

/** memory: used/max on each survivor, graded by the group's thresholds. */
export async function memoryStep(rb: Runbook): Promise<void> {
  await rb.runStep('memory', 'reading used/max memory on each survivor', async () => {
    const readings = await Promise.all(rb.survivors.map((m) => rb.actsFor('memory').readMemory(m)));
    const graded = readings.map((r: MemoryReading) => ({
      ...r,
      grade: gradePressure(r.percent, rb.group.memoryThresholds),
    }));
    const grade = worstGrade(graded.map((r) => r.grade));
    return {
      summary: `${graded.map((r) => `${r.region} ${r.percent}% (${r.grade})`).join(', ')}; worst: ${grade}`,
      evidence: { readings: graded, grade },
      value: undefined,
    };
  });
}

/**
 * firewall: from each application region but the failed one, on its probe task queue, TCP/TLS/AUTH/PING
 * against every reachable survivor through that region's address. Any failure blocks traffic-reroute.
 */
export async function firewallStep(rb: Runbook): Promise<void> {
  // A rehearsal's region is healthy: its applications keep running and must reach the members that carry traffic.
  const applicationRegions = Object.keys(rb.group.applicationRegions).filter(
    (r) => rb.state.mode === 'rehearsal' || r !== rb.region,
  );
  await rb.runStep(
    'firewall',
    `probing ${rb.survivors.map((m) => m.region).join(', ')} from ${applicationRegions.join(', ')}`,
    async () => {
      const report = await probeFrom(rb, 'firewall', applicationRegions, rb.survivors);
      requireProbesPassed(report, 'traffic stays where it is until every application region reaches every survivor');
      const slowest = Math.max(0, ...report.probes.map((p) => p.latencyMs ?? 0));
      return {
        summary:
          `${applicationRegions.length} application region(s) reach ${rb.survivors.length} survivor(s); ` +
          `${report.probes.length} probes passed, slowest ${slowest} ms`,
        evidence: {
          probes: report.probes,
          notProbedFrom: applicationRegions.includes(rb.region) ? [] : [rb.region],
        },
        value: undefined,
      };
    },
  );
}
