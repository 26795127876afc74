/**
 * The drill's people, durations and thresholds: production behaviour, compressed so that the whole drill —
 * outage, reroute, metadata build-up to the unlink trigger, gates, force-unlink, rejoin, failback — takes
 * seconds. Everything here reaches the runbook through the configuration file or the workflow input, so the
 * history shows exactly what the drill ran with.
 */
import type { z } from 'zod';
import type { groupSchema } from '../config/schema';
import type { RunbookTuning } from '../contract/runbook';
import { parseLatencySpec, type LatencySettings } from '../emulator/latencies';

type GroupConfigInput = z.input<typeof groupSchema>;

/** How `geofailover drill` was asked to run (here, not in drill.ts: the incident reads it too). */
export interface DrillOptions {
  /** leave the approvals to a person and print what to type */
  interactive: boolean;
  /** the evidence package's directory; default evidence/<workflow id> under the current directory */
  outDir?: string;
  /** the main worker's task queue */
  taskQueue: string;
  /** TEMPORAL_ADDRESS decides whether the drill starts its own dev server */
  env: NodeJS.ProcessEnv;
  /** Ctrl-C / SIGTERM: its reason is the signal */
  signal: AbortSignal;
  /** `--dynamic-config-value` settings for the drill's own dev server */
  dynamicConfig?: readonly string[];
  /** `--emulator-latency SPEC`: the emulator's ARM, LRO and probe latencies (default none) */
  emulatorLatencies?: Partial<LatencySettings>;
  /** `--evacuate N --concurrency C`: runbooks before their traffic reroute at once (default: every group) */
  concurrency?: number;
}

/**
 * Who starts the drill's incident: an approver of the group (the emulator's default scenario), so that their own
 * approval is refused by the four-eyes rule rather than for not being an approver at all.
 */
export const DRILL_REQUESTER = 'sre-lead';

/** The two distinct approvers of the unlink gate (quorum 2), and the one of the rejoin gate (quorum 1). */
export const DRILL_APPROVERS = { unlink: ['sre-manager', 'data-owner'], rejoin: 'data-owner' } as const;

export const DRILL_REASON = 'geofailover drill';

/** Replication metadata each survivor accrues per second in the drill: critical (60 % of 64 MiB) in ~5 s. */
export const DRILL_METADATA_BYTES_PER_SECOND = 8 * 1024 * 1024;

/** Emulator timing: long-running operations take 300 ms; memory is sampled every 100 ms. */
export const DRILL_EMULATOR_TIMING = {
  lro: { durationMs: 300, retryAfterSeconds: 0 },
  metadataTickMs: 100,
} as const;

/**
 * Second-scale runbook tuning: short activity timeouts, fast retries and LRO polls, a bounded wait for probe
 * workers, and a heartbeat timeout short enough that a lost worker's activity is retried quickly.
 */
export const DRILL_TUNING: RunbookTuning = {
  reads: { startToClose: '10s', scheduleToClose: '20s', initialRetryInterval: '100ms' },
  mutationMaximumAttempts: 3,
  mutationInitialRetryInterval: '200ms',
  probeScheduleToStart: '5s',
  lroPollIntervalMs: 100,
  heartbeatTimeout: '3s',
  failedMemberRead: '3s',
};

/**
 * The Azure SDK's retries at the drill's time scale (3 retries, 50-250 ms apart, Retry-After still honoured). With
 * the SDK's defaults (800 ms doubling) every read of the failed region's member spends ~5.5 s retrying its 503s,
 * which would be most of the drill's RTO and slow every await-recovery poll.
 */
export const DRILL_SDK_RETRIES = { maxRetries: 3, retryDelayInMs: 50, maxRetryDelayInMs: 250 } as const;

/**
 * `GEOFAILOVER_DRILL_SDK_RETRIES=production` runs the drill's ARM clients with the SDK's own retry options (3
 * retries, 800 ms doubling), as a production worker has them: `npm run bench` measures the RTO with both.
 */
export const DRILL_SDK_RETRIES_ENV = 'GEOFAILOVER_DRILL_SDK_RETRIES';

/** The drill's SDK retry options: {@link DRILL_SDK_RETRIES}, or `undefined` (the SDK's) with the variable above. */
export function drillSdkRetries(
  env: NodeJS.ProcessEnv = process.env,
): { maxRetries: number; retryDelayInMs: number; maxRetryDelayInMs: number } | undefined {
  return env[DRILL_SDK_RETRIES_ENV] === 'production' ? undefined : { ...DRILL_SDK_RETRIES };
}

/** How long the drill waits for each thing it expects the runbook to do before it calls the drill failed. */
export const DRILL_WAIT_MS = 60_000;

/** How long a person has to answer a gate in `--interactive` mode before it escalates (and as long again to stop). */
const INTERACTIVE_GATE_TIMEOUT = '15m';

/**
 * The drill's changes to the group `configForEmulator` produced: quorum 2 for the unlink, memory thresholds the
 * build-up crosses in seconds, and second-scale durations (minutes for gates a person answers).
 */
export function drillGroup(group: GroupConfigInput, options: { interactive: boolean }): GroupConfigInput {
  const gateTimeout = options.interactive ? INTERACTIVE_GATE_TIMEOUT : '30s';
  return {
    ...group,
    quorum: { unlink: 2, rejoin: 1, intervention: 1 },
    memoryThresholds: { elevatedPercent: 40, criticalPercent: 60 },
    rejoinMethod: 'force-link',
    durations: {
      approvalTimeout: gateTimeout,
      escalationTimeout: gateTimeout,
      recoveryPollInterval: '300ms',
      maxOutageBeforeUnlink: '10m',
      resyncTimeout: '20s',
      probeTimeout: '2s',
      // The evidence report says whether the drill's reroute met it (a few hundred ms on an idle machine).
      rtoTarget: '30s',
    },
  };
}

/**
 * `--emulator-latency arm-read=150ms,arm-write=1s,lro=10s,probe=30ms`: realistic Azure timings in the drill's
 * emulator (the benchmark's P2 measures the RTO with them). Throws LatencySettingError on a bad spec.
 */
export function drillLatencies(spec: string): Partial<LatencySettings> {
  return parseLatencySpec(spec);
}
