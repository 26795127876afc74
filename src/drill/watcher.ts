/**
 * Follows the drill's runbook through its `status` query: one event when a step starts and one when it ends
 * (with its duration), and waits for what the drill expects next — failing fast, with the reason, when the
 * runbook pauses at an intervention gate or ends early.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../contract/messages';
import type { StepName } from '../contract/names';
import type { RunbookResult } from '../contract/runbook';
import type { RunbookStatus, StepRecord } from '../contract/types';
import { formatDuration } from '../contract/durations';
import type { DrillReporter } from './events';

const POLL_MS = 200;
const QUERY_TIMEOUT_MS = 5_000;

/** The drill cannot go on: the runbook did something else than expected, or time ran out. */
export class DrillStepError extends Error {
  override name = 'DrillStepError';
}

/** The drill was interrupted (Ctrl-C, SIGTERM). */
export class DrillInterrupted extends Error {
  override name = 'DrillInterrupted';
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

const TERMINAL = new Set(['succeeded', 'failed', 'skipped']);

export function stepOf(status: RunbookStatus, name: StepName): StepRecord | undefined {
  return status.steps.find((s) => s.step === name);
}

function stepDurationMs(step: StepRecord): number | undefined {
  if (!step.startedAt || !step.endedAt) return undefined;
  return Date.parse(step.endedAt) - Date.parse(step.startedAt);
}

export class RunbookWatcher {
  /** the last status seen */
  last?: RunbookStatus;
  private readonly seen = new Map<StepName, string>();
  private result?: { value?: RunbookResult; error?: unknown };

  constructor(
    private readonly handle: WorkflowHandle,
    private readonly reporter: DrillReporter,
    private readonly options: {
      signal: AbortSignal;
      /** a reason to stop waiting that is not the runbook's (a worker died) */
      healthCheck?: () => Error | undefined;
    },
  ) {
    handle.result().then(
      (value: RunbookResult) => (this.result = { value }),
      (error: unknown) => (this.result = { error }),
    );
  }

  /** Reports the steps that started or ended since the last look. */
  report(status: RunbookStatus): void {
    this.last = status;
    for (const step of status.steps) {
      const before = this.seen.get(step.step);
      if (before === step.status) continue;
      if (step.status === 'pending') continue;
      this.seen.set(step.step, step.status);
      const name = step.step.padEnd(16);
      if (!TERMINAL.has(step.status)) {
        if (before === 'running' || before === 'waiting') continue; // running ⇄ waiting is not news
        this.reporter.emit(
          {
            type: 'step',
            step: step.step,
            status: step.status,
            edge: 'start',
            attempts: step.attempts,
            summary: step.summary,
          },
          `▶ ${name} ${step.status === 'waiting' ? 'waiting' : 'started'}${step.summary ? `: ${step.summary}` : ''}`,
        );
        continue;
      }
      const durationMs = stepDurationMs(step);
      const took = durationMs !== undefined ? ` in ${formatDuration(durationMs)}` : '';
      const attempts = step.attempts > 1 ? ` (${step.attempts} attempts)` : '';
      const mark = step.status === 'succeeded' ? '✓' : step.status === 'skipped' ? '–' : '✗';
      this.reporter.emit(
        {
          type: 'step',
          step: step.step,
          status: step.status,
          edge: 'end',
          attempts: step.attempts,
          ...(durationMs !== undefined ? { durationMs } : {}),
          summary: step.summary,
        },
        `${mark} ${name} ${step.status}${took}${attempts}: ${step.summary}`,
      );
    }
  }

  private async poll(): Promise<RunbookStatus | undefined> {
    try {
      const status = await Promise.race([
        this.handle.query(statusQuery),
        sleep(QUERY_TIMEOUT_MS, undefined, { ref: false }).then(() => undefined),
      ]);
      if (status) this.report(status);
      return status;
    } catch {
      return undefined; // a moment without an answer (e.g. the workflow just closed): ask again
    }
  }

  private checkAbort(): void {
    const { signal } = this.options;
    if (signal.aborted) throw new DrillInterrupted((signal.reason as NodeJS.Signals) ?? 'SIGINT');
    const unhealthy = this.options.healthCheck?.();
    if (unhealthy) throw unhealthy;
  }

  /**
   * Polls until `predicate` holds and returns that status; `onPoll` sees every status on the way.
   * @throws DrillStepError when an intervention gate opens, the runbook ends, or `timeoutMs` passes;
   *   DrillInterrupted on Ctrl-C.
   */
  async waitFor(
    predicate: (s: RunbookStatus) => boolean,
    what: string,
    timeoutMs: number,
    onPoll?: (s: RunbookStatus) => void,
  ): Promise<RunbookStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.checkAbort();
      const status = await this.poll();
      if (status) onPoll?.(status);
      if (status && predicate(status)) return status;
      const gate = status?.openGate;
      if (gate && (gate.kind === 'intervention' || !gate.gate.startsWith('approval-'))) {
        const failed = status?.steps.find((s) => s.status === 'failed');
        throw new DrillStepError(
          `while waiting for ${what}, the runbook paused at an intervention gate (${gate.gate})` +
            (failed ? `: ${failed.step} failed: ${failed.summary}` : ''),
        );
      }
      if (this.result) {
        throw new DrillStepError(
          `while waiting for ${what}, the runbook ended: ${this.result.value ? `${this.result.value.outcome}: ${this.result.value.summary}` : String(this.result.error)}`,
        );
      }
      if (Date.now() > deadline) {
        throw new DrillStepError(
          `timed out after ${formatDuration(timeoutMs)} waiting for ${what}; current step ${status?.currentStep ?? this.last?.currentStep ?? '(unknown)'}`,
        );
      }
      await sleep(POLL_MS);
    }
  }

  /**
   * Waits for the workflow's result, reporting steps meanwhile; reports the final step log from the result.
   * @throws DrillStepError when it does not end in `timeoutMs` or fails as a workflow; DrillInterrupted.
   */
  async waitForResult(timeoutMs: number): Promise<RunbookResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.checkAbort();
      if (this.result) {
        if (this.result.value) {
          this.report(this.result.value.status);
          return this.result.value;
        }
        throw new DrillStepError(`the runbook failed as a workflow: ${String(this.result.error)}`);
      }
      const status = await this.poll();
      const gate = status?.openGate;
      if (gate && (gate.kind === 'intervention' || !gate.gate.startsWith('approval-'))) {
        throw new DrillStepError(`the runbook paused at an intervention gate (${gate.gate})`);
      }
      if (Date.now() > deadline) {
        throw new DrillStepError(`the runbook did not end within ${formatDuration(timeoutMs)}`);
      }
      await sleep(POLL_MS);
    }
  }
}
