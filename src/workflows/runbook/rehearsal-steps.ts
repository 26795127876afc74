// A rehearsal's own steps: the hold (traffic stays drained until the time is up or a commander's signed
// endRehearsal), the replication check after failback (a canary written in one member is read in every other
// through the application regions' probe workers), and the traffic restore when a rehearsal ends early.
import { condition, sleep } from '@temporalio/workflow';
import type { CanaryReadRecord } from '../../contract/activities';
import { FAILURE_TYPES } from '../../contract/failures';
import type { GroupMember } from '../../contract/readiness';
import type { Duration } from '@temporalio/common';
import { describeFailure, StepFailure } from './intervention';
import { durationMs, formatMs } from './durations';
import { servingEndpoints } from './profile-checks';
import { now, type Runbook } from './runbook';
import { setEndpoint } from './traffic-steps';

/** How long the replication check waits for every read when `tuning.replicationCheckTimeout` is not set. */
export const DEFAULT_REPLICATION_CHECK_TIMEOUT_MS = 60_000;
const FIRST_READ_DELAY_MS = 250;
const MAX_READ_DELAY_MS = 4000;

/**
 * hold: traffic stays drained from the region until `hold` has passed or a commander's signed endRehearsal arrives
 * (whichever comes first; without `hold`, only endRehearsal ends it). An abort ends it too (the caller restores
 * traffic).
 */
export async function holdStep(rb: Runbook, hold: Duration | undefined): Promise<void> {
  const { state, steps } = rb;
  rb.checkAbort();
  rb.setPhase('holding');
  const holdMs = hold === undefined ? undefined : durationMs(hold);
  const until =
    holdMs === undefined
      ? `until a commander ends it (geofailover end-rehearsal ${rb.group.name})`
      : `for ${formatMs(holdMs)}, or until a commander ends it sooner (geofailover end-rehearsal ${rb.group.name})`;
  const startedAt = Date.now();
  if (steps.get('hold').status !== 'running') {
    steps.start('hold', `traffic stays drained from ${rb.region} ${until}`);
  }
  const settled = (): boolean => !!state.rehearsalEnd || !!state.abortRequest;
  if (holdMs === undefined) await condition(settled);
  else await condition(settled, Math.max(1, holdMs - (Date.now() - startedAt)));
  rb.checkAbort();
  const end = state.rehearsalEnd;
  const held = formatMs(Date.now() - startedAt);
  if (end) {
    steps.succeed(
      'hold',
      `ended by ${end.by} after ${held}${end.comment ? `: ${end.comment}` : ''}`,
      { endedBy: { ...end }, heldMs: Date.now() - startedAt, ...(holdMs !== undefined ? { holdMs } : {}) },
      end.by,
    );
  } else {
    steps.succeed('hold', `held for ${held}: the hold is over`, { heldMs: Date.now() - startedAt, holdMs });
  }
}

function replicationTimeoutMs(rb: Runbook): number {
  try {
    const timeout = rb.tuning.replicationCheckTimeout;
    return timeout === undefined ? DEFAULT_REPLICATION_CHECK_TIMEOUT_MS : durationMs(timeout);
  } catch {
    return DEFAULT_REPLICATION_CHECK_TIMEOUT_MS;
  }
}

/** One canary: written in `writer` from `via`, to be read in every other member from every application region. */
interface Canary {
  key: string;
  value: string;
  writer: GroupMember;
  via: string;
}

interface ReadState {
  applicationRegion: string;
  memberRegion: string;
  key: string;
  /** when it was first read with the written value, ms after the write */
  seenAfterMs?: number;
  last?: CanaryReadRecord;
}

/** The application region whose probe worker writes to `member`: the one in the member's region, else the first. */
function writerRegion(rb: Runbook, member: GroupMember): string {
  const apps = Object.keys(rb.group.applicationRegions);
  return apps.includes(member.region) ? member.region : (apps[0] as string);
}

function targetOf(rb: Runbook, applicationRegion: string, member: GroupMember) {
  return {
    memberRegion: member.region,
    databaseId: member.databaseId,
    address: rb.group.applicationRegions[applicationRegion]?.[member.region] ?? '',
  };
}

/**
 * replication-check: after failback, a canary is written in the rehearsed region's member and one in another
 * member; each must be read in every other member, from every application region (their probe workers, their
 * addresses), within `tuning.replicationCheckTimeout` (default 60 s): replication runs again both ways.
 */
export async function replicationCheckStep(rb: Runbook): Promise<void> {
  const timeoutMs = replicationTimeoutMs(rb);
  const applicationRegions = Object.keys(rb.group.applicationRegions);
  await rb.runStep(
    'replication-check',
    `writing canaries in ${rb.region} and ${rb.survivors[0]?.region ?? 'another member'}; each must be read in every ` +
      `other member from ${applicationRegions.join(', ')} within ${formatMs(timeoutMs)}`,
    async () => {
      const attempt = rb.steps.get('replication-check').attempts;
      const { runId } = rb.state.context;
      const writers = [rb.member, ...rb.survivors.slice(0, 1)];
      const canaries: Canary[] = writers.map((writer) => ({
        key: `geofailover:canary:rehearsal:${runId}:${attempt}:${writer.region}`,
        value: `${rb.state.context.workflowId} ${runId} ${now()}`,
        writer,
        via: writerRegion(rb, writer),
      }));
      const ttlSeconds = Math.ceil(timeoutMs / 1000) + 300;
      const writes = await Promise.all(
        canaries.map((c) =>
          rb
            .actsFor('replication-check')
            .probeIn(c.via)
            .canaryWrite({
              applicationRegion: c.via,
              target: targetOf(rb, c.via, c.writer),
              key: c.key,
              value: c.value,
              ttlSeconds,
              timeoutMs: rb.probeTimeoutMs,
            }),
        ),
      );
      const writtenAt = Date.now();
      const reads: ReadState[] = canaries.flatMap((c) =>
        applicationRegions.flatMap((applicationRegion) =>
          rb.allMembers
            .filter((m) => m.region !== c.writer.region)
            .map((m) => ({ applicationRegion, memberRegion: m.region, key: c.key })),
        ),
      );
      let delayMs = FIRST_READ_DELAY_MS;
      let rounds = 0;
      for (;;) {
        rounds += 1;
        await readRound(rb, canaries, reads, writtenAt);
        const missing = reads.filter((r) => r.seenAfterMs === undefined);
        const waitedMs = Date.now() - writtenAt;
        const evidence = {
          timeoutMs,
          writes,
          reads: reads.map(({ last, ...r }) => ({ ...r, ...(last?.error ? { error: last.error } : {}) })),
          rounds,
        };
        if (missing.length === 0) {
          const slowest = Math.max(0, ...reads.map((r) => r.seenAfterMs ?? 0));
          return {
            summary:
              `replication runs again: ${canaries.length} canar${canaries.length === 1 ? 'y' : 'ies'} ` +
              `(written in ${canaries.map((c) => c.writer.region).join(', ')}) read in every other member from ` +
              `${applicationRegions.length} application region(s), ${reads.length} reads, slowest after ${formatMs(slowest)}`,
            evidence,
            value: undefined,
          };
        }
        if (waitedMs >= timeoutMs) {
          const first = missing
            .slice(0, 6)
            .map(
              (r) =>
                `${r.applicationRegion} → ${r.memberRegion}: ${r.last?.error ?? (r.last ? 'not there yet' : 'not read')}`,
            );
          throw new StepFailure(
            `replication is not proven: ${missing.length} of ${reads.length} canary read(s) did not find the value ` +
              `within ${formatMs(timeoutMs)} (${first.join('; ')})`,
            FAILURE_TYPES.verificationFailed,
            evidence,
          );
        }
        await sleep(Math.min(delayMs, timeoutMs - waitedMs));
        delayMs = Math.min(delayMs * 2, MAX_READ_DELAY_MS);
      }
    },
  );
}

/** One read of every canary not seen yet, one canaryRead per application region and key, in parallel. */
async function readRound(rb: Runbook, canaries: Canary[], reads: ReadState[], writtenAt: number): Promise<void> {
  const calls: Promise<void>[] = [];
  for (const canary of canaries) {
    const byApp = new Map<string, ReadState[]>();
    for (const r of reads) {
      if (r.key !== canary.key || r.seenAfterMs !== undefined) continue;
      byApp.set(r.applicationRegion, [...(byApp.get(r.applicationRegion) ?? []), r]);
    }
    for (const [applicationRegion, pending] of byApp) {
      calls.push(
        (async () => {
          let records: CanaryReadRecord[];
          try {
            records = await rb
              .actsFor('replication-check')
              .probeIn(applicationRegion)
              .canaryRead({
                applicationRegion,
                key: canary.key,
                timeoutMs: rb.probeTimeoutMs,
                targets: pending.map((r) =>
                  targetOf(rb, applicationRegion, {
                    region: r.memberRegion,
                    databaseId: rb.group.members[r.memberRegion] ?? '',
                  }),
                ),
              });
          } catch (err) {
            const error = describeFailure(err).message;
            for (const r of pending)
              r.last = { applicationRegion, memberRegion: r.memberRegion, address: '', value: null, error };
            return;
          }
          for (const record of records) {
            const r = pending.find((p) => p.memberRegion === record.memberRegion);
            if (!r) continue;
            r.last = record;
            if (record.value === canary.value) r.seenAfterMs = Date.now() - writtenAt;
          }
        })(),
      );
    }
  }
  await Promise.all(calls);
}

/**
 * A rehearsal that ends early (aborted, or stopped at a gate) gives the region its traffic back: its endpoint is
 * enabled again, unless the region is force-unlinked (it would serve data the group no longer replicates to it:
 * it stays drained until it rejoins). Returns the sentence that says what was done; never throws.
 */
export async function restoreTraffic(rb: Runbook): Promise<string> {
  const { steps, state } = rb;
  const name = rb.group.trafficManager?.endpoints?.[rb.region]?.name ?? rb.region;
  if (steps.get('traffic-reroute').status === 'pending') return 'traffic was never moved';
  if (steps.get('traffic-failback').status === 'succeeded') return `endpoint ${name} was already enabled again`;
  if (state.unlinked) {
    return `traffic not restored: ${rb.region} is force-unlinked, so endpoint ${name} stays disabled until it rejoins (rejoinRunbook)`;
  }
  steps.start('traffic-failback', `the rehearsal ended early: enabling endpoint ${name} again`);
  try {
    const change = await setEndpoint(rb, 'Enabled');
    if (change.heldBy?.length) {
      const holders = change.heldBy.map((h) => h.workflowId).join(', ');
      steps.fail('traffic-failback', `traffic not restored: the shared endpoint ${name} is held by ${holders}`, {
        heldBy: change.heldBy,
      });
      return `traffic not restored: the shared endpoint ${name} is held by ${holders}`;
    }
    steps.succeed(
      'traffic-failback',
      `the rehearsal ended early: ${name} ${change.changed ? 'enabled again' : 'was already enabled'}; serving: ` +
        servingEndpoints(change.after).join(', '),
      {
        restoredOnStop: true,
        endpointEnabled: true,
        before: change.before,
        after: change.after,
        changed: change.changed,
      },
    );
    return `traffic restored: endpoint ${name} enabled again`;
  } catch (err) {
    const why = describeFailure(err).message;
    steps.fail('traffic-failback', `traffic not restored: enabling ${name} failed: ${why}`, { error: why });
    return `traffic not restored: enabling ${name} failed (${why}); enable it by hand`;
  }
}
