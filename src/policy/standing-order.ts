// A standing order: how a Temporal Schedule starts rehearsals while authority stays with signatures and the
// worker's configuration. A start names no run and is good for 15 minutes, so it cannot be signed for every future
// run of a schedule. Instead a commander signs once a `schedule` statement naming the schedule, the group, the
// region, the mode (rehearsal, nothing else), the spec and an expiry of at most a year; it rides in the schedule's
// action input as the run's `request`. Each run checks it against the worker's policy *at that run*: a commander
// removed from the configuration, or a key rotated out, ends the order without touching the schedule.
//
// What it never does: start an incident (mode rehearsal only), run outside the schedule's own workflow ids
// (`<action workflow id>-<nominal time>`, as Temporal names a schedule's runs), start a run long after the nominal
// time it names (a backfill of past dates, or an id made up later, is refused), or approve anything: the gates of
// a scheduled rehearsal wait for signed approvals like any other, and the order's signer is its requester (never an
// approver of it).
//
// Pure and deterministic (no clock: callers pass `nowMs`), so the workflow runs it in its sandbox and the
// destructive activities run it again. Never throws.
import {
  MAX_START_VALIDITY_MS,
  MAX_STANDING_ORDER_VALIDITY_MS,
  type Proof,
  type RunbookPolicy,
} from '../contract/policy';
import { scheduleIds, workflowIds } from '../contract/names';
import { DEFAULT_CLOCK_SKEW_MS, parseStatement, statementRefusal, verifyProof, type Statement } from '../signing';
import { parseIsoUtc } from '../signing/statement';
import { specFiresAt } from './schedule-times';
import { hasRole, type Verified, type Refused } from './verify';

export const STANDING_ORDER_ACTION = 'schedule';

/** The detail a standing order's statement carries (all strings: a statement's detail is flat text). */
export interface StandingOrderDetail {
  scheduleId: string;
  group: string;
  region: string;
  mode: 'rehearsal';
  /** the schedule's spec as the commander gave it (quarterly, a cron spec, an interval): for people reading it */
  spec: string;
  /** the rehearsal's hold, when the schedule sets one: the run must hold for exactly this */
  hold?: string;
}

export interface StandingOrderExpectation {
  /** the run's workflow id, as Temporal says (workflowInfo / the activity's info), never from the input */
  workflowId: string;
  /** the input's group and mode */
  group: string;
  mode: unknown;
  /** the input's region; omitted: not checked (the targets still are) */
  region?: string;
  /** the input's hold (`{ value: undefined }`: none); omitted: not checked */
  hold?: { value: unknown };
  /** resource ids it must authorize (the region's database) */
  targets?: string[];
  /** when the run started; omitted: times are not checked (an activity re-checking what the workflow accepted) */
  nowMs?: number;
  /**
   * the schedule that started the run, as Temporal recorded it (search attribute TemporalScheduledById); omitted:
   * not checked. A run whose start Temporal attributes to no schedule, or to another, is refused.
   */
  scheduledById?: string | null;
}

const RFC3339_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** The nominal time of a schedule's run `<actionWorkflowId>-<RFC 3339>`, or undefined when the id is not one. */
export function scheduledRunTime(actionWorkflowId: string, runWorkflowId: string): number | undefined {
  const prefix = `${actionWorkflowId}-`;
  if (!runWorkflowId.startsWith(prefix)) return undefined;
  const suffix = runWorkflowId.slice(prefix.length);
  return RFC3339_SECONDS.test(suffix) ? parseIsoUtc(suffix) : undefined;
}

/** Whether the statement text is a standing order (cheap: it does not verify anything). Never throws. */
export function isStandingOrder(proof: unknown): boolean {
  try {
    const text = (proof as { statement?: unknown } | null)?.statement;
    if (typeof text !== 'string' || text.length > 8192) return false;
    const parsed = JSON.parse(text) as { action?: unknown } | null;
    return parsed?.action === STANDING_ORDER_ACTION;
  } catch {
    return false;
  }
}

const refused = (reason: string): Refused => ({ ok: false, reason: `standing order: ${reason}` });

/**
 * Verifies a standing order for one run under the worker's policy: signed by a key of the signer, a `schedule`
 * statement of a commander of the group, for the group's rehearsal schedule and this run's group, region and hold,
 * mode rehearsal, within its validity (at most a year), and the run is one of the schedule's own runs started
 * within 15 minutes of its nominal time. Never throws.
 */
export function verifyStandingOrder(
  proof: unknown,
  policy: RunbookPolicy,
  expect: StandingOrderExpectation,
): Verified | Refused {
  try {
    const group = policy.group.name;
    if (expect.mode !== 'rehearsal') {
      return refused(`it starts rehearsals only; this run's mode is ${String(expect.mode ?? 'incident').slice(0, 20)}`);
    }
    const checked = verifyProof(proof, policy.people);
    if (!checked.ok) return refused(checked.reason);
    const s: Statement = checked.statement;
    if (s.action !== STANDING_ORDER_ACTION) return refused(`the statement is for ${s.action}, not schedule`);
    const actionWorkflowId = workflowIds.rehearsal(group);
    const scheduleId = scheduleIds.rehearsal(group);
    const d = s.detail ?? {};
    const bindings: [string, string | undefined, string | undefined][] = [
      ['group', d.group, group],
      ['group', expect.group, group],
      ['schedule', d.scheduleId, scheduleId],
      ['mode', d.mode, 'rehearsal'],
    ];
    if (expect.region !== undefined) bindings.push(['region', d.region, expect.region]);
    if (expect.hold)
      bindings.push(['hold', d.hold, typeof expect.hold.value === 'string' ? expect.hold.value : undefined]);
    for (const [what, got, want] of bindings) {
      if (got !== want) {
        return refused(`it is for ${what} ${String(got ?? 'none').slice(0, 80)}, not ${String(want ?? 'none')}`);
      }
    }
    if (s.runId !== null) return refused('it names a run; a standing order names the schedule, not a run');
    const refusal = statementRefusal(s, {
      actions: [STANDING_ORDER_ACTION],
      workflowId: actionWorkflowId,
      gate: null,
      ...(expect.targets ? { targets: expect.targets } : {}),
      // Without a clock (an activity re-checking what the workflow accepted), time is not what is being proven.
      nowMs: expect.nowMs ?? Date.parse(s.issuedAt),
      maxLifetimeMs: MAX_STANDING_ORDER_VALIDITY_MS,
    });
    if (refusal) return refused(refusal);
    const nominal = scheduledRunTime(actionWorkflowId, expect.workflowId);
    if (nominal === undefined) {
      return refused(
        `run ${expect.workflowId.slice(0, 120)} is not a run of schedule ${scheduleId} ` +
          `(its runs are ${actionWorkflowId}-<time>)`,
      );
    }
    const fires = specFiresAt(d.spec, nominal);
    if (fires !== true) {
      const spec = JSON.stringify(String(d.spec ?? 'none').slice(0, 80));
      return refused(
        fires === undefined
          ? `its spec ${spec} is not one a rehearsal schedule has`
          : `the run names ${new Date(nominal).toISOString()}, which is not a time of its spec ${spec}`,
      );
    }
    if (expect.nowMs !== undefined) {
      // Like a start, each scheduled run is good only near the moment it names: no backfill of past dates.
      if (expect.nowMs < nominal - DEFAULT_CLOCK_SKEW_MS || expect.nowMs > nominal + MAX_START_VALIDITY_MS) {
        return refused(
          `the run names ${new Date(nominal).toISOString()} but started at ${new Date(expect.nowMs).toISOString()}: ` +
            `a scheduled run must start within ${MAX_START_VALIDITY_MS / 60_000} minutes of its time`,
        );
      }
      if (nominal >= (parseIsoUtc(s.expiresAt) ?? 0)) return refused(`it expired at ${s.expiresAt}`);
    }
    if (expect.scheduledById !== undefined && expect.scheduledById !== scheduleId) {
      return refused(
        expect.scheduledById === null
          ? `Temporal says no schedule started this run; only schedule ${scheduleId} may`
          : `Temporal says schedule ${expect.scheduledById.slice(0, 120)} started this run, not ${scheduleId}`,
      );
    }
    if (!hasRole(policy, checked.signer, 'commander')) {
      return refused(
        `${checked.signer} is not a commander of group ${group} (commanders: ${policy.group.commanders.join(', ')})`,
      );
    }
    return { ok: true, statement: s, signer: checked.signer, fingerprint: checked.fingerprint };
  } catch {
    return refused('it could not be checked');
  }
}

/** What a standing order says, for people and for the CLI that lists schedules; undefined when it is none. */
export function standingOrderSummary(
  proof: Proof | undefined,
): { signer: string; issuedAt: string; expiresAt: string; detail: Record<string, string> } | undefined {
  if (!proof || !isStandingOrder(proof)) return undefined;
  const parsed = parseStatement(proof.statement);
  if (!parsed.ok) return undefined;
  const s = parsed.statement;
  return { signer: s.actor, issuedAt: s.issuedAt, expiresAt: s.expiresAt, detail: { ...(s.detail ?? {}) } };
}
