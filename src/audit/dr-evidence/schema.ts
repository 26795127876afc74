/**
 * The DR evidence package's data model (summary.json), as a zod schema: the JSON Schema in
 * schemas/dr-evidence.schema.json is generated from it (scripts/generate-schemas.ts), and summary.json is checked
 * against it before it is written. The runs, their destructive calls and the answer are read from the runs'
 * histories and evidence reports; the snapshot is what ARM answered when the package was written.
 */
import { z } from 'zod';
import { RUNBOOK_MODES } from '../../contract/runbook';
import { auditVerifyOutputSchema } from '../report/schema';

const time = z.iso.datetime({ offset: true }).describe('ISO 8601 time (UTC)');
const ms = z.number().nonnegative().describe('milliseconds');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const runKindSchema = z
  .enum(RUNBOOK_MODES)
  .describe(
    "the run's kind, from its input's mode: incident (absent mode), rehearsal (a planned failover of a healthy " +
      'region) or drill (an incident runbook on an injected outage); a rejoinRunbook has the kind of the ' +
      "group's last failover before it in the package (else incident)",
  );

const approval = z.object({
  who: z.string(),
  gate: z.string().describe('approval-unlink, approval-rejoin, intervention:<step>, or start'),
  decision: z.string(),
  signed: z
    .enum(['signed', 'declared'])
    .describe("'signed': a signature the run's audit verified; 'declared': only the step log's word"),
  at: time,
});

export const drRunSchema = z
  .object({
    workflowId: z.string(),
    runId: z.string().optional(),
    workflowType: z.string().describe('failoverRunbook or rejoinRunbook'),
    kind: runKindSchema,
    group: z.string(),
    region: z.string().describe('the failed (or rehearsed) region; for rejoinRunbook the region that rejoined'),
    incident: z.string().optional(),
    environment: z
      .enum(['drill', 'production', 'unknown'])
      .describe("the run's ARM endpoint as its evidence report judges it (drill: an emulator)"),
    startedAt: time,
    closedAt: time.optional(),
    execution: z.string().describe('running, completed, failed, canceled, terminated, timed-out'),
    outcome: z.string().describe("the runbook's outcome (completed, aborted, stopped, refused), else the execution"),
    clean: z.boolean().describe('completed and left nothing open'),
    rto: z.object({
      ms: ms.optional().describe('measured: start → traffic rerouted; absent when traffic did not move'),
      target: z.string().optional().describe("the group's durations.rtoTarget as the run recorded it"),
      targetMs: ms.optional(),
      met: z.boolean().optional().describe('absent when either the measurement or the target is missing'),
    }),
    destructive: z
      .object({
        exercised: z.boolean().describe('a destructive ARM call (force-unlink, force-link, recreate) was made'),
        forceUnlink: z.boolean().describe('force-unlink called ARM'),
        rejoin: z.boolean().describe('the rejoin called ARM (force-link, or delete and recreate)'),
      })
      .describe('whether the destructive steps were exercised (README: the quarterly DR evidence)'),
    requestedBy: z.string(),
    requestSigned: z.boolean().describe("the commander's start request carries a signature the audit verified"),
    approvals: z.array(approval).describe('every decision on a gate, in order (the start is requestedBy)'),
    replay: z.object({
      verdict: z.enum(['verified', 'diverged']),
      checkedAt: time,
      against: z.string(),
    }),
    package: z
      .object({
        dir: z.string().describe("the run's own evidence package, relative to the DR package"),
        sums: sha256.describe("sha256 of the run package's SHA256SUMS"),
      })
      .optional()
      .describe("the run's evidence package (absent only in a summary built without packages)"),
  })
  .describe('one runbook run of the period');

export const destructiveCallSchema = z
  .object({
    workflowId: z.string(),
    runId: z.string().optional(),
    group: z.string(),
    kind: z.enum(['force-unlink', 'force-link', 'database-creation']),
    step: z.string().describe('the runbook step that made it (a destructive step of src/contract/steps.ts)'),
    activity: z.string(),
    databaseId: z.string().optional().describe('the database unlinked, linked or created'),
    calledOn: z.string().optional().describe('force-unlink: the survivor the call was made on'),
    scheduledAt: time.describe('the runbook asked for it (ActivityTaskScheduled)'),
    startedAt: time.optional().describe("the worker's last attempt started (ActivityTaskStarted)"),
    closedAt: time.optional().describe('it ended (ActivityTaskCompleted, Failed, TimedOut or Canceled)'),
    attempt: z.number().int().optional(),
    outcome: z.enum(['completed', 'failed', 'timed-out', 'canceled', 'pending']),
    called: z
      .boolean()
      .describe('false: the activity found nothing to do (skipped) and made no destructive call; see note'),
    operationId: z.string().optional().describe('the ARM long-running operation it called or resumed'),
    note: z.string().optional(),
    eventId: z.number().int().positive().describe('the ActivityTaskScheduled event in the run history'),
  })
  .describe('one destructive ARM call the runbook asked for, with its times from the history');

const snapshotMember = z.object({
  region: z.string(),
  databaseId: z.string(),
  readable: z.boolean(),
  error: z.string().optional().describe('why ARM could not be read for this member'),
  groupNickname: z.string().optional(),
  linkedDatabases: z.array(z.object({ id: z.string(), state: z.string() })).optional(),
  sku: z.string().optional(),
  capacity: z.number().optional(),
  modules: z.array(z.object({ name: z.string(), args: z.string().optional(), version: z.string().optional() })),
  evictionPolicy: z.string().optional(),
  clusteringPolicy: z.string().optional(),
  clientProtocol: z.string().optional().describe('Encrypted (TLS) or Plaintext'),
  minimumTlsVersion: z.string().optional().describe("the cluster's minimum TLS version"),
  provisioningState: z.string().optional().describe("the database's"),
  resourceState: z.string().optional().describe("the database's"),
  clusterProvisioningState: z.string().optional(),
  clusterResourceState: z.string().optional(),
});

export const snapshotSchema = z
  .object({
    status: z
      .enum(['read', 'partial', 'unavailable'])
      .describe('read: every member answered; partial: some did not; unavailable: ARM could not be read at all'),
    at: time.describe('when ARM was read (the package date)'),
    reason: z.string().optional().describe('why ARM could not be read, in words'),
    armEndpoint: z.string().optional(),
    groups: z.array(
      z.object({
        group: z.string(),
        members: z.array(snapshotMember),
      }),
    ),
  })
  .describe("each group's members as ARM shows them when the package is written, through the workers' SDK clients");

const groupAnswer = z.object({
  group: z.string(),
  runs: z.number().int().nonnegative(),
  rehearsals: z.number().int().nonnegative(),
  drills: z.number().int().nonnegative(),
  incidents: z.number().int().nonnegative(),
  tested: z.boolean().describe('at least one rehearsal or drill of the group completed in the period'),
  lastTest: time.optional().describe('the start of its last completed rehearsal or drill'),
  rtoTarget: z.string().optional(),
  measured: z.number().int().nonnegative().describe('runs with a measured RTO and a target'),
  met: z.number().int().nonnegative(),
  missed: z.number().int().nonnegative(),
  destructiveExercised: z.boolean(),
});

export const drEvidenceSchema = z
  .object({
    schemaVersion: z.literal(1),
    kind: z.literal('dr-evidence'),
    generatedAt: time,
    generator: z.object({
      name: z.literal('geofailover'),
      version: z.string(),
      commit: z.string().optional(),
    }),
    period: z.object({ from: time, to: time, label: z.string().describe('as given: --from … --to …') }),
    group: z.string().optional().describe('--group, when the package covers one group'),
    source: z.object({ address: z.string().optional(), namespace: z.string().optional() }),
    answer: z
      .object({
        tested: z.boolean().describe('every group in scope had a completed rehearsal or drill in the period'),
        rtoMet: z
          .boolean()
          .optional()
          .describe('every measured RTO met its target; absent when no run measured one against a target'),
        headline: z.string().describe('the answer to "was DR tested in the period, and did it meet the target?"'),
        groups: z.array(groupAnswer),
      })
      .describe('the first screen'),
    runs: z.array(drRunSchema).describe('every run of the period, oldest first'),
    destructiveCalls: z.array(destructiveCallSchema).describe('every destructive ARM call of the period, in order'),
    snapshot: snapshotSchema,
    replayVerified: z.boolean().describe('every run replays against the current workflow code'),
  })
  .describe('geofailover DR evidence: every runbook run of a period, the group snapshot and the destructive calls');

export type DrEvidence = z.infer<typeof drEvidenceSchema>;
export type DrRun = z.infer<typeof drRunSchema>;
export type DrDestructiveCall = z.infer<typeof destructiveCallSchema>;
export type DrSnapshot = z.infer<typeof snapshotSchema>;
export type DrSnapshotMember = z.infer<typeof snapshotMember>;
export type DrGroupAnswer = z.infer<typeof groupAnswer>;
export type RunKind = z.infer<typeof runKindSchema>;

/** What `geofailover evidence --json` prints. */
export const evidenceOutputSchema = z
  .object({
    dir: z.string().describe('the DR evidence package directory'),
    period: drEvidenceSchema.shape.period,
    answer: drEvidenceSchema.shape.answer,
    runs: z.array(
      drRunSchema.pick({ workflowId: true, runId: true, kind: true, group: true, region: true, outcome: true }).extend({
        rtoMs: ms.optional(),
        rtoMet: z.boolean().optional(),
        verdict: z.enum(['verified', 'diverged']),
        package: z.string().optional(),
      }),
    ),
    destructiveCalls: z.number().int().nonnegative(),
    snapshot: z.object({ status: snapshotSchema.shape.status, reason: z.string().optional() }),
    files: z.number().int().nonnegative().describe('files SHA256SUMS lists'),
    signedBy: z
      .object({ fingerprint: z.string(), publicKey: z.string() })
      .optional()
      .describe('the key that signed SHA256SUMS; absent: unsigned'),
    replayVerified: z.boolean(),
  })
  .describe('geofailover evidence --json: the DR evidence package written');

export type EvidenceOutput = z.infer<typeof evidenceOutputSchema>;

const finding = z.object({ check: z.string(), file: z.string().optional(), message: z.string() });

/** What `geofailover evidence --verify DIR --json` prints. */
export const evidenceVerifyOutputSchema = z
  .object({
    dir: z.string(),
    verified: z.boolean().describe('true when nothing failed (exit 0)'),
    sums: z.object({ files: z.number().int().nonnegative(), ok: z.number().int().nonnegative() }),
    sumsSignature: auditVerifyOutputSchema.shape.sumsSignature,
    summary: z.object({ status: z.enum(['matches', 'differs', 'not-checked']), detail: z.string() }),
    runs: z.array(z.object({ dir: z.string(), verified: z.boolean(), failures: z.array(z.string()) })),
    failures: z.array(finding),
    warnings: z.array(z.string()),
  })
  .describe('geofailover evidence --verify DIR --json: what was checked in a DR evidence package, and what failed');

export type EvidenceVerifyOutput = z.infer<typeof evidenceVerifyOutputSchema>;

function render(schema: z.ZodType, title: string): string {
  return `${JSON.stringify({ title, ...z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) }, null, 2)}\n`;
}

/** schemas/dr-evidence.schema.json, cli-evidence.schema.json and cli-evidence-verify.schema.json. */
export function renderDrEvidenceSchemas(): Record<string, string> {
  return {
    'dr-evidence.schema.json': render(drEvidenceSchema, 'geofailover DR evidence (summary.json)'),
    'cli-evidence.schema.json': render(evidenceOutputSchema, 'geofailover evidence --json'),
    'cli-evidence-verify.schema.json': render(evidenceVerifyOutputSchema, 'geofailover evidence --verify DIR --json'),
  };
}
