/** What `recovered`, `unlink-now`, `intervene` and `abort` share: find the open runbook, sign, signal it. */
import type { Command } from 'commander';
import type { SigningContext } from '../../signing/payloads';
import { NothingToSignError } from '../../signing/payloads';
import { readRunbook, signalRunbook, type RunbookSignal } from '../../starter';
import type { CliContext } from '../context';
import { EXIT_OK, RefusedError } from '../errors';
import type { Output } from '../output';
import { runbookRef } from '../render';
import { loadCliConfig } from '../resolve';
import { loadSigner, tryLoadConfig, type CliSigner, type SignerOptions } from '../signer';
import { globalOptions, openRunbook } from './shared';

/** What these commands print under --json. */
export interface SignalOutput {
  workflowId: string;
  runId: string;
  signal: RunbookSignal['name'];
  payload: RunbookSignal['payload'];
  sentAt: string;
  /** `SHA256:…` of the key that signed it */
  fingerprint: string;
}

export interface SigningCommandOptions extends SignerOptions {
  /** print the signed payload (for `temporal workflow signal --input-file`) instead of sending it */
  printPayload?: boolean;
  json?: boolean;
}

const QUERY_TIMEOUT_MS = 3000;

/** The signer and the open runbook's signing context (run id, open gate) for a command acting on `ref`. */
export async function signingContext(
  ctx: CliContext,
  command: Command,
  ref: string,
  opts: SignerOptions,
): Promise<{ signer: CliSigner; signing: SigningContext; description: Awaited<ReturnType<typeof openRunbook>> }> {
  const loaded = tryLoadConfig(() => loadCliConfig(globalOptions(command).config));
  const signer = loadSigner(loaded, opts, ctx.env);
  const client = await ctx.temporal(signer.actor);
  const description = await openRunbook(client, ref);
  let openGate;
  try {
    openGate = (await readRunbook(client, description, { queryTimeoutMs: QUERY_TIMEOUT_MS })).status?.openGate;
  } catch {
    openGate = undefined;
  }
  const signing: SigningContext = {
    key: signer.key,
    actor: signer.actor,
    workflowId: description.workflowId,
    status: { runId: description.runId, ...(openGate ? { openGate } : {}) },
    ...(signer.validForMs !== undefined ? { validForMs: signer.validForMs } : {}),
  };
  return { signer, signing, description };
}

/** A statement that cannot be made (no gate open) is a refusal that says what to do. */
export function buildPayload<T>(build: () => T, ref: string): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof NothingToSignError) {
      throw new RefusedError(
        e.message,
        `see what the runbook waits for: geofailover status ${runbookRef(ref)}`,
        'no-gate',
      );
    }
    throw e;
  }
}

/** Prints a signed payload for the plain Temporal CLI: the JSON alone on stdout, the command to use on stderr. */
export function printPayload(out: Output, payload: unknown, workflowId: string, name: string, update = false): number {
  const file = `${name}.json`;
  out.warn(
    update
      ? `send it with: temporal workflow update execute --workflow-id ${workflowId} --name ${name} --input-file ${file}`
      : `send it with: temporal workflow signal --workflow-id ${workflowId} --name ${name} --input-file ${file}`,
  );
  out.result(payload, JSON.stringify(payload, null, 2));
  return EXIT_OK;
}

/**
 * Signs and sends a signal to the open runbook `ref` means. Signals are recorded in the history even with no
 * worker running; the runbook records what it does with them (accepted, or refused and why) in its step log.
 * @throws RefusedError when no runbook of the group is open.
 */
export async function sendSignal(
  ctx: CliContext,
  out: Output,
  command: Command,
  ref: string,
  opts: SigningCommandOptions,
  build: (signing: SigningContext) => RunbookSignal,
  what: string,
): Promise<number> {
  const { signer, signing, description } = await signingContext(ctx, command, ref, opts);
  const signal = buildPayload(() => build(signing), ref);
  if (opts.printPayload) return printPayload(out, signal.payload, description.workflowId, signal.name);
  const client = await ctx.temporal(signer.actor);
  await signalRunbook(client, description.workflowId, signal);
  const result: SignalOutput = {
    workflowId: description.workflowId,
    runId: description.runId,
    signal: signal.name,
    payload: signal.payload,
    sentAt: new Date().toISOString(),
    fingerprint: signer.fingerprint,
  };
  out.result(
    result,
    `sent ${signal.name} to ${description.workflowId}, signed by ${signer.actor} (${signer.fingerprint}): ${what}\n` +
      `  see what the runbook does with it: geofailover status ${runbookRef(description.workflowId)} --watch`,
  );
  return EXIT_OK;
}
