// When await-recovery counts the failed region as recovered, and what its watch remembers. Pure: no Temporal
// calls, so the rule is unit-tested and the workflow only feeds it what each poll found. The whole memory of the
// watch is one plain JSON object (RecoveryProgress), so a run that continues as new hands it on unchanged.
import type { MemberSnapshot } from '../../contract/types';
import { bounded } from './bounded';
import type { MemorySample } from './unlink-trigger';

/** Consecutive passing checks the region needs when the group does not say (`recoveryConfirmations`). */
export const DEFAULT_RECOVERY_CONFIRMATIONS = 3;
/** Memory samples the watch keeps (the trend and the unlink gate's request read them). */
export const KEPT_SAMPLES = 30;
/** regionRecovered requests kept in full; the rest are only counted. */
export const MAX_REQUESTS_KEPT = 10;
const MAX_FAILURES_KEPT = 10;
const MAX_FAILURE_LENGTH = 300;

/** A commander's regionRecovered: a request to verify the region now. */
export interface VerificationRequest {
  by: string;
  at: string;
  comment?: string;
  fingerprint?: string;
}

/** What one check of the failed region found. */
export interface RecoveryCheck {
  /** the watch's poll this check belongs to */
  poll: number;
  at: string;
  passed: boolean;
  /** `answers`, or why ARM did not answer for the failed member */
  arm: string;
  /** the failed member's database resourceState, when ARM answered */
  resourceState?: string;
  /** the probes from every application region to the failed member's endpoint */
  probes: 'passed' | 'failed' | 'not run';
  /** one sentence per thing that did not pass (bounded) */
  failures: string[];
  /** who asked for this check with regionRecovered */
  askedBy?: string[];
}

/**
 * The recovery watch's memory: survivors' memory samples, how many polls ran, the run of passing checks, and
 * who asked for a verification. Plain JSON (no class, no Map): RunbookSnapshot carries it as it is.
 */
export interface RecoveryProgress {
  /** polls of the watch so far (memory and, until the region is confirmed, the failed region) */
  polls: number;
  /** the survivors' memory, newest last (at most KEPT_SAMPLES) */
  samples: MemorySample[];
  /** checks of the failed region that passed in a row, up to the newest */
  consecutivePasses: number;
  lastCheck?: RecoveryCheck;
  /** regionRecovered requests, oldest first (the first MAX_REQUESTS_KEPT) */
  requests: VerificationRequest[];
  requestsTotal: number;
  /** who asked since the last check started: the next check runs at once and names them */
  pendingAskedBy: string[];
  /** set once `required` checks passed in a row: the region counts as recovered */
  confirmed?: { at: string; checks: number; askedBy?: string[] };
}

export function newRecoveryProgress(): RecoveryProgress {
  return { polls: 0, samples: [], consecutivePasses: 0, requests: [], requestsTotal: 0, pendingAskedBy: [] };
}

/** The group's `recoveryConfirmations`, or the default when absent or not a whole number from 1 to 100. */
export function requiredConfirmations(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 100
    ? value
    : DEFAULT_RECOVERY_CONFIRMATIONS;
}

/** regionRecovered: the next check runs now and records who asked; recovery still needs the checks to pass. */
export function requestVerification(progress: RecoveryProgress, request: VerificationRequest): void {
  progress.requestsTotal += 1;
  if (progress.requests.length < MAX_REQUESTS_KEPT) {
    progress.requests.push({
      by: bounded(request.by, 64),
      at: request.at,
      ...(request.comment !== undefined ? { comment: bounded(request.comment, 400) } : {}),
      ...(request.fingerprint !== undefined ? { fingerprint: bounded(request.fingerprint, 128) } : {}),
    });
  }
  const by = bounded(request.by, 64);
  if (!progress.pendingAskedBy.includes(by) && progress.pendingAskedBy.length < MAX_REQUESTS_KEPT) {
    progress.pendingAskedBy.push(by);
  }
}

/** Whether someone asked for a check that has not started yet. */
export function verificationPending(progress: RecoveryProgress): boolean {
  return progress.pendingAskedBy.length > 0;
}

/** A check starts: it answers the requests made so far (later ones ask for another). */
export function takeRequests(progress: RecoveryProgress): string[] {
  return progress.pendingAskedBy.splice(0);
}

/** ARM's part of a check: the member answers and its database is Running. Empty when it passes. */
export function armFailures(region: string, member: MemberSnapshot | undefined): string[] {
  if (!member?.reachable) {
    return [`ARM does not answer for ${region}${member?.error ? ` (${member.error.message})` : ''}`];
  }
  if (member.resourceState !== 'Running') {
    return [`${region}'s database resourceState is ${member.resourceState ?? 'not reported'}, not Running`];
  }
  return [];
}

/**
 * Records a check and applies the rule: the region is recovered once `required` checks in a row passed. A failed
 * check starts the count again. Returns the check as recorded.
 */
export function recordCheck(
  progress: RecoveryProgress,
  found: Omit<RecoveryCheck, 'poll' | 'passed' | 'askedBy'>,
  askedBy: readonly string[],
  required: number,
): RecoveryCheck {
  const failures = found.failures.slice(0, MAX_FAILURES_KEPT).map((f) => bounded(f, MAX_FAILURE_LENGTH));
  if (found.failures.length > MAX_FAILURES_KEPT) failures.push(`… ${found.failures.length - MAX_FAILURES_KEPT} more`);
  const check: RecoveryCheck = {
    ...found,
    arm: bounded(found.arm, MAX_FAILURE_LENGTH),
    poll: progress.polls,
    passed: found.failures.length === 0,
    failures,
    ...(askedBy.length > 0 ? { askedBy: [...askedBy] } : {}),
  };
  progress.consecutivePasses = check.passed ? progress.consecutivePasses + 1 : 0;
  progress.lastCheck = check;
  if (!progress.confirmed && progress.consecutivePasses >= required) {
    const asked = askedByDuringRun(progress);
    progress.confirmed = {
      at: check.at,
      checks: progress.consecutivePasses,
      ...(asked.length > 0 ? { askedBy: asked } : {}),
    };
  }
  return check;
}

// Who asked for a verification at all; the confirmation names them as the people who called the region back.
function askedByDuringRun(progress: RecoveryProgress): string[] {
  return [...new Set(progress.requests.map((r) => r.by))];
}

/** One sentence for the status: progress towards recovery and what the newest check found. */
export function describeProgress(progress: RecoveryProgress, required: number, region: string): string {
  const count = `${Math.min(progress.consecutivePasses, required)}/${required} consecutive checks passed`;
  const check = progress.lastCheck;
  if (!check) return `${count}; ${region} not checked yet`;
  const asked = check.askedBy ? ` (asked for by ${check.askedBy.join(', ')})` : '';
  if (check.passed) return `${count}${asked}; ${region} answers ARM, its database is Running, every probe passes`;
  return `${count}${asked}; ${check.failures.join('; ')}`;
}

/**
 * A RecoveryProgress from a continued run's snapshot, checked field by field: anything missing or of the wrong
 * shape starts from empty, lists and strings are bounded again. Never throws.
 */
export function restoredProgress(saved: unknown): RecoveryProgress {
  const progress = newRecoveryProgress();
  if (typeof saved !== 'object' || saved === null) return progress;
  const s = saved as Record<string, unknown>;
  const count = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);
  const text = (v: unknown, max: number): string | undefined => (typeof v === 'string' ? bounded(v, max) : undefined);
  const records = (v: unknown, max: number): Record<string, unknown>[] =>
    Array.isArray(v)
      ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null).slice(-max)
      : [];
  progress.polls = count(s.polls);
  progress.consecutivePasses = count(s.consecutivePasses);
  progress.requestsTotal = count(s.requestsTotal);
  // Samples and checks are the runbook's own records: kept as they are, the number bounded.
  progress.samples = records(s.samples, KEPT_SAMPLES) as unknown as MemorySample[];
  if (typeof s.lastCheck === 'object' && s.lastCheck !== null) progress.lastCheck = s.lastCheck as RecoveryCheck;
  for (const r of records(s.requests, MAX_REQUESTS_KEPT)) {
    const by = text(r.by, 64);
    const at = text(r.at, 64);
    if (by === undefined || at === undefined) continue;
    const comment = text(r.comment, 400);
    const fingerprint = text(r.fingerprint, 128);
    progress.requests.push({
      by,
      at,
      ...(comment !== undefined ? { comment } : {}),
      ...(fingerprint !== undefined ? { fingerprint } : {}),
    });
  }
  if (Array.isArray(s.pendingAskedBy)) {
    for (const by of s.pendingAskedBy.slice(0, MAX_REQUESTS_KEPT)) {
      if (typeof by === 'string') progress.pendingAskedBy.push(bounded(by, 64));
    }
  }
  if (typeof s.confirmed === 'object' && s.confirmed !== null) {
    const c = s.confirmed as Record<string, unknown>;
    const at = text(c.at, 64);
    if (at !== undefined) {
      const askedBy = Array.isArray(c.askedBy)
        ? c.askedBy.filter((x): x is string => typeof x === 'string').slice(0, MAX_REQUESTS_KEPT)
        : [];
      progress.confirmed = { at, checks: count(c.checks), ...(askedBy.length ? { askedBy } : {}) };
    }
  }
  return progress;
}
