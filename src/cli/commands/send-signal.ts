/** What `recovered`, `unlink-now`, `intervene` and `abort` share: find the open runbook, signal it. */
import { signalRunbook, type RunbookSignal } from '../../starter';
import type { CliContext } from '../context';
import { EXIT_OK } from '../errors';
import type { Output } from '../output';
import { runbookRef } from '../render';
import { openRunbook } from './shared';

/** What these commands print under --json. */
export interface SignalOutput {
  workflowId: string;
  runId: string;
  signal: RunbookSignal['name'];
  payload: RunbookSignal['payload'];
  sentAt: string;
}

/**
 * Sends a signal to the open runbook `ref` means. Signals are recorded in the history even with no worker
 * running; the runbook records what it does with them in its step log.
 * @throws RefusedError when no runbook of the group is open.
 */
export async function sendSignal(
  ctx: CliContext,
  out: Output,
  ref: string,
  signal: RunbookSignal,
  what: string,
): Promise<number> {
  const client = await ctx.temporal('by' in signal.payload ? signal.payload.by : undefined);
  const description = await openRunbook(client, ref);
  await signalRunbook(client, description.workflowId, signal);
  const result: SignalOutput = {
    workflowId: description.workflowId,
    runId: description.runId,
    signal: signal.name,
    payload: signal.payload,
    sentAt: new Date().toISOString(),
  };
  out.result(
    result,
    `sent ${signal.name} to ${description.workflowId}: ${what}\n` +
      `  see what the runbook does with it: geofailover status ${runbookRef(description.workflowId)} --watch`,
  );
  return EXIT_OK;
}
