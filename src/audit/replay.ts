/**
 * Replay verification: does the recorded history still replay against the current workflow code? A
 * history that replays is `verified`; one that does not is `diverged`, with the first event that did not
 * match. `Worker.runReplayHistory` runs the workflow code over the history without a server.
 */
import { DefaultLogger, makeTelemetryFilterString, ReplayError, Runtime, Worker } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { workflowBundleFile } from '../workflow-bundle';
import { codeVersion } from './code-version';
import { eventId, eventType, startedAttributes, type History } from './history';

export type ReplayVerdictName = 'verified' | 'diverged';

export interface ReplayMismatch {
  /** the first history event the current code did not reproduce, when the SDK names it */
  eventId?: number;
  eventType?: string;
  /** what the SDK said (DeterminismViolationError or ReplayError), without the SDK's wrapping */
  message: string;
}

export interface ReplayVerdict {
  verdict: ReplayVerdictName;
  workflowType: string;
  /** 'nondeterminism' (DeterminismViolationError) or 'replay-error' (any other ReplayError) */
  errorKind?: 'nondeterminism' | 'replay-error';
  mismatch?: ReplayMismatch;
  checkedAt: string;
  durationMs: number;
  /** what the history was replayed against */
  against: string;
  /** an incident that continued as new: each run's own verdict, first run first */
  runs?: { run: number; runId: string; events: number; verdict: ReplayVerdictName }[];
  /** the code replayed against: geofailover's version and commit, and the sha256 of the workflow bundle */
  code?: { version: string; commit?: string; bundleSha256?: string };
}

/** sha256 of a bundle's code, so a report names exactly the workflow code it was replayed against. */
export function bundleSha256(bundle: WorkflowBundle): string {
  return createHash('sha256').update(bundle.code).digest('hex');
}

let currentBundle: Promise<WorkflowBundle> | undefined;

/** The current workflow code: the build's bundle (an installed package), else src/workflows' (bundled once, cached). */
export function currentWorkflowBundle(): Promise<WorkflowBundle> {
  currentBundle ??= workflowBundleFile().then(async ({ codePath }) => ({ code: await readFile(codePath, 'utf8') }));
  currentBundle.catch(() => (currentBundle = undefined));
  return currentBundle;
}

/**
 * Installs a quiet SDK runtime (errors only) unless one is already installed: a diverging replay is the
 * expected finding of an audit, not a warning for the console. For CLI processes; tests install their own.
 */
export function installQuietRuntime(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
    });
  } catch {
    // Already installed (by the caller or an earlier audit in this process): keep it.
  }
}

// The SDK wraps core's failure: `... Failure { message: "[TMPRL1100] Nondeterminism error: ...", ... }`.
const CORE_MESSAGE = /message: "((?:[^"\\]|\\.)*)"/;
const HISTORY_EVENT = /HistoryEvent\(id: (\d+), (\w+)\)/;
const EVENT_ID_FALLBACKS = [/event(?:_id| id)[:= ]+'?(\d+)/i, /event '(\d+)'/i];

/** The readable part of a replay error and the first mismatching event it names. */
export function describeMismatch(message: string, history: History): ReplayMismatch {
  const core = CORE_MESSAGE.exec(message)?.[1]?.replace(/\\"/g, '"');
  const readable = core ?? message.replace(/^Replay failed with a nondeterminism error\.[^:]*: /, '');
  const named = HISTORY_EVENT.exec(message);
  let id = named ? Number(named[1]) : undefined;
  if (id === undefined) {
    for (const pattern of EVENT_ID_FALLBACKS) {
      const m = pattern.exec(message);
      if (m) {
        id = Number(m[1]);
        break;
      }
    }
  }
  const event = id === undefined ? undefined : history.events?.find((e) => eventId(e) === id);
  const mismatch: ReplayMismatch = { message: readable };
  if (id !== undefined) mismatch.eventId = id;
  const type = event ? eventType(event) : named?.[2];
  if (type) mismatch.eventType = type;
  return mismatch;
}

export interface ReplayOptions {
  /** a prebuilt workflow bundle (tests); default: the current src/workflows, bundled once */
  bundle?: WorkflowBundle;
  /** names what was replayed against, for the report; default 'the current workflow code (src/workflows)' */
  against?: string;
  workflowId?: string;
}

/**
 * Replays a history against the workflow code. Never throws for a mismatch: that is the `diverged`
 * verdict. A history of a workflow that is still running replays up to its last event.
 * @throws when the bundle cannot be built or the replay worker cannot run, which is no verdict on the history.
 */
export async function replayHistory(history: History, options: ReplayOptions = {}): Promise<ReplayVerdict> {
  const bundle = options.bundle ?? (await currentWorkflowBundle());
  const started = performance.now();
  const checkedAt = new Date().toISOString();
  const base = {
    workflowType: startedAttributes(history)?.workflowType?.name ?? 'unknown',
    checkedAt,
    against: options.against ?? 'the current workflow code (src/workflows)',
    code: { ...codeVersion(), bundleSha256: bundleSha256(bundle) },
  };
  try {
    await Worker.runReplayHistory({ workflowBundle: bundle }, history, options.workflowId);
    return { verdict: 'verified', ...base, durationMs: Math.round(performance.now() - started) };
  } catch (e) {
    // Only the replay's own findings are verdicts; anything else (a broken bundle, a lost runtime) is a failure.
    if (!(e instanceof DeterminismViolationError || e instanceof ReplayError)) throw e;
    const message = e.message;
    return {
      verdict: 'diverged',
      ...base,
      errorKind: e instanceof DeterminismViolationError ? 'nondeterminism' : 'replay-error',
      mismatch: describeMismatch(message, history),
      durationMs: Math.round(performance.now() - started),
    };
  }
}
