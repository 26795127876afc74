// The checks before anything changes: validate-input, membership, and memory ∥ firewall.
import type { MemoryReading } from '../../activities/types';
import type { MemberSnapshot } from '../../contract/types';
import { memberStateProblems, settingsProblems } from './group-checks';
import { probeFrom, requireProbesPassed } from './probes';
import { RunbookStop, type Runbook } from './runbook';
import { gradePressure, worstGrade } from './unlink-trigger';

/** validate-input: refuses (nothing read, nothing changed) when the input has problems. */
export function validateInputStep(rb: Runbook, problems: string[]): void {
  rb.setPhase('validating');
  rb.steps.start('validate-input', 'checking the input');
  if (problems.length > 0) {
    rb.steps.fail('validate-input', `refused: ${problems.join('; ')}`, { problems });
    throw new RunbookStop('refused', `the input was refused, nothing was changed: ${problems.join('; ')}`);
  }
  rb.steps.succeed(
    'validate-input',
    `group ${rb.group.name}, region ${rb.region}, requested by ${rb.state.context.requestedBy}`,
  );
}

const sameId = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

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
  mode: 'failover' | 'rejoin',
  acceptSettingsMismatch = false,
): Promise<void> {
  rb.checkAbort();
  rb.steps.start('membership', `reading ${Object.keys(rb.group.members).length} members`);
  const before = await rb.describeMembers(rb.allMembers);
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

/** memory: used/max on each survivor, graded by the group's thresholds. */
export async function memoryStep(rb: Runbook): Promise<void> {
  await rb.runStep('memory', 'reading used/max memory on each survivor', async () => {
    const readings = await Promise.all(rb.survivors.map((m) => rb.acts.readMemory(m)));
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
  const applicationRegions = Object.keys(rb.group.applicationRegions).filter((r) => r !== rb.region);
  await rb.runStep(
    'firewall',
    `probing ${rb.survivors.map((m) => m.region).join(', ')} from ${applicationRegions.join(', ')}`,
    async () => {
      const report = await probeFrom(rb, applicationRegions, rb.survivors);
      requireProbesPassed(report, 'traffic stays where it is until every application region reaches every survivor');
      const slowest = Math.max(0, ...report.probes.map((p) => p.latencyMs ?? 0));
      return {
        summary:
          `${applicationRegions.length} application region(s) reach ${rb.survivors.length} survivor(s); ` +
          `${report.probes.length} probes passed, slowest ${slowest} ms`,
        evidence: { probes: report.probes, notProbedFrom: [rb.region] },
        value: undefined,
      };
    },
  );
}
