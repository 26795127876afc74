/** `geofailover status G|WORKFLOW_ID [--watch] [--json]`: the step log, the open gate, the outcome. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { Option, type Command } from 'commander';
import type { GateRecord, OpenGate, StepRecord } from '../../contract/types';
import { readRunbook, type RunbookView } from '../../starter';
import type { CliContext } from '../context';
import { EXIT_FAILED, EXIT_OK } from '../errors';
import type { Output } from '../output';
import { isInterventionGate, runbookRef, renderStatus, renderStepLine } from '../render';
import { anyRunbook, milliseconds } from './shared';
import { evacuationStatus } from './evacuate';

export const DEFAULT_WATCH_INTERVAL_MS = 1000;

/** The lines of a `--watch` / `--wait` stream under --json (NDJSON), one per change. */
export type FollowEvent =
  | { type: 'step'; workflowId: string; at: string; step: NonNullable<RunbookView['status']>['steps'][number] }
  | { type: 'gate'; workflowId: string; at: string; gate: OpenGate | null; decided?: DecidedGate }
  | ({ type: 'closed'; at: string } & RunbookView);

function gateCommand(gate: OpenGate, workflowId: string): string {
  const ref = runbookRef(workflowId);
  return isInterventionGate(gate)
    ? `geofailover intervene ${ref} --action retry|skip|abort --key FILE`
    : `geofailover approve ${ref} --key FILE`;
}

/** How a gate ended, from the step log: a line even when the gate opened and closed between two polls. */
export interface DecidedGate {
  gate: string;
  kind: GateRecord['kind'];
  /** approved, rejected, timed-out, withdrawn, aborted; retry or skipped for an intervention gate */
  outcome: string;
  requestedAt: string;
  decidedAt?: string;
  /** who approved */
  approvals: string[];
}

function decidedGates(steps: readonly StepRecord[]): [string, DecidedGate][] {
  return steps.flatMap((step) =>
    (step.gates ?? []).flatMap((g, i): [string, DecidedGate][] =>
      g.outcome === undefined
        ? []
        : [
            [
              `${step.step}#${g.instance ?? i}`,
              {
                gate: g.gate,
                kind: g.kind,
                outcome: g.outcome,
                requestedAt: g.requestedAt,
                ...(g.decidedAt ? { decidedAt: g.decidedAt } : {}),
                approvals: g.votes.filter((v) => v.decision === 'approve').map((v) => v.approver),
              },
            ],
          ],
    ),
  );
}

function gateKey(gate: OpenGate | undefined): string {
  return gate ? `${gate.gate}|${gate.requestedAt}|${gate.approvals.join(',')}|${gate.escalatedAt ?? ''}` : '';
}

/**
 * Follows a runbook until its workflow closes: one event per step change (status or attempts) and per gate
 * change; on an interactive terminal a live redraw of the table instead. Resolves with the final view.
 */
export async function followRunbook(
  client: Client,
  out: Output,
  first: WorkflowExecutionDescription,
  intervalMs: number,
): Promise<RunbookView> {
  const seen = new Map<string, string>();
  let gate = '';
  const decided = new Set<string>();
  let warned = false;
  let description = first;
  for (;;) {
    const view = await readRunbook(client, description);
    const at = new Date().toISOString();
    for (const step of view.status?.steps ?? []) {
      const key = `${step.status}|${step.attempts}`;
      const before = seen.get(step.step);
      seen.set(step.step, key);
      // Pending steps are the future, not a change; everything else is news the first time it is seen.
      if (before === key || (before === undefined && step.status === 'pending')) continue;
      out.event({ type: 'step', workflowId: view.workflowId, at, step }, renderStepLine(step, at));
    }
    let closedNow = false;
    for (const [key, d] of decidedGates(view.status?.steps ?? [])) {
      if (decided.has(key)) continue;
      decided.add(key);
      closedNow = true;
      out.event(
        { type: 'gate', workflowId: view.workflowId, at, gate: null, decided: d },
        `${at.slice(11, 19)}  gate ${d.gate} ${d.outcome}` +
          (d.approvals.length ? ` (approved by ${d.approvals.join(', ')})` : ''),
      );
    }
    const openGate = view.execution === 'running' ? view.status?.openGate : undefined;
    if (view.status && gateKey(openGate) !== gate) {
      const wasOpen = gate !== '';
      gate = gateKey(openGate);
      // A gate that closed with a decision was just reported with it.
      if (openGate || !wasOpen || !closedNow) {
        out.event(
          { type: 'gate', workflowId: view.workflowId, at, gate: openGate ?? null },
          openGate
            ? `${at.slice(11, 19)}  gate ${openGate.gate}: ${openGate.approvals.length} of ${openGate.quorum} approval(s)` +
                ` — ${gateCommand(openGate, view.workflowId)}`
            : `${at.slice(11, 19)}  gate closed`,
        );
      }
    }
    if (view.note && view.execution === 'running' && !warned) {
      warned = true;
      out.warn(view.note);
    }
    out.redraw(renderStatus(view));
    if (view.execution === 'continued-as-new') {
      description = await client.workflow.getHandle(view.workflowId).describe();
      continue;
    }
    if (view.execution !== 'running') {
      out.event(
        { type: 'closed', at, ...view },
        `${at.slice(11, 19)}  ${view.workflowId} closed: ${view.outcome ?? view.execution}` +
          (view.outcomeSummary ? `: ${view.outcomeSummary}` : ''),
      );
      return view;
    }
    await sleep(intervalMs);
    description = await client.workflow.getHandle(view.workflowId, view.runId).describe();
  }
}

interface StatusOptions {
  watch?: boolean;
  json?: boolean;
  interval?: number;
}

/**
 * What `start` and `rejoin` do once their workflow started: print the result, or with --wait announce it,
 * follow the run to its end and exit 0 only when it completed.
 */
export async function reportStarted(
  client: Client,
  out: Output,
  handle: WorkflowHandle,
  started: { result: object; text: string; wait?: boolean; interval?: number },
): Promise<number> {
  if (!started.wait) {
    out.result(started.result, started.text);
    return EXIT_OK;
  }
  out.event({ type: 'started', ...started.result }, started.text);
  const view = await followRunbook(client, out, await handle.describe(), started.interval ?? DEFAULT_WATCH_INTERVAL_MS);
  if (!out.json) out.result(view, renderStatus(view).join('\n'));
  return view.outcome === 'completed' ? EXIT_OK : EXIT_FAILED;
}

/** The hidden --interval option of --wait and --watch (tests poll faster). */
export function intervalOption(what: string): Option {
  return new Option('--interval <ms>', `poll interval of ${what}`)
    .argParser(milliseconds('--interval'))
    .default(DEFAULT_WATCH_INTERVAL_MS)
    .hideHelp();
}

export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .summary('show a runbook: steps, the open gate and what to type, the outcome')
    .description(
      'Show a runbook: each step (status, attempts, duration, actor, summary), the open gate with what to type ' +
        'to answer it, and the outcome once closed. G means failover/G (or rejoin/G when only that one exists or ' +
        'is the open one); anything with a "/" is a workflow id.',
    )
    .argument('<group-or-workflow-id>', 'a group name, or a workflow id such as failover/leaderboard')
    .option('--watch', 'follow the runbook, one line per step change, until its workflow closes')
    .option('--json', 'one JSON document (with --watch: one JSON object per line)')
    .addOption(intervalOption('--watch'))
    .addHelpText(
      'after',
      `
Examples:
  geofailover status leaderboard
  geofailover status leaderboard --watch
  geofailover status failover/leaderboard --json | jq '.status.steps[] | select(.status=="running")'`,
    )
    .action(async (ref: string, opts: StatusOptions) =>
      ctx.run(opts.json === true, async (out) => {
        if (ref.startsWith('evacuate/')) {
          await evacuationStatus(ctx, out, ref, opts);
          return;
        }
        const client = await ctx.temporal();
        const description = await anyRunbook(client, ref);
        const webUi = ctx.webUi(description.workflowId, description.runId);
        const text = (view: RunbookView): string =>
          [...renderStatus(view), ...(webUi ? [`Web UI: ${webUi}`] : [])].join('\n');
        if (opts.watch) {
          const view = await followRunbook(client, out, description, opts.interval ?? DEFAULT_WATCH_INTERVAL_MS);
          if (!out.json) out.result(view, text(view));
          return;
        }
        const view = await readRunbook(client, description);
        out.result(webUi ? { ...view, webUi } : view, text(view));
      }),
    );
}
