/**
 * Replay verification: does the recorded history still replay against the current workflow code? A
 * history that replays is `verified`; one that does not is `diverged`, with the first event that did not
 * match. `Worker.runReplayHistories` runs the workflow code over the history without a server; a replay session
 * starts that replay worker before the history is there (while it is fetched) and replays every run of an incident
 * in the one worker.
 */
import { DefaultLogger, makeTelemetryFilterString, ReplayError, Runtime, Worker } from '@temporalio/worker';
import type { ReplayResult } from '@temporalio/worker';
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

/** The workflow code a replay runs, and the sha256 of the bundle file it came from. */
interface ReplayBundle {
  bundle: WorkflowBundle;
  sha256: string;
}

let replayBundleOnce: Promise<ReplayBundle> | undefined;

const SOURCE_MAP_COMMENT = '//# sourceMappingURL=data:';

/**
 * The current workflow code for a replay: the bundle file's code with its inline source map (two thirds of the file)
 * replaced by an empty one. The SDK decodes, parses and re-encodes that map before it runs anything, and a replay's
 * verdict never reads it (core names the mismatching event). The sha256 is the whole file's, as a worker runs it.
 */
function currentReplayBundle(): Promise<ReplayBundle> {
  replayBundleOnce ??= workflowBundleFile().then(async ({ codePath }) => {
    const file = await readFile(codePath);
    const sha256 = createHash('sha256').update(file).digest('hex');
    const mapAt = file.lastIndexOf(SOURCE_MAP_COMMENT);
    if (mapAt < 0) return { bundle: { code: file.toString('utf8') }, sha256 };
    const emptyMap = { version: 3, file: codePath, sources: [], names: [], mappings: '' };
    const code =
      file.subarray(0, mapAt).toString('utf8') +
      `${SOURCE_MAP_COMMENT}application/json;base64,${Buffer.from(JSON.stringify(emptyMap)).toString('base64')}`;
    return { bundle: { code }, sha256 };
  });
  replayBundleOnce.catch(() => (replayBundleOnce = undefined));
  return replayBundleOnce;
}

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

/** A replay worker, started before the histories it replays are there. */
export interface ReplaySession {
  /**
   * Replays one history (one at a time, in the order asked). Never throws for a mismatch: that is the `diverged`
   * verdict. A history of a workflow that is still running replays up to its last event.
   * @throws when the bundle cannot be read or the replay worker cannot run, which is no verdict on the history.
   */
  replay(history: History, workflowId?: string): Promise<ReplayVerdict>;
  /** Shuts the replay worker down (after the replays asked for); always call it, even when nothing was replayed. */
  close(): Promise<void>;
}

/** Histories handed to the replay worker as they come; `end` finishes its loop. */
class HistoryQueue implements AsyncIterable<{ history: History; workflowId: string }> {
  private readonly items: { history: History; workflowId: string }[] = [];
  private waiting: (() => void) | undefined;
  private ended = false;

  push(item: { history: History; workflowId: string }): void {
    this.items.push(item);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<{ history: History; workflowId: string }> {
    for (;;) {
      const item = this.items.shift();
      if (item) yield item;
      else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }
}

/**
 * Starts a replay worker now (the bundle read and loaded, the native worker made) so that it is ready when the
 * history arrives; one worker replays every history given to it.
 */
export function startReplaySession(options: Omit<ReplayOptions, 'workflowId'> = {}): ReplaySession {
  const queue = new HistoryQueue();
  const against = options.against ?? 'the current workflow code (src/workflows)';
  const bundle: Promise<ReplayBundle> = options.bundle
    ? Promise.resolve({ bundle: options.bundle, sha256: bundleSha256(options.bundle) })
    : currentReplayBundle();
  const results = bundle.then(({ bundle: workflowBundle }) =>
    Worker.runReplayHistories({ workflowBundle, replayName: 'geofailover-audit' }, queue),
  );
  // Asking for the first result is what makes the SDK construct the worker: now, not when the history is there.
  let next: Promise<IteratorResult<ReplayResult> | undefined> = results.then((r) => r.next());
  next.catch(() => undefined); // a failure is reported by the replay that waits for it, or by close()
  let closed = false;

  return {
    async replay(history, workflowId) {
      if (closed) throw new Error('the replay session is closed');
      const started = performance.now();
      const checkedAt = new Date().toISOString();
      const mine = next;
      next = mine.then(
        () => results.then((r) => r.next()),
        () => undefined,
      );
      next.catch(() => undefined);
      queue.push({ history, workflowId: workflowId ?? 'fake' });
      const { sha256 } = await bundle;
      const result = await mine;
      if (!result || result.done) throw new Error('the replay worker stopped before replaying the history');
      const base = {
        workflowType: startedAttributes(history)?.workflowType?.name ?? 'unknown',
        checkedAt,
        against,
        code: { ...codeVersion(), bundleSha256: sha256 },
      };
      const durationMs = Math.round(performance.now() - started);
      const e = result.value.error;
      if (e === undefined) return { verdict: 'verified', ...base, durationMs };
      // Only the replay's own findings are verdicts; anything else (a broken bundle, a lost runtime) is a failure.
      if (!(e instanceof DeterminismViolationError || e instanceof ReplayError)) throw e;
      return {
        verdict: 'diverged',
        ...base,
        errorKind: e instanceof DeterminismViolationError ? 'nondeterminism' : 'replay-error',
        mismatch: describeMismatch(e.message, history),
        durationMs,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      queue.end();
      let generator: AsyncIterableIterator<ReplayResult>;
      try {
        generator = await results;
      } catch {
        return; // the bundle could not be read: no worker was started
      }
      // The worker shuts down when its history loop ends; return() waits for that (and rethrows a worker failure).
      await next.catch(() => undefined);
      await generator.return?.();
    },
  };
}

/**
 * Replays a history against the workflow code in a replay worker of its own. Never throws for a mismatch: that is
 * the `diverged` verdict. A history of a workflow that is still running replays up to its last event.
 * @throws when the bundle cannot be built or the replay worker cannot run, which is no verdict on the history.
 */
export async function replayHistory(history: History, options: ReplayOptions = {}): Promise<ReplayVerdict> {
  const session = startReplaySession(options);
  try {
    return await session.replay(history, options.workflowId);
  } finally {
    await session.close();
  }
}
