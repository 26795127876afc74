// The statement a person signs for each runbook decision: what it authorizes, for which workflow, run and
// gate, and for how long. Sandbox-safe: no clock (callers pass `nowMs`), no Node built-ins.
import { kindOf, quote } from './wire';

export const STATEMENT_ACTIONS = [
  'start',
  'approve',
  'reject',
  'intervene',
  'unlinkNow',
  'regionRecovered',
  'endRehearsal',
  'abort',
  'rejoin',
  'evidence',
  // a standing order: lets one Temporal Schedule start rehearsals of one group (src/policy/standing-order.ts)
  'schedule',
] as const;
export type StatementAction = (typeof STATEMENT_ACTIONS)[number];

export interface Statement {
  v: 1;
  action: StatementAction;
  /** The person, as named in the worker's configuration (and in allowed_signers). */
  actor: string;
  workflowId: string;
  /** null for `start`, where no run exists yet. */
  runId: string | null;
  gate: string | null;
  gateInstance: number | null;
  /** Azure resource ids the decision applies to; compared exactly. */
  targets: string[];
  comment: string;
  /** ISO 8601 UTC, e.g. 2025-01-02T03:04:05.000Z. */
  issuedAt: string;
  expiresAt: string;
  /** Unique per statement, so one signature cannot be replayed as a second decision. */
  nonce: string;
  /** Action specifics, flat text: e.g. the intervene action (retry|skip|abort), the failed region, the reason. */
  detail?: Record<string, string>;
}

export const MAX_STATEMENT_TEXT = 8192;
export const MAX_STATEMENT_STRING = 2000;
export const MAX_TARGETS = 32;
export const MAX_TARGET_LENGTH = 512;
export const MAX_DETAIL_ENTRIES = 32;
export const ACTOR_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const NONCE_PATTERN = /^[A-Za-z0-9._-]{8,128}$/;
const DETAIL_KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const FIELDS = new Set([
  'v',
  'action',
  'actor',
  'workflowId',
  'runId',
  'gate',
  'gateInstance',
  'targets',
  'comment',
  'issuedAt',
  'expiresAt',
  'nonce',
  'detail',
]);
export const DEFAULT_MAX_LIFETIME_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60 * 1000;

export type ParseStatementResult = { ok: true; statement: Statement } | { ok: false; reason: string };

/** JSON with object keys sorted at every level and no whitespace: the exact text that gets signed. */
export function canonicalStatement(s: Statement): string {
  return canonicalJson(s);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Milliseconds since the epoch of a strict ISO 8601 UTC timestamp, or undefined (Date.parse rolls 02-30 over). */
export function parseIsoUtc(text: string): number | undefined {
  if (!ISO_UTC.test(text)) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) return undefined;
  return new Date(ms).toISOString().slice(0, 19) === text.slice(0, 19) ? ms : undefined;
}

/**
 * JSON.parse keeps the last of two equal keys; a reader of the signed text may see the first. Refusing
 * duplicates keeps what the signer saw and what the worker acts on the same. Only called on valid JSON.
 */
function hasDuplicateKey(text: string): boolean {
  const stack: (Set<string> | undefined)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      let k = j + 1;
      while (k < text.length && /\s/.test(text[k]!)) k++;
      const keys = stack[stack.length - 1];
      if (text[k] === ':' && keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string; // decodes escapes: "\u0061" and "a" collide
        if (keys.has(key)) return true;
        keys.add(key);
      }
      i = j;
    } else if (c === '{') stack.push(new Set());
    else if (c === '[') stack.push(undefined);
    else if (c === '}' || c === ']') stack.pop();
  }
  return false;
}

function boundedString(name: string, value: unknown, max: number, allowEmpty: boolean): string | undefined {
  if (typeof value !== 'string') return `the statement's ${name} must be a string, not ${kindOf(value)}`;
  if (value.length > max) return `the statement's ${name} is longer than ${max} characters`;
  if (!allowEmpty && value === '') return `the statement's ${name} is empty`;
  return undefined;
}

function nullableString(name: string, value: unknown): string | undefined {
  return value === null ? undefined : boundedString(name, value, MAX_STATEMENT_STRING, false);
}

/** The first problem with the statement's fields, or undefined. */
function fieldProblem(o: Record<string, unknown>): string | undefined {
  for (const key of Object.keys(o)) {
    if (!FIELDS.has(key)) return `the statement has an unknown field ${quote(key)}`;
  }
  if (o.v !== 1) return `the statement's v must be 1 (this worker's statement format), not ${describeValue(o.v)}`;
  if (typeof o.action !== 'string' || !(STATEMENT_ACTIONS as readonly string[]).includes(o.action)) {
    return `the statement's action ${describeValue(o.action)} is not one of ${STATEMENT_ACTIONS.join(', ')}`;
  }
  if (typeof o.actor !== 'string' || !ACTOR_PATTERN.test(o.actor)) {
    return `the statement's actor ${describeValue(o.actor)} is not a person's name (lower case letters, digits, . _ -)`;
  }
  const stringProblem =
    boundedString('workflowId', o.workflowId, MAX_STATEMENT_STRING, false) ??
    nullableString('runId', o.runId) ??
    nullableString('gate', o.gate) ??
    boundedString('comment', o.comment, MAX_STATEMENT_STRING, true);
  if (stringProblem) return stringProblem;
  if (o.gateInstance !== null && !(Number.isSafeInteger(o.gateInstance) && (o.gateInstance as number) >= 0)) {
    return `the statement's gateInstance must be null or a whole number >= 0, not ${describeValue(o.gateInstance)}`;
  }
  if (!Array.isArray(o.targets)) return `the statement's targets must be an array, not ${kindOf(o.targets)}`;
  if (o.targets.length > MAX_TARGETS) return `the statement names more than ${MAX_TARGETS} targets`;
  for (const target of o.targets as unknown[]) {
    const problem = boundedString('target', target, MAX_TARGET_LENGTH, false);
    if (problem) return problem;
  }
  for (const name of ['issuedAt', 'expiresAt'] as const) {
    const value = o[name];
    if (typeof value !== 'string' || value.length > 64 || parseIsoUtc(value) === undefined) {
      return `the statement's ${name} ${describeValue(value)} is not an ISO 8601 UTC time like 2025-01-02T03:04:05.000Z`;
    }
  }
  if (parseIsoUtc(o.expiresAt as string)! <= parseIsoUtc(o.issuedAt as string)!) {
    return "the statement's expiresAt is not after its issuedAt";
  }
  if (typeof o.nonce !== 'string' || !NONCE_PATTERN.test(o.nonce)) {
    return `the statement's nonce ${describeValue(o.nonce)} must be 8 to 128 letters, digits, . _ or -`;
  }
  if (o.detail !== undefined) {
    const d = o.detail;
    if (d === null || typeof d !== 'object' || Array.isArray(d)) {
      return `the statement's detail must be an object of strings, not ${kindOf(d)}`;
    }
    const entries = Object.entries(d);
    if (entries.length > MAX_DETAIL_ENTRIES)
      return `the statement's detail has more than ${MAX_DETAIL_ENTRIES} entries`;
    for (const [key, value] of entries) {
      if (!DETAIL_KEY_PATTERN.test(key)) return `the statement's detail key ${quote(key)} is not a plain name`;
      const problem = boundedString(`detail.${key}`, value, MAX_STATEMENT_STRING, true);
      if (problem) return problem;
    }
  }
  return undefined;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return quote(String(value));
  return kindOf(value);
}

/** Parses and validates signed statement text; never throws. Any JSON layout is accepted, duplicate keys are not. */
export function parseStatement(text: unknown): ParseStatementResult {
  try {
    if (typeof text !== 'string') return { ok: false, reason: `the statement must be JSON text, not ${kindOf(text)}` };
    if (text.length > MAX_STATEMENT_TEXT) {
      return { ok: false, reason: `the statement is longer than ${MAX_STATEMENT_TEXT} characters` };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { ok: false, reason: 'the statement is not valid JSON' };
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return { ok: false, reason: `the statement must be a JSON object, not ${kindOf(parsed)}` };
    }
    if (hasDuplicateKey(text)) return { ok: false, reason: 'the statement has a field given twice' };
    const o = parsed as Record<string, unknown>;
    const problem = fieldProblem(o);
    if (problem) return { ok: false, reason: problem };
    const statement: Statement = {
      v: 1,
      action: o.action as StatementAction,
      actor: o.actor as string,
      workflowId: o.workflowId as string,
      runId: o.runId as string | null,
      gate: o.gate as string | null,
      gateInstance: o.gateInstance as number | null,
      targets: [...(o.targets as string[])],
      comment: o.comment as string,
      issuedAt: o.issuedAt as string,
      expiresAt: o.expiresAt as string,
      nonce: o.nonce as string,
    };
    if (o.detail !== undefined) statement.detail = { ...(o.detail as Record<string, string>) };
    return { ok: true, statement };
  } catch {
    return { ok: false, reason: 'the statement could not be read' };
  }
}

export interface StatementExpectation {
  /** The actions this decision point accepts. */
  actions: readonly string[];
  workflowId: string;
  /** When given, the statement must name exactly this run. */
  runId?: string;
  /** When given (null included), the statement's gate must equal it. */
  gate?: string | null;
  gateInstance?: number | null;
  /** Every one of these must be among the statement's targets. */
  targets?: readonly string[];
  nowMs: number;
  maxLifetimeMs?: number;
  clockSkewMs?: number;
}

function orNone(value: string | null, none: string): string {
  return value === null ? none : quote(value);
}

/** Why this (valid, verified) statement does not authorize the decision at hand, or undefined when it does. */
export function statementRefusal(s: Statement, expect: StatementExpectation): string | undefined {
  if (!expect.actions.includes(s.action)) {
    return `the statement is for ${quote(s.action)}, but this decision takes ${quote(expect.actions.join(' or '))}`;
  }
  if (s.workflowId !== expect.workflowId) {
    return `the statement is for workflow ${quote(s.workflowId)}, not ${quote(expect.workflowId)}`;
  }
  if (expect.runId !== undefined && s.runId !== expect.runId) {
    return `the statement is for run ${orNone(s.runId, 'none')}, not this run ${quote(expect.runId)}`;
  }
  if (expect.gate !== undefined && s.gate !== expect.gate) {
    return `the statement is for gate ${orNone(s.gate, 'none')}, not ${orNone(expect.gate, 'none')}`;
  }
  if (expect.gateInstance !== undefined && s.gateInstance !== expect.gateInstance) {
    return `the statement is for gate instance ${s.gateInstance ?? 'none'}, not ${expect.gateInstance ?? 'none'}`;
  }
  const issued = parseIsoUtc(s.issuedAt);
  const expires = parseIsoUtc(s.expiresAt);
  if (issued === undefined || expires === undefined) return "the statement's times are not ISO 8601 UTC";
  if (!Number.isFinite(expect.nowMs)) return 'the current time is unknown, so the statement cannot be checked';
  const now = new Date(expect.nowMs).toISOString();
  const skew = expect.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  if (issued > expect.nowMs + skew) {
    return `the statement is not valid yet: issued at ${quote(s.issuedAt)}, after the worker's time ${now} (check the signer's clock)`;
  }
  if (expires <= expect.nowMs) return `the statement expired at ${quote(s.expiresAt)} (worker time ${now})`;
  const maxLifetime = expect.maxLifetimeMs ?? DEFAULT_MAX_LIFETIME_MS;
  if (expires - issued > maxLifetime) {
    return `the statement is valid for ${hours(expires - issued)}, longer than the ${hours(maxLifetime)} allowed`;
  }
  for (const target of expect.targets ?? []) {
    if (!s.targets.includes(target)) return `the statement does not name the target ${quote(target)}`;
  }
  return undefined;
}

function hours(ms: number): string {
  const h = ms / 3_600_000;
  return `${Number.isInteger(h) ? h : h.toFixed(2)} h`;
}
