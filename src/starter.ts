/**
 * The client side of geofailover: connect, start runbooks, find them by group, read their status, send
 * decisions and signals. The CLI is a thin layer over these functions.
 */
import { hostname } from 'node:os';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type {
  WorkflowExecutionDescription,
  WorkflowHandle,
  WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { WorkflowNotFoundError, type SearchAttributePair } from '@temporalio/common';
import {
  abortSignal,
  decideUpdate,
  interveneSignal,
  regionRecoveredSignal,
  statusQuery,
  unlinkNowSignal,
  type DecideResult,
} from './contract/messages';
import { RUNBOOK_PHASES, scheduleIds, TASK_QUEUE, WORKFLOW_TYPES, workflowIds } from './contract/names';
import type { ReadinessCheckInput } from './contract/readiness';
import type {
  FailoverRunbookInput,
  GroupDefinition,
  RejoinRunbookInput,
  RunbookOutcome,
  RunbookResult,
} from './contract/runbook';
import { SEARCH_ATTRIBUTE_KEYS } from './contract/search-attributes';
import type {
  AbortPayload,
  DecidePayload,
  InterventionPayload,
  RegionRecoveredPayload,
  RunbookStatus,
  UnlinkNowPayload,
} from './contract/types';
import type { GeofailoverConfig } from './config/schema';
import { RefusedError } from './contract/errors';
import { policyDigestFor } from './policy/from-config';
import { startRequest, type SigningKey } from './signing/payloads';
import { connectTemporalClient } from './temporal/client';
import { describeSchedule } from './temporal/schedules';
import { resolveTemporalSettings } from './temporal/connection';
import type { readinessCheck } from './workflows';

export interface ConnectClientOptions {
  /** envconfig profile; default: TEMPORAL_PROFILE or 'default' */
  profile?: string;
  /**
   * The client identity Temporal records on every signal, update and start (WorkflowExecutionSignaled
   * `identity`); default the SDK's `pid@host`. The CLI passes who acts, so history names them.
   */
  identity?: string;
}

/**
 * Connects a Temporal client the conventional way, as the CLI does (src/temporal/connection.ts): the envconfig
 * profile file, then TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and TEMPORAL_TLS_* variables (default
 * localhost:7233, namespace 'default'). Close it with `client.connection.close()`.
 * @throws TemporalSettingsError when the settings cannot work; TemporalConnectError (saying why and what to do)
 *   when the server cannot be reached.
 */
export async function connectClient(options: ConnectClientOptions = {}): Promise<Client> {
  const settings = resolveTemporalSettings(
    options.profile !== undefined ? { flags: { profile: options.profile } } : {},
  );
  return connectTemporalClient(settings, options.identity !== undefined ? { identity: options.identity } : {});
}

/** The identity the CLI acts under: `geofailover:<who>@<host>`. */
export function cliIdentity(by: string): string {
  return `geofailover:${by}@${hostname()}`;
}

export interface StartOptions {
  /** default: TASK_QUEUE ('geofailover') */
  taskQueue?: string;
  /** who signed the start, for the run's summary (the runbook itself reads the signer from the signature) */
  requestedBy?: string;
}

/**
 * Starts `readinessCheck` for one group, with workflow id `readiness/<group>`.
 * @throws WorkflowExecutionAlreadyStartedError when a check of the same group is still running.
 */
export async function startReadinessCheck(
  client: Client,
  input: ReadinessCheckInput,
  options: StartOptions = {},
): Promise<WorkflowHandle<typeof readinessCheck>> {
  return client.workflow.start<typeof readinessCheck>(WORKFLOW_TYPES.readinessCheck, {
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowId: workflowIds.readiness(input.group),
    args: [input],
  });
}

/** RunbookPhase at start, until the runbook sets its own. */
export const INITIAL_PHASE = RUNBOOK_PHASES[0];

/** The one-line summary the Temporal UI and `temporal workflow describe` show for an incident. */
export function failoverSummary(input: FailoverRunbookInput, requestedBy?: string): string {
  const by = requestedBy ? `; requested by ${requestedBy}` : '';
  const incident = input.incident ? ` (incident ${input.incident})` : '';
  return `failover of ${input.group}: ${input.failedRegion} failed${incident}${by}: ${input.reason}`;
}

/**
 * Starts `failoverRunbook` with id `failover/<group>`, its search attributes and summary. Refuses a second
 * one while the first is open (conflict policy FAIL); a closed incident does not block a new one.
 * @throws WorkflowExecutionAlreadyStartedError when a failover of the group is open.
 */
export async function startFailover(
  client: Client,
  input: FailoverRunbookInput,
  options: StartOptions = {},
): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const searchAttributes: SearchAttributePair[] = [
    { key: SEARCH_ATTRIBUTE_KEYS.group, value: input.group },
    { key: SEARCH_ATTRIBUTE_KEYS.failedRegion, value: input.failedRegion },
    { key: SEARCH_ATTRIBUTE_KEYS.phase, value: INITIAL_PHASE },
  ];
  return client.workflow.start(WORKFLOW_TYPES.failoverRunbook, {
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowId: workflowIds.failover(input.group),
    workflowIdConflictPolicy: 'FAIL',
    args: [input],
    typedSearchAttributes: searchAttributes,
    staticSummary: failoverSummary(input, options.requestedBy),
  });
}

/** Thrown by {@link startRejoin} while a failover of the same group is open. */
export class FailoverOpenError extends Error {
  override name = 'FailoverOpenError';
  constructor(
    readonly workflowId: string,
    readonly runId: string,
  ) {
    super(
      `a failover of this group is open: workflow ${workflowId} (run ${runId}); a rejoin cannot start while it runs`,
    );
  }
}

/**
 * Starts `rejoinRunbook` (id `rejoin/<group>`) for a region whose database was unlinked earlier.
 * @throws FailoverOpenError while `failover/<group>` is open: two runbooks must not act on one group at once.
 * @throws WorkflowExecutionAlreadyStartedError when a rejoin of the group is already open.
 */
export async function startRejoin(
  client: Client,
  input: RejoinRunbookInput,
  options: StartOptions = {},
): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const failover = await describeIfExists(client, workflowIds.failover(input.group));
  if (failover && executionState(failover) === 'running')
    throw new FailoverOpenError(failover.workflowId, failover.runId);
  return client.workflow.start(WORKFLOW_TYPES.rejoinRunbook, {
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowId: workflowIds.rejoin(input.group),
    workflowIdConflictPolicy: 'FAIL',
    args: [input],
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTE_KEYS.group, value: input.group },
      { key: SEARCH_ATTRIBUTE_KEYS.failedRegion, value: input.region },
      { key: SEARCH_ATTRIBUTE_KEYS.phase, value: INITIAL_PHASE },
    ],
    staticSummary: `rejoin ${input.region} to ${input.group}: ${input.reason}${options.requestedBy ? ` (by ${options.requestedBy})` : ''}`,
  });
}

/** What a rehearsal is asked for, before it is signed. */
export interface RehearsalRequest {
  group: GroupDefinition;
  region: string;
  reason: string;
  hold?: string;
  incident?: string;
  acceptSettingsMismatch?: boolean;
}

/** Who signs a rehearsal's start: their key and name in the configuration. */
export interface RehearsalSigner {
  actor: string;
  key: SigningKey;
  /** how long the signed start stays valid (default: the signing library's) */
  validForMs?: number;
}

/**
 * The rehearsal's workflow input, exactly as it is recorded in history: names, `mode: 'rehearsal'`, the hold, and
 * the commander's signed start of `rehearsal/<group>`. What `rehearse` and `drill --rehearsal` start (a schedule
 * signs its own request).
 */
export function buildRehearsalInput(
  request: RehearsalRequest,
  signed: FailoverRunbookInput['request'],
): FailoverRunbookInput {
  return {
    group: request.group.name,
    failedRegion: request.region,
    reason: request.reason,
    mode: 'rehearsal',
    ...(request.hold !== undefined ? { hold: request.hold } : {}),
    ...(request.incident !== undefined ? { incident: request.incident } : {}),
    ...(request.acceptSettingsMismatch ? { acceptSettingsMismatch: true } : {}),
    request: signed,
  };
}

/**
 * The rehearsal's input signed by `signer`: a start of workflow rehearsal/<group> naming the region's database,
 * bound to the digest of this configuration's policy of the group (a worker with another policy refuses it).
 */
export function signRehearsalInput(
  signer: RehearsalSigner,
  config: GeofailoverConfig,
  request: RehearsalRequest,
): FailoverRunbookInput {
  const proof = startRequest(signer.key, {
    actor: signer.actor,
    workflowId: workflowIds.rehearsal(request.group.name),
    databaseId: request.group.members[request.region] ?? '',
    region: request.region,
    reason: request.reason,
    ...policyDigestFor(config, request.group.name),
    ...(signer.validForMs !== undefined ? { validForMs: signer.validForMs } : {}),
  });
  return buildRehearsalInput(request, proof);
}

/**
 * Refuses while another runbook of the group is open: an incident (failover/G), a rejoin (rejoin/G), a rehearsal
 * (rehearsal/G) or one its schedule started — two runbooks must not act on one group at once.
 * @throws RefusedError (code runbook-open) naming the open workflow.
 */
export async function refuseOpenRunbooks(client: Client, group: string): Promise<void> {
  const open = await findOpenRunbook(client, group, [
    workflowIds.failover(group),
    workflowIds.rejoin(group),
    workflowIds.rehearsal(group),
  ]);
  if (open) {
    throw new RefusedError(
      `a runbook of group ${group} is open: workflow ${open.workflowId} (run ${open.runId}, started ` +
        `${open.startTime.toISOString()}); a rehearsal cannot start while it runs; nothing was started`,
      `see it with: geofailover status ${open.workflowId}`,
      'runbook-open',
      { workflowId: open.workflowId, runId: open.runId },
    );
  }
}

/**
 * The running runbook of a group among `ids`, or the newest run its rehearsal schedule started when that one still
 * runs; undefined when none runs.
 */
export async function findOpenRunbook(
  client: Client,
  group: string,
  ids: readonly string[],
): Promise<WorkflowExecutionDescription | undefined> {
  const candidates = [...ids, ...(await scheduledRehearsalIds(client, group))];
  const found = await Promise.all(candidates.map((id) => describeIfExists(client, id)));
  return found.find((d) => d !== undefined && executionState(d) === 'running');
}

/** The one-line summary the Temporal UI and `temporal workflow describe` show for a rehearsal. */
export function rehearsalSummary(input: FailoverRunbookInput, requestedBy: string): string {
  const incident = input.incident ? ` (${input.incident})` : '';
  const hold = input.hold !== undefined ? ` for ${String(input.hold)}` : ' until end-rehearsal';
  return `rehearsal of ${input.group}: drain ${input.failedRegion}${hold}${incident}; requested by ${requestedBy}: ${input.reason}`;
}

/**
 * Starts the rehearsal: `failoverRunbook` with id rehearsal/<group>, its search attributes and summary, after
 * refusing while another runbook of the group is open.
 * @throws RefusedError when a runbook of the group is open (a rehearsal already running included).
 */
export async function startRehearsal(
  client: Client,
  input: FailoverRunbookInput,
  options: { taskQueue?: string; requestedBy: string },
): Promise<WorkflowHandleWithFirstExecutionRunId> {
  await refuseOpenRunbooks(client, input.group);
  try {
    return await client.workflow.start(WORKFLOW_TYPES.failoverRunbook, {
      taskQueue: options.taskQueue ?? TASK_QUEUE,
      workflowId: workflowIds.rehearsal(input.group),
      workflowIdConflictPolicy: 'FAIL',
      args: [input],
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTE_KEYS.group, value: input.group },
        { key: SEARCH_ATTRIBUTE_KEYS.failedRegion, value: input.failedRegion },
        { key: SEARCH_ATTRIBUTE_KEYS.phase, value: INITIAL_PHASE },
      ],
      staticSummary: rehearsalSummary(input, options.requestedBy),
    });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) await refuseOpenRunbooks(client, input.group);
    throw e;
  }
}

/** The workflow's description, or undefined when no execution has that id. */
export async function describeIfExists(
  client: Client,
  workflowId: string,
): Promise<WorkflowExecutionDescription | undefined> {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined;
    throw e;
  }
}

export interface FoundRunbook {
  /** the ids looked at, in order of preference */
  candidates: string[];
  /** the chosen execution: an open one first, else the most recently started; undefined when none exists */
  description?: WorkflowExecutionDescription;
}

/**
 * Finds the runbook a user means: a workflow id as given (anything with a '/'), or for a group name
 * `failover/<group>`, `rejoin/<group>` or `rehearsal/<group>` — the open one, else the one started last.
 */
export async function findRunbook(client: Client, ref: string): Promise<FoundRunbook> {
  const candidates = ref.includes('/')
    ? [ref]
    : [workflowIds.failover(ref), workflowIds.rejoin(ref), workflowIds.rehearsal(ref)];
  if (!ref.includes('/')) candidates.push(...(await scheduledRehearsalIds(client, ref)));
  const found = (await Promise.all(candidates.map((id) => describeIfExists(client, id)))).filter(
    (d): d is WorkflowExecutionDescription => d !== undefined,
  );
  const open = found.find((d) => d.status.name === 'RUNNING');
  const latest = [...found].sort((a, b) => b.startTime.getTime() - a.startTime.getTime())[0];
  return { candidates, description: open ?? latest };
}

/**
 * The newest run the group's rehearsal schedule started (`rehearsal/<group>-<time>`), so a group name finds a
 * scheduled rehearsal too; none when there is no schedule (or it cannot be read: a lookup, not a check).
 */
async function scheduledRehearsalIds(client: Client, group: string): Promise<string[]> {
  try {
    const d = await describeSchedule(client, scheduleIds.rehearsal(group));
    const newest = [...(d?.info.recentActions ?? [])].sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime())[0];
    return newest ? [newest.action.workflow.workflowId] : [];
  } catch {
    return [];
  }
}

export type ExecutionState =
  'running' | 'completed' | 'failed' | 'canceled' | 'terminated' | 'continued-as-new' | 'timed-out' | 'unknown';

export function executionState(d: WorkflowExecutionDescription): ExecutionState {
  switch (d.status.name) {
    case 'RUNNING':
    case 'PAUSED':
      return 'running';
    case 'COMPLETED':
      return 'completed';
    case 'FAILED':
      return 'failed';
    case 'CANCELLED':
      return 'canceled';
    case 'TERMINATED':
      return 'terminated';
    case 'CONTINUED_AS_NEW':
      return 'continued-as-new';
    case 'TIMED_OUT':
      return 'timed-out';
    default:
      return 'unknown';
  }
}

/** Everything `status` shows about one runbook execution. */
export interface RunbookView {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  execution: ExecutionState;
  startedAt: string;
  closedAt?: string;
  summary?: string;
  /** the step log: from the `status` query, or from the result of a completed run */
  status?: RunbookStatus;
  source: 'query' | 'result' | 'none';
  /** why the status is missing or comes from elsewhere than the query */
  note?: string;
  /** how it ended, once closed: the runbook's outcome, or how the workflow execution ended */
  outcome?: RunbookOutcome | Exclude<ExecutionState, 'running' | 'completed'>;
  outcomeSummary?: string;
  rtoMs?: number;
}

export interface ReadRunbookOptions {
  /** how long the `status` query may take (it needs a worker); default 5 s */
  queryTimeoutMs?: number;
}

async function queryStatus(client: Client, handle: WorkflowHandle, timeoutMs: number): Promise<RunbookStatus> {
  return client.withDeadline(Date.now() + timeoutMs, () => handle.query(statusQuery));
}

function isRunbookResult(value: unknown): value is RunbookResult {
  return typeof value === 'object' && value !== null && 'outcome' in value && 'status' in value;
}

/**
 * Reads a runbook: the `status` query while a worker answers; for a closed run, what its result or
 * its failure says when the query gets no answer (`note` says so).
 */
export async function readRunbook(
  client: Client,
  description: WorkflowExecutionDescription,
  options: ReadRunbookOptions = {},
): Promise<RunbookView> {
  const timeoutMs = options.queryTimeoutMs ?? 5000;
  const handle = client.workflow.getHandle(description.workflowId, description.runId);
  const view: RunbookView = {
    workflowId: description.workflowId,
    runId: description.runId,
    workflowType: description.type,
    taskQueue: description.taskQueue,
    execution: executionState(description),
    startedAt: description.startTime.toISOString(),
    ...(description.closeTime ? { closedAt: description.closeTime.toISOString() } : {}),
    source: 'none',
  };
  const summary = await description.staticSummary().catch(() => undefined);
  if (summary) view.summary = summary;

  if (view.execution === 'completed') {
    // The result carries the final step log; no worker is needed to read it.
    const result: unknown = await handle.result();
    if (isRunbookResult(result)) {
      view.status = result.status;
      view.source = 'result';
      view.outcome = result.outcome;
      view.outcomeSummary = result.summary;
      if (result.rtoMs !== undefined) view.rtoMs = result.rtoMs;
      return view;
    }
  }
  // A query needs a worker; without one it would only time out.
  const pollers = await countWorkflowPollers(client, view.taskQueue);
  try {
    if (pollers === 0) throw new Error(`no worker polls task queue ${view.taskQueue}`);
    view.status = await queryStatus(client, handle, timeoutMs);
    view.source = 'query';
  } catch (e) {
    const why = (e as Error)?.message ?? String(e);
    view.note =
      view.execution === 'running'
        ? `the status query got no answer (${why}); start a worker (geofailover worker) for task queue ${view.taskQueue}`
        : `the status query got no answer (${why}), so the step log is not shown; this is what the workflow execution records`;
  }
  if (view.execution !== 'running' && view.execution !== 'completed') {
    view.outcome = view.execution;
    try {
      await handle.result();
    } catch (e) {
      const cause = (e as { cause?: Error }).cause;
      view.outcomeSummary = cause?.message ?? (e as Error)?.message ?? String(e);
    }
  }
  return view;
}

export interface DecideOptions {
  /** how long to wait for a worker to take the decision; default 30 s */
  timeoutMs?: number;
}

/**
 * Sends a decision through the `decide` update and returns the workflow's answer. A refusal by the
 * update's validator (no gate open, unauthorized, four-eyes, ...) comes back as `{ accepted: false, reason }`.
 * @throws WorkflowUpdateRPCTimeoutOrCancelledError when no worker took the decision in time.
 */
export async function decide(
  client: Client,
  workflowId: string,
  payload: DecidePayload,
  options: DecideOptions = {},
): Promise<DecideResult> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    return await client.withDeadline(Date.now() + (options.timeoutMs ?? 30_000), () =>
      handle.executeUpdate(decideUpdate, { args: [payload] }),
    );
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) {
      return { accepted: false, reason: e.cause?.message ?? e.message };
    }
    throw e;
  }
}

/** The signals a commander sends, by CLI verb. */
export type RunbookSignal =
  | { name: 'regionRecovered'; payload: RegionRecoveredPayload }
  | { name: 'unlinkNow'; payload: UnlinkNowPayload }
  | { name: 'intervene'; payload: InterventionPayload }
  | { name: 'abort'; payload: AbortPayload };

/**
 * Sends one of the runbook's signals (recorded in history even when no worker runs).
 * @throws WorkflowNotFoundError when the workflow is not open.
 */
export async function signalRunbook(client: Client, workflowId: string, signal: RunbookSignal): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  switch (signal.name) {
    case 'regionRecovered':
      return handle.signal(regionRecoveredSignal, signal.payload);
    case 'unlinkNow':
      return handle.signal(unlinkNowSignal, signal.payload);
    case 'intervene':
      return handle.signal(interveneSignal, signal.payload);
    case 'abort':
      return handle.signal(abortSignal, signal.payload);
  }
}

/**
 * How many workers poll a task queue for workflow tasks right now (best effort: undefined when the
 * server does not say).
 */
export async function countWorkflowPollers(client: Client, taskQueue: string): Promise<number | undefined> {
  try {
    const response = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      // TASK_QUEUE_KIND_NORMAL, TASK_QUEUE_TYPE_WORKFLOW
      taskQueue: { name: taskQueue, kind: 1 },
      taskQueueType: 1,
    });
    return response.pollers?.length ?? 0;
  } catch {
    return undefined;
  }
}
