/**
 * CLI errors and exit codes (README: Running an incident): 0 success, 1 refused or failed, 2 bad usage. Every message says
 * what is wrong; `hint` says what to do next.
 */
import { WorkflowNotFoundError } from '@temporalio/common';
import { CommanderError } from 'commander';
import { ConfigError } from '../config/load';
import { RefusedError } from '../contract/errors';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Thrown for bad usage: a missing, malformed or contradictory argument. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

// Thrown below the CLI too (the configuration's groups, the drill).
export { RefusedError };

/** An error as the CLI reports it: text on stderr, and under `--json` this document on stdout. */
export interface ErrorReport {
  error: {
    code: string;
    message: string;
    hint?: string;
    exitCode: number;
    details?: Record<string, unknown>;
  };
}

/** Maps any error to its report and exit code. */
export function reportError(e: unknown): ErrorReport {
  if (e instanceof UsageError) {
    return { error: { code: 'usage', message: e.message, hint: e.hint, exitCode: EXIT_USAGE } };
  }
  if (e instanceof CommanderError) {
    return {
      error: {
        code: 'usage',
        message: e.message.replace(/^error: /, ''),
        hint: 'run with --help for usage',
        exitCode: EXIT_USAGE,
      },
    };
  }
  if (e instanceof RefusedError) {
    return { error: { code: e.code, message: e.message, hint: e.hint, exitCode: EXIT_FAILED, details: e.details } };
  }
  if (e instanceof ConfigError) {
    return {
      error: {
        code: 'config-invalid',
        message: e.message,
        hint: 'fix the configuration file (its JSON Schema is schemas/config.schema.json); nothing was started',
        exitCode: EXIT_FAILED,
        details: { file: e.file, issues: e.issues },
      },
    };
  }
  if (e instanceof WorkflowNotFoundError) {
    return {
      error: {
        code: 'not-found',
        message: `no workflow ${e.workflowId ?? ''}${e.runId ? ` (run ${e.runId})` : ''} in this namespace`,
        hint: 'check the id with `temporal workflow list`, or pass the group name',
        exitCode: EXIT_FAILED,
      },
    };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { error: { code: 'failed', message, exitCode: EXIT_FAILED } };
}

/** The text form of a report, for stderr. */
export function formatErrorText(report: ErrorReport): string {
  const { message, hint } = report.error;
  return `error: ${message}\n${hint ? `  next: ${hint}\n` : ''}`;
}
