/**
 * `geofailover drill --evacuate N`: a regional outage over a generated estate of N groups. One regionEvacuation
 * (evacuate/<region>) is started, signed by the commander; every group's traffic moves; the unlink gates are
 * approved with signed batch approvals (the drill's configuration allows them); one group's force-unlink fails and
 * waits at its intervention gate until the drill clears the fault and a commander signs a retry; the region returns,
 * every group rejoins and fails back; then the final state of every group is checked against ARM and the
 * evacuation's evidence package links each group's report. The drill's setup and teardown are the single-group
 * drill's (drill.ts); only the story and its checks are here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { auditEvacuation } from '../audit/evacuation';
import { defaultEvidenceDir } from '../audit/package';
import { checkFailedRegion, loadCliConfig, resolveGroup } from '../config/groups';
import {
  approveBatchSignal,
  evacuationStatusQuery,
  MAX_BATCH_GROUPS,
  MAX_EVACUATION_CONCURRENCY,
  MAX_EVACUATION_GROUPS,
  type BatchApprovalPayload,
  type EvacuationChild,
  type EvacuationResult,
  type EvacuationStatus,
  type RegionEvacuationInput,
} from '../contract/evacuation';
import { formatDuration } from '../contract/durations';
import { statusQuery } from '../contract/messages';
import { WORKFLOW_TYPES, workflowIds } from '../contract/names';
import type { RunbookStatus } from '../contract/types';
import { configForEmulator, DEFAULT_APPROVERS, writeIdentitySecret } from '../emulator/config';
import { estateGroupName, generateEstate, parseScenario, type Emulator } from '../emulator/index';
import { ESTATE_REGIONS } from '../emulator/scenarios/estate';
import { policyDigestFor } from '../policy/from-config';
import { peopleKeys, writePeopleKeys } from '../signing/key-files';
import { readPrivateKey, type PrivateKey } from '../signing/node-keys';
import { decisionPayload, interventionPayload, regionRecoveredPayload, startRequest } from '../signing/payloads';
import { signAction } from '../signing/sign-action';
import { decide, signalRunbook } from '../starter';
import { DRILL_CONFIG_FILE, type DrillConfig } from './config';
import type { EvacuationDrillGroup, EvacuationDrillSummary } from './evacuation-summary';
import type { DrillCheck, DrillReporter, DrillSummary } from './events';
import { DrillUsageError, type DrillPlan } from './scenario';
import {
  DRILL_APPROVERS,
  DRILL_METADATA_BYTES_PER_SECOND,
  DRILL_REQUESTER,
  DRILL_TUNING,
  drillGroup,
} from './settings';
import type { DrillOptions } from './settings';
import type { Teardown } from './teardown';
import type { TemporalTarget } from './temporal';
import { DrillInterrupted, DrillStepError } from './watcher';

export const EVACUATION_DRILL_REASON = 'geofailover drill --evacuate';

/**
 * The single drill's second-scale tuning, with the patience many runbooks on one worker need: a busy worker answers
 * heartbeats and probe tasks late, and a step that times out would open an intervention gate the story does not have.
 */
const EVACUATION_DRILL_TUNING = {
  ...DRILL_TUNING,
  reads: { startToClose: '30s', scheduleToClose: '60s', initialRetryInterval: '200ms' },
  probeScheduleToStart: '30s',
  heartbeatTimeout: '30s',
  failedMemberRead: '10s',
};

/** Estate groups the drill evacuates at most: as many as one evacuation handles. */
export const MAX_EVACUATION_DRILL_GROUPS = MAX_EVACUATION_GROUPS;
/** ARM's write bucket refills at 10 writes per second (per principal and region). */
const ARM_WRITES_PER_SECOND = 10;
const POLL_MS = 500;
/** Per group on top: each poll's status query costs the one worker's workflow thread more with every group. */
const POLL_MS_PER_GROUP = 5;
/** A batch approval not taken by a group within this long is sent again for it (its gate may have opened late). */
const BATCH_RESEND_MS = 15_000;

/**
 * The plan of an evacuation drill: the generated estate of `groups` groups (estate:N) over eastus, westeurope and
 * southeastasia, the failed region (default eastus) and the drill's fast metadata build-up.
 * @throws DrillUsageError for a group count out of range or a region the estate does not have.
 */
export function planEvacuationDrill(options: { groups: number; failRegion?: string }): DrillPlan {
  const { groups } = options;
  if (!Number.isInteger(groups) || groups < 1 || groups > MAX_EVACUATION_DRILL_GROUPS) {
    throw new DrillUsageError(
      `--evacuate ${groups}: expected a whole number of groups from 1 to ${MAX_EVACUATION_DRILL_GROUPS}`,
      'e.g. --evacuate 10',
    );
  }
  const regions: readonly string[] = ESTATE_REGIONS;
  const failedRegion = options.failRegion ?? regions[0]!;
  if (!regions.includes(failedRegion)) {
    throw new DrillUsageError(
      `--fail-region ${failedRegion}: the generated estate has members in ${regions.join(', ')} only`,
      `e.g. --fail-region ${regions[1]}`,
    );
  }
  const source = `estate:${groups}`;
  const scenario = parseScenario(generateEstate({ groups }), source);
  scenario.metadataBuildup = {
    ...scenario.metadataBuildup,
    bytesPerSecond: Math.max(scenario.metadataBuildup.bytesPerSecond, DRILL_METADATA_BYTES_PER_SECOND),
  };
  return {
    scenario,
    scenarioSource: source,
    group: estateGroupName(0, groups),
    members: [...regions],
    failedRegion,
    shortOutage: false,
    evacuate: { groups },
  };
}

/**
 * The configuration of an evacuation drill: every group of the estate with the drill's quorum, thresholds and
 * durations (gates wait minutes: a large estate's approvals come in waves), and batch approval of unlink gates.
 */
export function writeEvacuationConfig(emulator: Emulator, plan: DrillPlan, dir: string): DrillConfig {
  const keys = writePeopleKeys(path.join(dir, 'keys'), DEFAULT_APPROVERS);
  const file = path.join(dir, DRILL_CONFIG_FILE);
  const identity = writeIdentitySecret(emulator.identity, file);
  const config = configForEmulator(emulator.state(), emulator.caPath, peopleKeys(keys), identity);
  // Every rerouted group watches its region and memory each recoveryPollInterval (three activities a poll): the
  // single drill's 300 ms times 200 groups would be ~2,000 activities a second, taken from the groups still before
  // their reroute (at 50 ms a group, 200 groups' polls were still most of the ~50 workflow tasks per group the
  // server handled before the last reroute). Production's default is a minute; the drill scales it, 150 ms a group.
  const pollMs = Math.max(300, Object.keys(config.groups).length * 150);
  const groups = Object.fromEntries(
    Object.entries(config.groups).map(([name, group]) => {
      const g = drillGroup(group, { interactive: false });
      // Probes of many groups share two cores with everything else: a probe gets 10 s, not the single drill's 2 s.
      const durations = {
        ...g.durations,
        // Unlink gates wait for the whole estate's reroute before the drill approves them.
        approvalTimeout: '30m',
        escalationTimeout: '30m',
        probeTimeout: '10s',
        recoveryPollInterval: `${pollMs}ms`,
      };
      return [name, { ...g, durations }];
    }),
  );
  if (!groups[plan.group]) throw new Error(`the estate's group ${plan.group} has no Traffic Manager profile`);
  // One process serves ARM (the emulator) and runs every runbook's activities: under a large estate's first burst a
  // read waits its turn on the event loop, and at the default 10 s a survivor's read timing out would refuse the run.
  const azure = { ...config.azure, requestTimeoutMs: Math.max(config.azure?.requestTimeoutMs ?? 0, 30_000) };
  const written = { ...config, azure, groups, evacuation: { unlinkApproval: 'batch' as const } };
  writeFileSync(file, `${JSON.stringify(written, null, 2)}\n`);
  const loaded = loadCliConfig(file);
  const definition = resolveGroup(loaded, plan.group);
  const survivors = checkFailedRegion(definition, plan.failedRegion);
  return { file, loaded, group: definition, survivors, keys };
}

export interface EvacuationDrillContext {
  plan: DrillPlan;
  options: DrillOptions;
  reporter: DrillReporter;
  teardown: Teardown;
  emulator: Emulator;
  config: DrillConfig;
  target: TemporalTarget;
  client: Client;
  clientAs: (by: string) => Client;
  healthCheck: () => Error | undefined;
  summary: DrillSummary;
}

interface Story {
  ctx: EvacuationDrillContext;
  handle: WorkflowHandle;
  runId: string;
  keyOf: (by: string) => PrivateKey;
  /** group → its database in the failed region */
  databases: Map<string, string>;
  failingGroup: string;
  /** the emulator's fault that fails the failing group's force-unlinks */
  faultId: number;
  interventions: Map<string, number>;
  batchSentAt: Map<string, number>;
  batchApprovals: number;
  lastShown: string;
  deadlineMs: number;
  /** group → since when the aggregate shows it unchanged, and its own status when last asked */
  seen: Map<string, { key: string; since: number; askedAt: number; own?: RunbookStatus }>;
}

/** Runs the evacuation story and its checks; the summary gets `evacuation`. Throws DrillStepError when stuck. */
export async function runEvacuationDrill(ctx: EvacuationDrillContext): Promise<DrillCheck[]> {
  const { plan, reporter, emulator, config } = ctx;
  const region = plan.failedRegion;
  const groupNames = Object.keys(config.loaded.config.groups).filter((g) =>
    Object.hasOwn(resolveGroup(config.loaded, g).members, region),
  );
  const databases = new Map(groupNames.map((g) => [g, resolveGroup(config.loaded, g).members[region] ?? '']));
  const failingGroup = groupNames[Math.min(3, groupNames.length - 1)]!;

  await emulator.faults.outage(region);
  reporter.action(
    'outage-injected',
    `outage injected in ${region}: ARM answers 503 for it and its data plane is down; ${groupNames.length} group(s) have a member there`,
    { region, groups: groupNames.length },
  );
  const fault = emulator.faults.lro({
    operation: 'forceUnlink',
    resource: `redis-${failingGroup}-`,
    fail: { code: 'UnlinkFailed', message: 'the survivor could not drop the link (drill fault)' },
    sticky: true,
  });
  reporter.action(
    'fault-injected',
    `fault injected: every force-unlink of ${failingGroup} fails until the drill clears it`,
    { group: failingGroup, operation: 'forceUnlink' },
  );

  const keyOf = (by: string): PrivateKey => readPrivateKey(readFileSync(config.keys[by]?.keyFile ?? '', 'utf8'));
  const commander = keyOf(DRILL_REQUESTER);
  const workflowId = workflowIds.evacuation(region);
  const starts = Object.fromEntries(
    groupNames.map((g) => [
      g,
      startRequest(commander, {
        actor: DRILL_REQUESTER,
        workflowId: workflowIds.failover(g),
        databaseId: databases.get(g) ?? '',
        region,
        reason: EVACUATION_DRILL_REASON,
        ...policyDigestFor(config.loaded.config, g),
      }),
    ]),
  );
  const concurrency = Math.min(ctx.options.concurrency ?? groupNames.length, MAX_EVACUATION_CONCURRENCY);
  const input: RegionEvacuationInput = {
    region,
    reason: EVACUATION_DRILL_REASON,
    request: signAction(commander, {
      action: 'start',
      actor: DRILL_REQUESTER,
      workflowId,
      runId: null,
      comment: EVACUATION_DRILL_REASON,
      detail: { region },
    }),
    starts,
    concurrency,
    tuning: EVACUATION_DRILL_TUNING,
  };
  const started = await ctx.clientAs(DRILL_REQUESTER).workflow.start(WORKFLOW_TYPES.regionEvacuation, {
    taskQueue: ctx.options.taskQueue,
    workflowId,
    args: [input],
    staticSummary: `drill: evacuate ${region}: ${groupNames.length} group(s) (by ${DRILL_REQUESTER})`,
  });
  const runId = started.firstExecutionRunId;
  const handle = ctx.client.workflow.getHandle(workflowId, runId);
  ctx.teardown.add('the evacuation and its runbooks, if still open', async () => {
    for (const id of [workflowId, ...groupNames.map((g) => workflowIds.failover(g))]) {
      const h = ctx.client.workflow.getHandle(id);
      const d = await h.describe().catch(() => undefined);
      if (d?.status.name === 'RUNNING') await h.terminate('geofailover drill stopped before it ended').catch(() => {});
    }
  });
  Object.assign(ctx.summary, { workflowId, runId });
  reporter.action(
    'evacuation-started',
    `regionEvacuation ${workflowId} started by ${DRILL_REQUESTER}: ${groupNames.length} group(s), ` +
      `${concurrency} before their reroute at once (run ${runId})`,
    { workflowId, runId, groups: groupNames.length, concurrency, requestedBy: DRILL_REQUESTER },
  );

  // Each stage of a large estate takes longer: 90 s, plus 6 s per group (a loaded 2-core machine needs them).
  const stageMs = 90_000 + groupNames.length * 6_000;
  const story: Story = {
    ctx,
    handle,
    runId,
    keyOf,
    databases,
    failingGroup,
    faultId: fault.id,
    interventions: new Map(),
    batchSentAt: new Map(),
    batchApprovals: 0,
    lastShown: '',
    deadlineMs: 0,
    seen: new Map(),
  };

  try {
    const all = (s: EvacuationStatus, each: (g: EvacuationChild) => boolean): boolean =>
      s.groups.length === groupNames.length && s.groups.every((g) => !!g.outcome || each(g));
    // The unlink approvals wait until every group's traffic moved, as a commander would: each batch is forwarded
    // by the evacuation and answered by every child it lists, traffic on the evacuation's lock on the server that
    // the starts of the groups still before their reroute need (a large estate's starts trickled behind it).
    const rerouted = await follow(
      story,
      stageMs,
      'every group to reroute its traffic',
      (s) => all(s, (g) => g.rtoMs !== undefined),
      { approveUnlinks: false, pending: (g) => !g.outcome && g.rtoMs === undefined },
    );
    const rtos = rerouted.groups.flatMap((g) => (g.rtoMs !== undefined ? [g.rtoMs] : []));
    reporter.action(
      'traffic-moved',
      `traffic moved for ${rtos.length} of ${rerouted.groups.length} group(s) (RTO ${formatDuration(Math.min(...rtos))} to ` +
        `${formatDuration(Math.max(...rtos))}, start → traffic rerouted)`,
      { groups: rtos.length, minRtoMs: Math.min(...rtos), maxRtoMs: Math.max(...rtos) },
    );

    for (;;) {
      await follow(story, stageMs, 'every group to force-unlink and await the region', (s) =>
        all(s, (g) => unlinked(story, g)),
      );
      // The aggregate says where each group is; each runbook's own status says its force-unlink succeeded.
      const pending = await Promise.all(groupNames.map((g) => forceUnlinked(story, g)));
      if (pending.every(Boolean)) break;
      await sleep(POLL_MS);
    }
    await emulator.faults.restore(region);
    reporter.action('region-restored', `${region} restored: ARM answers again, its data plane is back`, { region });
    await Promise.all(groupNames.map((g) => signalRecovered(story, g)));
    reporter.action(
      'recovery-signalled',
      `regionRecovered signalled by ${DRILL_REQUESTER} to ${groupNames.length} runbook(s)`,
      { by: DRILL_REQUESTER, groups: groupNames.length },
    );
    await follow(story, stageMs, 'every group to rejoin and fail back', (s) => s.phase === 'completed');
    const result = (await handle.result()) as EvacuationResult;
    reporter.log(`evacuation ${workflowId} ended: ${result.outcome}: ${result.summary}`);
    if (emulator.faults.clearLro(fault.id)) reporter.warn(`the force-unlink fault of ${failingGroup} was never hit`);
    return await finish(story, result);
  } catch (e) {
    if (!(e instanceof DrillInterrupted) && !ctx.options.signal.aborted) await evidenceOfFailure(story, groupNames, e);
    throw e;
  }
}

/**
 * A failed evacuation drill still leaves evidence: every run still open is terminated (so that its history is
 * complete) and the evacuation's package written, each group's report linked.
 */
async function evidenceOfFailure(story: Story, groupNames: string[], cause: unknown): Promise<void> {
  const { ctx } = story;
  const why = `geofailover drill failed: ${(cause as Error)?.message ?? String(cause)}`.slice(0, 400);
  try {
    for (const id of [story.handle.workflowId, ...groupNames.map((g) => workflowIds.failover(g))]) {
      const h = ctx.client.workflow.getHandle(id);
      const d = await h.describe().catch(() => undefined);
      if (d?.status.name === 'RUNNING') await h.terminate(why);
    }
    const audit = await auditEvacuation({
      client: ctx.client,
      workflowId: story.handle.workflowId,
      outDir: ctx.options.outDir
        ? path.resolve(ctx.options.outDir)
        : defaultEvidenceDir(story.handle.workflowId, undefined, story.runId),
      source: { kind: 'temporal', address: ctx.target.address, namespace: ctx.target.namespace },
      force: true,
    });
    ctx.summary.evidenceDir = audit.dir;
    ctx.reporter.log(`terminated what was still open; evidence package of the failed drill: ${audit.dir}`);
  } catch (e) {
    ctx.reporter.warn(`no evidence package: ${(e as Error)?.message ?? String(e)}`);
  }
}

/**
 * Polls the evacuation until `done`, playing the people meanwhile: batch approvals of open unlink gates, a signed
 * rejoin approval per group, and a signed retry at an intervention gate (for the failing group, once the fault is
 * cleared — after every other group got past its force-unlink, so the drill shows one group held and none blocked).
 */
async function follow(
  story: Story,
  timeoutMs: number,
  what: string,
  done: (s: EvacuationStatus) => boolean,
  options: { approveUnlinks?: boolean; pending?: (g: EvacuationChild) => boolean } = {},
): Promise<EvacuationStatus> {
  const { ctx } = story;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (ctx.options.signal.aborted) {
      throw new DrillInterrupted((ctx.options.signal.reason as NodeJS.Signals) ?? 'SIGINT');
    }
    const failure = ctx.healthCheck();
    if (failure) throw failure;
    let aggregate: EvacuationStatus;
    try {
      aggregate = await story.handle.query(evacuationStatusQuery);
    } catch (e) {
      // A busy worker answers a query late (a large estate on a small machine): asked again, until the deadline.
      if (Date.now() > deadline)
        throw new DrillStepError(`${what}: the evacuation did not answer: ${(e as Error).message}`);
      await sleep(POLL_MS * 2);
      continue;
    }
    // While traffic moves no gate but an intervention is answered: each group's own status is not asked for (at 200
    // groups those queries were hundreds in flight at once, on the server and the worker every group still needs).
    const s = options.approveUnlinks === false ? aggregate : await corrected(story, aggregate);
    show(story, s);
    if (done(s)) return s;
    if (s.phase === 'completed' || s.phase === 'refused' || s.phase === 'aborted') {
      throw new DrillStepError(`the evacuation ended (${s.phase}${s.refusal ? `: ${s.refusal}` : ''}) before ${what}`);
    }
    await answerGates(story, s, options.approveUnlinks ?? true);
    if (Date.now() > deadline) {
      const stuck = s.groups
        .filter((g) => (options.pending ? options.pending(g) : !done({ ...s, groups: [g] })))
        .slice(0, 5)
        .map((g) => `${g.group} ${g.phase}${g.openGate ? ` at ${g.openGate.gate}` : ''}`);
      throw new DrillStepError(
        `timed out after ${formatDuration(timeoutMs)} waiting for ${what}: ${stuck.join(', ')}${stuck.length < s.groups.length ? ', …' : ''}`,
      );
    }
    await sleep(Math.max(POLL_MS, story.databases.size * POLL_MS_PER_GROUP));
  }
}

/** How long a group may show the same phase and gate in the aggregate before the drill asks its runbook itself. */
const STALE_MS = 4_000;
/** Per group on top: the queries a large estate's drill sends its worker stay at a few per second. */
const STALE_MS_PER_GROUP = 150;

/**
 * The aggregate with each group's own view where the aggregate has not moved for a while: a child's progress
 * signals may reach its evacuation out of order, leaving a phase or gate behind the runbook's own status.
 */
async function corrected(story: Story, s: EvacuationStatus): Promise<EvacuationStatus> {
  const now = Date.now();
  const staleMs = Math.max(STALE_MS, s.groups.length * STALE_MS_PER_GROUP);
  const groups = await Promise.all(
    s.groups.map(async (g) => {
      if (g.outcome || !g.runId) return g;
      const key = `${g.phase}:${g.openGate?.gate ?? ''}`;
      const seen = story.seen.get(g.group);
      if (!seen || seen.key !== key) {
        story.seen.set(g.group, { key, since: now, askedAt: now });
        return g;
      }
      if (now - seen.since < staleMs) return g;
      if (now - seen.askedAt >= staleMs) {
        seen.askedAt = now;
        seen.own = await childStatus(story, g);
      }
      const own = seen.own;
      if (!own) return g;
      const fixed: EvacuationChild = { ...g, phase: own.phase as EvacuationChild['phase'] };
      if (own.openGate) {
        fixed.openGate = {
          gate: own.openGate.gate,
          ...(own.openGate.kind ? { kind: own.openGate.kind } : {}),
          ...(own.openGate.step ? { step: own.openGate.step } : {}),
          ...(own.openGate.instance !== undefined ? { instance: own.openGate.instance } : {}),
        };
      } else delete fixed.openGate;
      return fixed;
    }),
  );
  return { ...s, groups };
}

/** One progress line per change of the groups' phases. */
function show(story: Story, s: EvacuationStatus): void {
  const counts = Object.entries(s.byPhase)
    .map(([phase, n]) => `${n} ${phase}`)
    .join(', ');
  if (counts === story.lastShown) return;
  story.lastShown = counts;
  story.ctx.reporter.action('evacuation-progress', `evacuation: ${counts}`, {
    byPhase: s.byPhase,
    gatesOpen: s.gatesOpen.length,
  });
}

async function answerGates(story: Story, s: EvacuationStatus, approveUnlinks: boolean): Promise<void> {
  const now = Date.now();
  const atUnlink = approveUnlinks ? s.groups.filter((g) => !g.outcome && g.openGate?.gate === 'approval-unlink') : [];
  const unlink = atUnlink.filter((g) => !story.batchSentAt.has(g.group));
  // A batch the evacuation did not forward (its aggregate had not seen the gate yet): each approver on their own.
  await Promise.all(
    atUnlink
      .filter((g) => now - (story.batchSentAt.get(g.group) ?? now) > Math.max(BATCH_RESEND_MS, s.groups.length * 300))
      .map((g) => approveUnlinkAlone(story, g)),
  );
  for (let i = 0; i < unlink.length; i += MAX_BATCH_GROUPS) {
    await approveBatch(
      story,
      unlink.slice(i, i + MAX_BATCH_GROUPS).map((g) => g.group),
    );
  }
  const others = s.groups.filter((g) => g.group !== story.failingGroup);
  const othersPast = others.every((g) => !!g.outcome || unlinked(story, g));
  await Promise.all(
    s.groups.map(async (g) => {
      if (g.outcome || !g.openGate) return;
      if (g.openGate.gate === 'approval-rejoin') return approveRejoin(story, g);
      if (g.openGate.kind !== 'intervention') return;
      if (g.group === story.failingGroup && g.openGate.step === 'force-unlink' && !othersPast) return;
      return intervene(story, g);
    }),
  );
}

/** Past its unlink gate (the drill approved it) and waiting for the region: force-unlinked. */
function unlinked(story: Story, g: EvacuationChild): boolean {
  return story.batchSentAt.has(g.group) && g.phase === 'awaiting-recovery' && !g.openGate;
}

async function forceUnlinked(story: Story, group: string): Promise<boolean> {
  const status = await story.ctx.client.workflow
    .getHandle(workflowIds.failover(group))
    .query(statusQuery)
    .catch(() => undefined);
  return status?.steps.find((s) => s.step === 'force-unlink')?.status === 'succeeded';
}

/** One signed batch approval per unlink approver, naming up to 32 groups whose unlink gate is open. */
async function approveBatch(story: Story, groups: string[]): Promise<void> {
  const { ctx } = story;
  const workflowId = story.handle.workflowId;
  for (const approver of DRILL_APPROVERS.unlink) {
    const comment = `outage of ${ctx.plan.failedRegion} confirmed; unlink ${groups.length} group(s)`;
    const payload: BatchApprovalPayload = {
      approver,
      groups,
      comment,
      proof: signAction(story.keyOf(approver), {
        action: 'approve',
        actor: approver,
        workflowId,
        runId: story.runId,
        gate: 'approval-unlink',
        targets: groups.map((g) => story.databases.get(g) ?? ''),
        comment,
        detail: { groups: groups.join(',') },
      }),
    };
    await patiently(() =>
      ctx.clientAs(approver).workflow.getHandle(workflowId, story.runId).signal(approveBatchSignal, payload),
    );
    story.batchApprovals += 1;
  }
  for (const g of groups) story.batchSentAt.set(g, Date.now());
  ctx.reporter.action(
    'batch-approved',
    `unlink approved in one signed batch by each of ${DRILL_APPROVERS.unlink.join(' and ')} for ${groups.length} group(s): ` +
      `${groups.slice(0, 6).join(', ')}${groups.length > 6 ? ', …' : ''}`,
    { approvers: [...DRILL_APPROVERS.unlink], groups },
  );
}

/** The child's own status (its open gate and run id), as `geofailover approve` reads it. */
async function childStatus(story: Story, child: EvacuationChild): Promise<RunbookStatus | undefined> {
  return story.ctx.client.workflow
    .getHandle(child.workflowId)
    .query(statusQuery)
    .catch(() => undefined);
}

const answered = new WeakMap<Story, Set<string>>();

/** Whether this gate instance of this group was answered already (each gate is answered once). */
function firstTime(story: Story, child: EvacuationChild, status: RunbookStatus): boolean {
  let seen = answered.get(story);
  if (!seen) answered.set(story, (seen = new Set()));
  const key = `${child.group}:${status.runId}:${status.openGate?.gate}:${status.openGate?.instance}`;
  if (seen.has(key)) return false;
  seen.add(key);
  return true;
}

async function approveUnlinkAlone(story: Story, child: EvacuationChild): Promise<void> {
  const status = await childStatus(story, child);
  if (status?.openGate?.gate !== 'approval-unlink' || !firstTime(story, child, status)) return;
  for (const by of DRILL_APPROVERS.unlink) {
    if (status.openGate.approvals.includes(by)) continue;
    const payload = decisionPayload(
      { key: story.keyOf(by), actor: by, workflowId: child.workflowId, status },
      'approve',
      `outage of ${story.ctx.plan.failedRegion} confirmed; unlink ${child.group}`,
    );
    const answer = await decide(story.ctx.clientAs(by), child.workflowId, payload);
    if (!answer.accepted) {
      // The batch may have arrived meanwhile: only a gate still open and undecided makes a refusal a failure.
      const now = await childStatus(story, child);
      if (now?.openGate?.gate !== 'approval-unlink' || now.openGate.instance !== status.openGate.instance) return;
      if (/already (decided|approved|voted)|counted/i.test(answer.reason ?? '')) continue;
      throw new DrillStepError(`the unlink approval of ${child.group} by ${by} was refused: ${answer.reason ?? ''}`);
    }
  }
  story.ctx.reporter.action(
    'approval-accepted',
    `${child.group}: unlink approved on its own by ${DRILL_APPROVERS.unlink.join(' and ')} (the batch did not reach it)`,
    { group: child.group, gate: 'approval-unlink', approvers: [...DRILL_APPROVERS.unlink] },
  );
}

async function approveRejoin(story: Story, child: EvacuationChild): Promise<void> {
  const status = await childStatus(story, child);
  if (status?.openGate?.gate !== 'approval-rejoin' || !firstTime(story, child, status)) return;
  const by = DRILL_APPROVERS.rejoin;
  const payload = decisionPayload(
    { key: story.keyOf(by), actor: by, workflowId: child.workflowId, status },
    'approve',
    'region healthy again: rejoin it',
  );
  const answer = await decide(story.ctx.clientAs(by), child.workflowId, payload);
  if (!answer.accepted) {
    throw new DrillStepError(`the rejoin approval of ${child.group} by ${by} was refused: ${answer.reason ?? ''}`);
  }
}

async function intervene(story: Story, child: EvacuationChild): Promise<void> {
  const { ctx } = story;
  const status = await childStatus(story, child);
  if (status?.openGate?.kind !== 'intervention' || !firstTime(story, child, status)) return;
  const gate = status.openGate;
  const step = status.steps.find((s) => s.step === gate.step);
  ctx.reporter.action(
    'intervention',
    `${child.group} waits at ${gate.gate}: ${step?.summary || 'the step failed after its retries'}`,
    { group: child.group, gate: gate.gate, ...(step?.summary ? { error: step.summary } : {}) },
  );
  if (child.group === story.failingGroup && gate.step === 'force-unlink') {
    ctx.emulator.faults.clearLro(story.faultId);
    ctx.reporter.action('fault-cleared', `fault cleared: ${child.group}'s survivors can drop the link again`, {
      group: child.group,
    });
  }
  const payload = interventionPayload(
    { key: story.keyOf(DRILL_REQUESTER), actor: DRILL_REQUESTER, workflowId: child.workflowId, status },
    'retry',
    'cause found and fixed: retry the step',
  );
  await patiently(() => signalRunbook(ctx.clientAs(DRILL_REQUESTER), child.workflowId, { name: 'intervene', payload }));
  story.interventions.set(child.group, (story.interventions.get(child.group) ?? 0) + 1);
  ctx.reporter.action('intervention-resolved', `${child.group}: ${DRILL_REQUESTER} signed a retry of ${gate.gate}`, {
    group: child.group,
    gate: gate.gate,
    by: DRILL_REQUESTER,
  });
}

async function signalRecovered(story: Story, group: string): Promise<void> {
  const workflowId = workflowIds.failover(group);
  const client = story.ctx.clientAs(DRILL_REQUESTER);
  const d = await client.workflow
    .getHandle(workflowId)
    .describe()
    .catch(() => undefined);
  if (d?.status.name !== 'RUNNING') return;
  const payload = regionRecoveredPayload(
    { key: story.keyOf(DRILL_REQUESTER), actor: DRILL_REQUESTER, workflowId, status: { runId: d.runId } },
    `${story.ctx.plan.failedRegion} healthy again (drill)`,
  );
  await patiently(() => signalRunbook(client, workflowId, { name: 'regionRecovered', payload }));
}

/** Tries a signal this many times before the drill fails on it. */
const SIGNAL_ATTEMPTS = 5;

/**
 * Sends a signal again when the server answered it late or busy (a large estate on a small machine: the
 * evacuation's lock is contended, and a signal's 10 s deadline passes). A signal that did arrive the first time is
 * refused as a replay when it arrives again (its nonce was used): the second copy changes nothing.
 */
async function patiently(send: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await send();
      return;
    } catch (e) {
      const text = `${(e as Error)?.message ?? ''} ${((e as Error)?.cause as Error | undefined)?.message ?? ''}`;
      if (attempt >= SIGNAL_ATTEMPTS || !/deadline exceeded|busy|unavailable|resource exhausted/i.test(text)) throw e;
      await sleep(1000 * attempt);
    }
  }
}

interface ProfileView {
  id: string;
  properties: { endpoints: { name: string; properties: { endpointStatus: string } }[] };
}

/** One group's final state as ARM shows it; the problems, none when whole. */
function groupProblems(story: Story, group: string): { problems: string[]; unlinks: number; failedUnlinks: number } {
  const { emulator, config, plan } = story.ctx;
  const definition = resolveGroup(config.loaded, group);
  const state = emulator.state();
  const ids = Object.values(definition.members).map((id) => id.toLowerCase());
  const problems: string[] = [];
  for (const id of ids) {
    const db = state.databases.find((d) => d.id.toLowerCase() === id);
    const linked = ids.every(
      (other) => other === id || db?.linkedDatabases.some((l) => l.id.toLowerCase() === other && l.state === 'Linked'),
    );
    if (!linked) problems.push(`${db?.location ?? id} is not linked to every other member`);
  }
  const profile = (state.trafficManagerProfiles as ProfileView[]).find(
    (p) => p.id.toLowerCase() === definition.trafficManager.profileId.toLowerCase(),
  );
  const name = definition.trafficManager.endpoints[plan.failedRegion]?.name;
  const endpoint = profile?.properties.endpoints.find((e) => e.name === name)?.properties.endpointStatus;
  if (endpoint !== 'Enabled') problems.push(`endpoint ${name} is ${endpoint ?? 'missing'}`);
  const ops = state.operations.filter(
    (o) => o.name === 'forceUnlink' && o.resourceId.toLowerCase().includes(`/redis-${group}-`.toLowerCase()),
  );
  const unlinks = ops.filter((o) => o.status === 'Succeeded').length;
  if (unlinks !== 1) problems.push(`${unlinks} force-unlink(s) succeeded, expected 1`);
  return { problems, unlinks, failedUnlinks: ops.filter((o) => o.status !== 'Succeeded').length };
}

/** Failed activity attempts whose failure was a throttling (the last failure of a retried attempt counts too). */
async function throttledFailures(client: Client, workflowId: string): Promise<number> {
  const history = await client.workflow
    .getHandle(workflowId)
    .fetchHistory()
    .catch(() => undefined);
  let n = 0;
  for (const e of history?.events ?? []) {
    const failure = e.activityTaskFailedEventAttributes?.failure ?? e.activityTaskStartedEventAttributes?.lastFailure;
    if (failure && /AzureThrottled|\b429\b/.test(JSON.stringify(failure))) n += 1;
  }
  return n;
}

async function finish(story: Story, result: EvacuationResult): Promise<DrillCheck[]> {
  const { ctx } = story;
  const { client, emulator, reporter, summary } = ctx;
  const status = result.status;
  const evacuationStart = (await story.handle.describe()).startTime.getTime();
  const groups: EvacuationDrillGroup[] = [];
  let throttled = 0;
  let unlinksTotal = 0;
  const broken: string[] = [];
  const unlinkProblems: string[] = [];
  const endpointProblems: string[] = [];
  for (const child of status.groups) {
    const d = await client.workflow
      .getHandle(child.workflowId)
      .describe()
      .catch(() => undefined);
    const checked = groupProblems(story, child.group);
    unlinksTotal += checked.unlinks;
    for (const p of checked.problems) {
      (p.startsWith('endpoint') ? endpointProblems : p.includes('force-unlink') ? unlinkProblems : broken).push(
        `${child.group}: ${p}`,
      );
    }
    throttled += await throttledFailures(client, child.workflowId);
    groups.push({
      group: child.group,
      workflowId: child.workflowId,
      ...(child.outcome ? { outcome: child.outcome } : {}),
      ...(child.rtoMs !== undefined ? { rtoMs: child.rtoMs } : {}),
      ...(child.rtoMs !== undefined && d
        ? { reroutedAfterMs: d.startTime.getTime() + child.rtoMs - evacuationStart }
        : {}),
      interventions: story.interventions.get(child.group) ?? 0,
      verified: checked.problems.length === 0 && child.outcome === 'completed',
    });
  }
  const byOutcome: Record<string, number> = {};
  for (const g of groups) byOutcome[g.outcome ?? 'unfinished'] = (byOutcome[g.outcome ?? 'unfinished'] ?? 0) + 1;
  const rerouted = groups.flatMap((g) => (g.reroutedAfterMs !== undefined ? [g.reroutedAfterMs] : []));
  const limits = emulator.faults.list();
  const arm429s = Object.values(limits.rateLimits.throttled).reduce((a, b) => a + b, 0) + limits.throttledByFault;
  const failing = groups.find((g) => g.group === story.failingGroup);
  const failingUnlinks = groupProblems(story, story.failingGroup);

  // The evidence package: every group's runbook audited into a folder of its own, the summary table linking them.
  reporter.log(`writing the evacuation's evidence package (${groups.length} runbook histories, each replayed)…`);
  const outDir = ctx.options.outDir
    ? path.resolve(ctx.options.outDir)
    : defaultEvidenceDir(story.handle.workflowId, undefined, story.runId);
  const audit = await auditEvacuation({
    client,
    workflowId: story.handle.workflowId,
    outDir,
    source: { kind: 'temporal', address: ctx.target.address, namespace: ctx.target.namespace },
    force: true,
  });
  for (const g of groups) {
    const dir = audit.groups.find((a) => a.group === g.group)?.dir;
    if (dir) g.evidence = dir;
  }
  summary.evidenceDir = audit.dir;
  summary.verdict = audit.verified ? 'verified' : 'diverged';
  summary.forceUnlinks = unlinksTotal;
  reporter.emit(
    {
      type: 'evidence',
      dir: audit.dir,
      files: [
        { name: 'README.md', bytes: 0 },
        ...audit.groups.flatMap((g) => (g.dir ? [{ name: `${g.dir}/`, bytes: 0 }] : [])),
      ],
      totalBytes: 0,
      verdict: summary.verdict,
    },
    `evidence package: ${audit.dir} (README.md links ${audit.groups.filter((g) => g.dir).length} group report(s)); replay ${summary.verdict}`,
  );

  const evacuation: EvacuationDrillSummary = {
    workflowId: story.handle.workflowId,
    runId: story.runId,
    region: ctx.plan.failedRegion,
    outcome: result.outcome,
    unlinkApproval: status.unlinkApproval,
    batchApprovals: story.batchApprovals,
    concurrency: status.concurrency,
    groups,
    byOutcome,
    interventionsResolved: [...story.interventions.values()].reduce((a, b) => a + b, 0),
    failingGroup: story.failingGroup,
    ...(rerouted.length === groups.length && rerouted.length > 0 ? { allReroutedMs: Math.max(...rerouted) } : {}),
    writeBucketFloorMs: Math.round((groups.length / ARM_WRITES_PER_SECOND) * 1000),
    arm429s,
    throttledActivityFailures: throttled,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  summary.evacuation = evacuation;
  summary.outcome = result.outcome;
  if (evacuation.allReroutedMs !== undefined) summary.rtoMs = evacuation.allReroutedMs;

  const n = groups.length;
  return [
    {
      check: 'outcome',
      ok: result.outcome === 'completed' && (byOutcome.completed ?? 0) === n,
      detail: `${result.outcome}: ${result.summary}`,
    },
    {
      check: 'links',
      ok: broken.length === 0 && emulator.state().regionsInOutage.length === 0,
      detail:
        broken.length === 0
          ? `every member of all ${n} group(s) lists every other as Linked`
          : broken.slice(0, 5).join('; '),
    },
    {
      check: 'endpoint',
      ok: endpointProblems.length === 0,
      detail:
        endpointProblems.length === 0
          ? `the ${ctx.plan.failedRegion} endpoint of all ${n} Traffic Manager profile(s) is Enabled`
          : endpointProblems.slice(0, 5).join('; '),
    },
    {
      check: 'force-unlink',
      ok: unlinkProblems.length === 0,
      detail:
        unlinkProblems.length === 0
          ? `exactly one force-unlink succeeded per group (${unlinksTotal} in all; ${failingUnlinks.failedUnlinks} failed attempt(s) of ${story.failingGroup} before)`
          : unlinkProblems.slice(0, 5).join('; '),
    },
    {
      check: 'intervention',
      ok: (failing?.interventions ?? 0) >= 1 && failing?.outcome === 'completed',
      detail:
        (failing?.interventions ?? 0) >= 1
          ? `${story.failingGroup} waited at intervention:force-unlink, was retried after the fault was cleared and ${failing?.outcome ?? 'did not finish'}`
          : `${story.failingGroup} never waited at its intervention gate`,
    },
    {
      check: 'throttling',
      ok: throttled === 0,
      detail: `${throttled} activity attempt(s) failed on a 429 (ARM answered ${arm429s} 429(s) in all)`,
    },
    {
      check: 'replay',
      ok: audit.verified,
      detail: audit.verified
        ? `every group's history (${audit.groups.filter((g) => g.dir).length}) replays against the current workflow code`
        : `diverged: ${audit.groups
            .filter((g) => g.verdict === 'diverged')
            .map((g) => g.group)
            .join(', ')}`,
    },
  ];
}
