// The people of the tests and their keys: one Ed25519 key pair each, made once per test process, and the
// signed payloads they send (built from the runbook's status, as the CLI does).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import {
  abortSignal,
  approveSignal,
  decideUpdate,
  endRehearsalSignal,
  interveneSignal,
  regionRecoveredSignal,
  rejectSignal,
  statusQuery,
  unlinkNowSignal,
  type DecideResult,
} from '../../src/contract/messages';
import type { Authorization, Proof, RunbookPolicy } from '../../src/contract/policy';
import type { GroupDefinition } from '../../src/contract/runbook';
import type { InterventionAction, RunbookStatus } from '../../src/contract/types';
import { policyDigest } from '../../src/policy/digest';
import { generateKeyPair, readPrivateKey, type PrivateKey } from '../../src/signing/node-keys';
import { signAction } from '../../src/signing/sign-action';
import {
  abortPayload,
  decisionPayload,
  endRehearsalPayload,
  interventionPayload,
  regionRecoveredPayload,
  startRequest,
  unlinkNowPayload,
  type SigningContext,
} from '../../src/signing/payloads';

export const COMMANDERS = ['sre-lead'];
export const APPROVERS = ['sre-lead', 'sre-manager', 'data-owner'];
/** someone with a key who is in no policy */
export const OUTSIDER = 'mallory';

interface Person extends PrivateKey {
  privateKeyPem: string;
}

const keys = new Map<string, Person>();

/** The person's key pair (made on first use). */
export function personKey(name: string): Person {
  let person = keys.get(name);
  if (!person) {
    const pair = generateKeyPair(`${name}@geofailover-tests`);
    person = { ...readPrivateKey(pair.privateKeyPem), privateKeyPem: pair.privateKeyPem };
    keys.set(name, person);
  }
  return person;
}

/** The configuration's `people` section for these names (default: everyone who holds a role). */
export function peopleConfig(names: readonly string[] = APPROVERS): Record<string, { keys: string[] }> {
  return Object.fromEntries(names.map((n) => [n, { keys: [personKey(n).publicKeyLine] }]));
}

/** Writes each person's private key file to `dir` (mode 600, as ssh-keygen does); name → path. */
export function writeKeyFiles(
  dir: string,
  names: readonly string[] = [...APPROVERS, OUTSIDER],
): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  return Object.fromEntries(
    names.map((n) => {
      const file = path.join(dir, `${n}.key`);
      writeFileSync(file, personKey(n).privateKeyPem, { mode: 0o600 });
      return [n, file];
    }),
  );
}

/** The policy a worker configured with this group holds, as loadPolicy returns it. */
export function policyFor(group: GroupDefinition): RunbookPolicy {
  const names = [...new Set([...group.commanders, ...group.approvers])].sort();
  const people = Object.fromEntries(names.map((n) => [n, [personKey(n).publicKeyLine]]));
  return { group, people, digest: policyDigest({ group, people }) };
}

/** A commander's signed start of `workflowId` for the member of `region`. */
export function signedStart(
  group: GroupDefinition,
  region: string,
  workflowId: string,
  options: { actor?: string; validForMs?: number; issuedAt?: Date } = {},
): Proof {
  const actor = options.actor ?? COMMANDERS[0]!;
  return startRequest(personKey(actor), {
    actor,
    workflowId,
    databaseId: group.members[region] ?? '',
    region,
    reason: `${region} outage (test)`,
    ...(options.validForMs !== undefined ? { validForMs: options.validForMs } : {}),
  });
}

async function context(handle: WorkflowHandle, actor: string): Promise<SigningContext> {
  const status = (await handle.query(statusQuery)) as RunbookStatus;
  return { key: personKey(actor), actor, workflowId: handle.workflowId, status };
}

/** `actor` decides the open gate through the `decide` update, signed. */
export async function decideAs(
  handle: WorkflowHandle,
  actor: string,
  decision: 'approve' | 'reject' = 'approve',
  comment?: string,
): Promise<DecideResult> {
  const payload = decisionPayload(await context(handle, actor), decision, comment);
  return handle.executeUpdate(decideUpdate, { args: [payload] });
}

/** `actor` approves or rejects the open gate with the plain signal, signed. */
export async function voteSignalAs(
  handle: WorkflowHandle,
  actor: string,
  decision: 'approve' | 'reject' = 'approve',
  comment?: string,
): Promise<void> {
  const { decision: _d, ...payload } = decisionPayload(await context(handle, actor), decision, comment);
  await handle.signal(decision === 'approve' ? approveSignal : rejectSignal, payload);
}

export async function interveneAs(
  handle: WorkflowHandle,
  actor: string,
  action: InterventionAction,
  comment?: string,
): Promise<void> {
  await handle.signal(interveneSignal, interventionPayload(await context(handle, actor), action, comment));
}

export async function recoveredAs(handle: WorkflowHandle, actor: string, comment?: string): Promise<void> {
  await handle.signal(regionRecoveredSignal, regionRecoveredPayload(await context(handle, actor), comment));
}

/** A commander ends a rehearsal's hold (signal endRehearsal), signed. */
export async function endRehearsalAs(handle: WorkflowHandle, actor: string, comment?: string): Promise<void> {
  await handle.signal(endRehearsalSignal, endRehearsalPayload(await context(handle, actor), comment));
}

export async function unlinkNowAs(handle: WorkflowHandle, actor: string, reason: string): Promise<void> {
  await handle.signal(unlinkNowSignal, unlinkNowPayload(await context(handle, actor), reason));
}

export async function abortAs(handle: WorkflowHandle, actor: string, reason: string): Promise<void> {
  await handle.signal(abortSignal, abortPayload(await context(handle, actor), reason));
}

/**
 * What a runbook run hands a destructive activity: sre-lead's signed start of `workflowId` naming `targets`, and
 * (for a gate) sre-manager's approval of gate instance 1 of `runId`. For activity tests that run no workflow.
 */
export function activityAuthorization(
  run: { workflowId: string; runId: string },
  targets: string[],
  gate?: 'approval-unlink' | 'approval-rejoin',
): Authorization {
  const request = signAction(personKey('sre-lead'), {
    action: 'start',
    actor: 'sre-lead',
    workflowId: run.workflowId,
    runId: null,
    targets,
  });
  if (!gate) return { request };
  const approval = signAction(personKey('sre-manager'), {
    action: 'approve',
    actor: 'sre-manager',
    workflowId: run.workflowId,
    runId: run.runId,
    gate,
    gateInstance: 1,
    targets,
  });
  return { request, approvals: [approval] };
}
