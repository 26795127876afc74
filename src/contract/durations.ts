// Durations: parsed from the input where the workflow compares or adds them, and written for people the same
// way everywhere (workflow summaries, the CLI, the drill, the evidence report). Pure and deterministic: safe in
// workflow code.
import type { Duration } from '@temporalio/common';
// The SDK's own parser (the `ms` format every Temporal timeout accepts); pure, safe in the workflow sandbox.
import { msToNumber } from '@temporalio/common/lib/time';

/**
 * Milliseconds of an ms-style duration ('30s', '15 minutes') or a number of milliseconds.
 * @throws TypeError when the string is not a duration.
 */
export function durationMs(value: Duration): number {
  return msToNumber(value);
}

/** A duration for people: '850 ms', '1.2 s', '3 min 5 s', '2 h 3 min'. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  return seconds > 0 ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

/** {@link formatMs} of a measured duration; '' when there is none (missing, negative or not a number). */
export function formatDuration(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) || ms < 0 ? '' : formatMs(ms);
}
