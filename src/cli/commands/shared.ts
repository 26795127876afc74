/** Pieces every runbook command uses: global options, argument parsers, finding the runbook meant. */
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { InvalidArgumentError, type Command } from 'commander';
import { TASK_QUEUE, workflowIds } from '../../contract/names';
import { executionState, findRunbook } from '../../starter';
import type { GlobalOptions } from '../context';
import { RefusedError, UsageError } from '../errors';

/** The global options (--config, hidden --task-queue) as seen from a subcommand. */
export function globalOptions(command: Command): Required<Pick<GlobalOptions, 'taskQueue'>> & GlobalOptions {
  const all = command.optsWithGlobals() as GlobalOptions;
  return { config: all.config, taskQueue: all.taskQueue ?? TASK_QUEUE };
}

/** Commander parser: a non-blank text (a reason or a name that is only spaces is bad usage). */
export function text(flag: string): (value: string) => string {
  return (value) => {
    const trimmed = value.trim();
    if (!trimmed) throw new InvalidArgumentError(`${flag} must not be empty.`);
    return trimmed;
  };
}

/** Commander parser: a whole number of milliseconds. */
export function milliseconds(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be a whole number of milliseconds.`);
    return Number(value);
  };
}

/**
 * Who is acting: --by, else $USER (or $LOGNAME).
 * @throws UsageError when none is known.
 */
export function actor(by: string | undefined, env: NodeJS.ProcessEnv): string {
  const name = by ?? env.USER?.trim() ?? env.LOGNAME?.trim();
  if (!name) throw new UsageError('who is acting is unknown: pass --by NAME ($USER is not set)');
  return name;
}

/** "failover/x is completed (closed 2025-...)" */
function describeState(d: WorkflowExecutionDescription): string {
  const closed = d.closeTime ? ` (closed ${d.closeTime.toISOString()})` : '';
  return `${d.workflowId} is ${executionState(d)}${closed}`;
}

/**
 * The runbook a group name or workflow id means, which must be open (a signal or decision only makes
 * sense there).
 * @throws RefusedError naming what exists instead, and what to do.
 */
export async function openRunbook(client: Client, ref: string): Promise<WorkflowExecutionDescription> {
  const found = await findRunbook(client, ref);
  const d = found.description;
  const isGroup = !ref.includes('/');
  if (!d) {
    throw new RefusedError(
      `no open runbook for ${isGroup ? `group ${ref}` : ref}: ${found.candidates.join(' and ')} ${
        found.candidates.length > 1 ? 'do' : 'does'
      } not exist`,
      isGroup
        ? `start one with: geofailover start ${ref} --failed-region REGION --reason TEXT`
        : 'pass a group name or the id of an open runbook (temporal workflow list)',
      'no-open-runbook',
      { candidates: found.candidates },
    );
  }
  if (executionState(d) !== 'running') {
    throw new RefusedError(
      `no open runbook for ${isGroup ? `group ${ref}` : ref}: ${describeState(d)}`,
      `see how it ended: geofailover status ${ref}`,
      'no-open-runbook',
      { workflowId: d.workflowId, runId: d.runId, execution: executionState(d) },
    );
  }
  return d;
}

/**
 * The runbook a group name or workflow id means, open or closed.
 * @throws RefusedError when there is none.
 */
export async function anyRunbook(client: Client, ref: string): Promise<WorkflowExecutionDescription> {
  const found = await findRunbook(client, ref);
  if (!found.description) {
    const isGroup = !ref.includes('/');
    throw new RefusedError(
      `no runbook found for ${isGroup ? `group ${ref}` : ref}: ${found.candidates.join(' and ')} ${
        found.candidates.length > 1 ? 'do' : 'does'
      } not exist`,
      isGroup
        ? `start one with: geofailover start ${ref} --failed-region REGION --reason TEXT`
        : `a group name G means ${workflowIds.failover('G')} (or ${workflowIds.rejoin('G')})`,
      'not-found',
      { candidates: found.candidates },
    );
  }
  return found.description;
}
