/**
 * The auditor's own check of every signed decision in a history: each proof is verified again here, against
 * the people and keys of the policy the worker recorded (its `loadPolicy` result), never taken from the
 * step log's word. A decision whose signature does not verify is reported as refused, whatever the runbook said.
 */
import type { RunbookPolicy } from '../../contract/policy';
import type { GroupDefinition } from '../../contract/runbook';
import { policyDigest } from '../../policy/digest';
import { isStandingOrder, verifyStandingOrder } from '../../policy/standing-order';
import { hasRole, verifySigned } from '../../policy/verify';
import { parsePublicKey, parseStatement, verifyProof, type Statement } from '../../signing';
import type { ActivityEvents } from './events';
import { isRecord, str } from './observations';

/** What the auditor found when it checked one proof. */
export interface SignatureCheck {
  verified: boolean;
  /** the statement's actor (the signer, when verified) */
  signer?: string;
  /** `SHA256:…` of the key that signed it, when the signature itself could be read */
  fingerprint?: string;
  /** why it does not verify */
  reason?: string;
  /** the statement's action, gate and instance, when it parses */
  action?: string;
  gate?: string | null;
  gateInstance?: number | null;
  nonce?: string;
}

/** The policy as the history recorded it, or why there is none. */
export interface RecordedPolicy {
  policy: RunbookPolicy;
  /** the ActivityTaskCompleted event that carries it */
  eventId: number;
  /** whether `digest` is the digest of the recorded group and people */
  digestMatches: boolean;
  /** the origin of the ARM endpoint the worker acted through, when its loadPolicy recorded it */
  armEndpoint?: string;
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** The worker's policy from the first completed `loadPolicy` activity that found it; undefined when none. */
export function recordedPolicy(activities: readonly ActivityEvents[]): RecordedPolicy | undefined {
  for (const a of activities) {
    if (a.type !== 'loadPolicy' || a.outcome !== 'completed' || !isRecord(a.result)) continue;
    if (a.result.found !== true || !isRecord(a.result.policy)) continue;
    const p = a.result.policy;
    if (!isRecord(p.group) || typeof p.group.name !== 'string' || !isRecord(p.people)) continue;
    const people: Record<string, string[]> = {};
    for (const [name, keys] of Object.entries(p.people)) if (isStringArray(keys)) people[name] = [...keys];
    const group = p.group as unknown as GroupDefinition;
    const digest = str(p.digest) ?? '';
    const policy: RunbookPolicy = { group, people, digest };
    let digestMatches = false;
    try {
      digestMatches = policyDigest({ group, people }) === digest;
    } catch {
      digestMatches = false;
    }
    const armEndpoint = str(a.result.armEndpoint)?.slice(0, 200);
    return {
      policy,
      eventId: a.closedEventId ?? a.scheduledEventId,
      digestMatches,
      ...(armEndpoint ? { armEndpoint } : {}),
    };
  }
  return undefined;
}

/** person → the fingerprints of their keys in the policy (unreadable keys are left out). */
export function keyFingerprints(people: Record<string, readonly string[]>): Record<string, string[]> {
  return Object.fromEntries(
    Object.keys(people)
      .sort()
      .map((name) => [
        name,
        (people[name] ?? []).flatMap((line) => {
          const key = parsePublicKey(line);
          return key.ok ? [key.key.fingerprint] : [];
        }),
      ]),
  );
}

/** A gate as the step log recorded it: what a statement deciding it must name. */
export interface RecordedGate {
  gate: string;
  instance?: number;
  targets?: string[];
}

/** The run a decision is checked against: the run it names when that is one of the incident's runs. */
function runOfDecision(proof: unknown, expect: DecisionExpectation): string | undefined {
  if (!expect.runIds || expect.runIds.length < 2) return expect.runId;
  const parsed = parseStatement((proof as { statement?: unknown } | null)?.statement);
  const named = parsed.ok ? parsed.statement.runId : null;
  return named !== null && expect.runIds.includes(named) ? named : expect.runId;
}

export interface DecisionExpectation {
  /** the signal or update name: approve, reject, decide, intervene, regionRecovered, unlinkNow, abort, start */
  name: string;
  payload: unknown;
  workflowId: string;
  runId?: string;
  /** an incident that continued as new: a decision may name any of its runs (each run verified its own) */
  runIds?: readonly string[];
  /** when the decision reached the runbook (the event time): the statement must be valid then */
  atMs: number;
  /** the gates of the step log; undefined while the runbook runs (gate records come with its result) */
  gates?: readonly RecordedGate[];
  /** the start only: the database the request must name */
  startTarget?: string;
  /** the start only: the run's mode (a standing order starts rehearsals only) */
  mode?: unknown;
}

type Rule = { actions: Statement['action'][]; roles: ('commander' | 'approver')[]; gated: boolean };

/** What a signed decision of this name must be: the statement actions, the roles and whether it names a gate. */
function ruleOf(name: string, payload: unknown): Rule | undefined {
  const p = isRecord(payload) ? payload : {};
  switch (name) {
    case 'approve':
    case 'reject':
      return { actions: [name], roles: ['approver'], gated: true };
    case 'decide':
      return p.decision === 'approve' || p.decision === 'reject'
        ? { actions: [p.decision], roles: ['approver'], gated: true }
        : undefined;
    case 'intervene':
      return { actions: ['intervene'], roles: ['commander', 'approver'], gated: true };
    case 'regionRecovered':
    case 'unlinkNow':
    case 'abort':
      return { actions: [name], roles: ['commander'], gated: false };
    case 'start':
      return { actions: ['start'], roles: ['commander'], gated: false };
    default:
      return undefined;
  }
}

/**
 * Checks the proof of one decision against the recorded policy: the signature and the signer's key, the
 * statement's binding (workflow, run, action, gate and instance as the step log recorded them, targets), its
 * validity at the time the decision arrived, and the signer's role. Never throws.
 */
export function checkDecision(
  proof: unknown,
  recorded: RecordedPolicy | undefined,
  expect: DecisionExpectation,
): SignatureCheck {
  const rule = ruleOf(expect.name, expect.payload);
  if (!rule) return { verified: false, reason: `${expect.name} is not a signed decision this audit knows` };
  if (!recorded) {
    return { verified: false, reason: 'the history holds no worker policy (loadPolicy result) to check it against' };
  }
  if (proof === undefined || proof === null) {
    return { verified: false, reason: 'unsigned: the payload carries no proof' };
  }
  const { policy } = recorded;
  // First the signature and the signer's key alone, to name signer and key even when the binding is wrong.
  const basic = verifyProof(proof, policy.people);
  if (!basic.ok) return { verified: false, ...(basic.actor ? { signer: basic.actor } : {}), reason: basic.reason };
  const partial: SignatureCheck = {
    verified: false,
    signer: basic.signer,
    fingerprint: basic.fingerprint,
    action: basic.statement.action,
    gate: basic.statement.gate,
    gateInstance: basic.statement.gateInstance,
    nonce: basic.statement.nonce,
  };

  let gateExpectation: { gate?: string | null; gateInstance?: number | null; targets?: string[] } = {};
  if (!rule.gated) gateExpectation = { gate: null };
  else if (expect.gates) {
    const named = basic.statement.gate;
    const record = expect.gates.find(
      (g) => g.gate === named && (g.instance === undefined || g.instance === basic.statement.gateInstance),
    );
    if (!record) {
      return {
        ...partial,
        reason: `the statement is for gate ${named ?? 'none'} #${basic.statement.gateInstance ?? '?'}, which the step log does not record`,
      };
    }
    gateExpectation = {
      gate: record.gate,
      ...(record.instance !== undefined ? { gateInstance: record.instance } : {}),
      ...(record.targets ? { targets: record.targets } : {}),
    };
  }
  if (expect.name === 'start' && isStandingOrder(proof)) {
    // A scheduled rehearsal's request is a commander's standing order, checked as validate-input checks it.
    const order = verifyStandingOrder(proof, policy, {
      workflowId: expect.workflowId,
      group: policy.group.name,
      mode: expect.mode,
      ...(expect.startTarget !== undefined ? { targets: [expect.startTarget] } : {}),
      nowMs: expect.atMs,
    });
    return order.ok
      ? { ...partial, verified: true, signer: order.signer, fingerprint: order.fingerprint }
      : { ...partial, reason: order.reason };
  }
  const runId = runOfDecision(proof, expect);
  const full = verifySigned(proof, policy, {
    actions: rule.actions,
    workflowId: expect.workflowId,
    ...(runId !== undefined && expect.name !== 'start' ? { runId } : {}),
    ...gateExpectation,
    ...(expect.startTarget !== undefined ? { targets: [expect.startTarget] } : {}),
    nowMs: expect.atMs,
  });
  if (!full.ok) return { ...partial, reason: full.reason };
  if (!rule.roles.some((role) => hasRole(policy, full.signer, role))) {
    return {
      ...partial,
      reason: `${full.signer} is not a ${rule.roles.join(' or ')} of group ${policy.group.name}`,
    };
  }
  if (expect.name === 'intervene') {
    const asked = isRecord(expect.payload) ? expect.payload.action : undefined;
    if (full.statement.detail?.action !== asked) {
      return {
        ...partial,
        reason: `the statement signs intervene ${String(full.statement.detail?.action)}, not ${String(asked)}`,
      };
    }
  }
  if (
    expect.name === 'start' &&
    full.statement.runId !== null &&
    expect.runId &&
    full.statement.runId !== expect.runId
  ) {
    return { ...partial, reason: `the signed request names run ${full.statement.runId}, not this run` };
  }
  return {
    verified: true,
    signer: full.signer,
    fingerprint: full.fingerprint,
    action: full.statement.action,
    gate: full.statement.gate,
    gateInstance: full.statement.gateInstance,
    nonce: full.statement.nonce,
  };
}

/** The proof a payload carries, if it looks like one. */
export function proofOf(payload: unknown): { statement: string; signature: string } | undefined {
  if (!isRecord(payload) || !isRecord(payload.proof)) return undefined;
  const { statement, signature } = payload.proof;
  return typeof statement === 'string' && typeof signature === 'string' ? { statement, signature } : undefined;
}
