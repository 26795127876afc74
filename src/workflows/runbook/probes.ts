// Probes from application regions (firewall before traffic moves, and the recovered endpoint before
// failback): one probeEndpoints per region on its own probe task queue, in parallel.
import { isCancellation, TimeoutFailure, ActivityFailure } from '@temporalio/workflow';
import type { ProbeOutcomeRecord } from '../../contract/activities';
import { FAILURE_TYPES } from '../../contract/failures';
import { probeTaskQueue } from '../../contract/names';
import type { GroupMember } from '../../contract/readiness';
import type { StepName } from '../../contract/steps';
import { DEFAULT_PROBE_SCHEDULE_TO_START } from './activity-options';
import { durationMs, formatMs } from './durations';
import { describeFailure, StepFailure } from './intervention';
import type { Runbook } from './runbook';

export interface ProbeReport {
  probes: ProbeOutcomeRecord[];
  /** one sentence per failure, naming the application region, the member and the address */
  failures: string[];
}

/** Why an application region's probe could not run at all; names the queue when no probe worker answered. */
function probeRunFailure(rb: Runbook, applicationRegion: string, err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START') {
    const waited = formatMs(durationMs(rb.tuning.probeScheduleToStart ?? DEFAULT_PROBE_SCHEDULE_TO_START));
    return (
      `${applicationRegion}: no probe worker picked up the probe on task queue ${probeTaskQueue(applicationRegion)} ` +
      `within ${waited}; start one there: geofailover worker --probe-region ${applicationRegion}`
    );
  }
  const failure = describeFailure(err);
  return `${applicationRegion}: the probe could not run (${failure.type}: ${failure.message})`;
}

function outcomeFailure(p: ProbeOutcomeRecord): string {
  const stage = p.failedStage ? ` at ${p.failedStage.toUpperCase()}` : '';
  return `${p.applicationRegion} cannot reach ${p.memberRegion} at ${p.address}: ${p.outcome}${stage}${p.error ? ` (${p.error})` : ''}`;
}

/** Probes `targets` from each application region in parallel, for `step`; never throws for a failed probe. */
export async function probeFrom(
  rb: Runbook,
  step: StepName,
  applicationRegions: readonly string[],
  targets: readonly GroupMember[],
): Promise<ProbeReport> {
  const results = await Promise.all(
    applicationRegions.map(async (applicationRegion) => {
      const addresses = rb.group.applicationRegions[applicationRegion] ?? {};
      try {
        const { probeEndpoints } = rb.actsFor(step).probeIn(applicationRegion);
        const probes = await probeEndpoints({
          applicationRegion,
          targets: targets.map((t) => ({
            memberRegion: t.region,
            databaseId: t.databaseId,
            address: addresses[t.region] ?? '',
          })),
          timeoutMs: rb.probeTimeoutMs,
        });
        return { probes, failures: probes.filter((p) => p.outcome !== 'ok').map(outcomeFailure) };
      } catch (err) {
        if (isCancellation(err)) throw err;
        return { probes: [], failures: [probeRunFailure(rb, applicationRegion, err)] };
      }
    }),
  );
  return { probes: results.flatMap((r) => r.probes), failures: results.flatMap((r) => r.failures) };
}

/** Throws a ProbeFailed StepFailure listing every failure (the intervention gate shows it). */
export function requireProbesPassed(report: ProbeReport, what: string): void {
  if (report.failures.length === 0) return;
  throw new StepFailure(`${what}: ${report.failures.join('; ')}`, FAILURE_TYPES.probeFailed, report);
}
