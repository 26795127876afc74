// What regionEvacuation checks before it starts anything. The input is any JSON from anyone who can reach the
// namespace: checked as `unknown`, never thrown on, every problem one bounded sentence. Pure.
import { MAX_EVACUATION_CONCURRENCY, MAX_EVACUATION_GROUPS } from '../../contract/evacuation';
import { inputProblems, isObject, shown } from '../runbook/validate-input';

const REGION = /^[a-z][a-z0-9]{1,39}$/;
const GROUP_NAME = /^[A-Za-z0-9-]{1,63}$/;
const FIELDS = ['region', 'reason', 'request', 'starts', 'concurrency', 'tuning'];

/** Every problem of an evacuation's input; empty when its shape is right. Signatures are checked afterwards. */
export function evacuationInputProblems(input: unknown): string[] {
  if (!isObject(input)) return [`the input must be an object, not ${shown(input)}`];
  const problems: string[] = [];
  const unknown = Object.keys(input).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0) {
    problems.push(
      `unknown field(s) ${unknown.slice(0, 5).map(shown).join(', ')}: the input names the region, the reason and the ` +
        "signed starts; the groups, people and roles come from the worker's configuration",
    );
  }
  if (typeof input.region !== 'string' || !REGION.test(input.region)) {
    problems.push(`region is ${shown(input.region)}, expected an Azure region name such as eastus`);
  }
  const concurrency = input.concurrency;
  if (
    concurrency !== undefined &&
    !(
      Number.isInteger(concurrency) &&
      (concurrency as number) >= 1 &&
      (concurrency as number) <= MAX_EVACUATION_CONCURRENCY
    )
  ) {
    problems.push(
      `concurrency is ${shown(concurrency)}, expected a whole number from 1 to ${MAX_EVACUATION_CONCURRENCY}`,
    );
  }
  // The evacuation's own request, reason and tuning have the runbook's shape: checked by the runbook's rules.
  const region = typeof input.region === 'string' ? input.region : 'eastus';
  problems.push(
    ...inputProblems('failover', {
      group: 'evacuation',
      failedRegion: REGION.test(region) ? region : 'eastus',
      reason: input.reason,
      request: input.request,
      ...(input.tuning !== undefined ? { tuning: input.tuning } : {}),
    }),
  );
  const starts = input.starts;
  if (!isObject(starts)) {
    problems.push('starts must map each group to its signed start (geofailover evacuate signs them)');
  } else {
    const names = Object.keys(starts);
    if (names.length > MAX_EVACUATION_GROUPS) {
      problems.push(`starts names ${names.length} groups; an evacuation handles at most ${MAX_EVACUATION_GROUPS}`);
    }
    const bad = names.filter((n) => !GROUP_NAME.test(n));
    if (bad.length > 0) problems.push(`starts names ${bad.slice(0, 3).map(shown).join(', ')}, not group names`);
    for (const [name, proof] of Object.entries(starts).slice(0, MAX_EVACUATION_GROUPS)) {
      if (
        !isObject(proof) ||
        typeof proof.statement !== 'string' ||
        typeof proof.signature !== 'string' ||
        proof.statement.length > 8192 ||
        proof.signature.length > 4096
      ) {
        problems.push(`the start of ${shown(name)} must be a signed {"statement", "signature"}`);
        break;
      }
    }
  }
  return problems;
}

/** Why a batch approval payload is malformed; undefined when it is well formed. Never throws. */
export function batchPayloadProblem(payload: unknown): string | undefined {
  if (!isObject(payload)) return 'expected an object such as {"approver":"NAME","groups":[...],"proof":{...}}';
  if (typeof payload.approver !== 'string' || !payload.approver || payload.approver.length > 64) {
    return 'approver must be a name';
  }
  if (payload.comment !== undefined && (typeof payload.comment !== 'string' || payload.comment.length > 2000)) {
    return 'comment must be a string of at most 2000 characters';
  }
  const groups = payload.groups;
  if (
    !Array.isArray(groups) ||
    groups.length === 0 ||
    groups.length > 32 ||
    !groups.every((g) => typeof g === 'string' && GROUP_NAME.test(g))
  ) {
    return 'groups must list 1 to 32 group names';
  }
  if (!isObject(payload.proof)) return 'proof must be the signed statement';
  return undefined;
}
