/**
 * The evidence report's data model (report.json), as a zod schema: the JSON Schema in
 * schemas/evidence-report.schema.json is generated from it (scripts/generate-schemas.ts), and report.json is
 * checked against it before it is written. Everything in it is read from the workflow's history.
 */
import { z } from 'zod';
import { STEP_NAMES } from '../../contract/names';

const time = z.iso.datetime({ offset: true }).describe('ISO 8601 time (UTC)');
const ms = z.number().nonnegative().describe('milliseconds');
const eventRef = z.number().int().positive().describe('id of the history event this comes from');

const stepStatus = z
  .enum(['pending', 'running', 'succeeded', 'failed', 'skipped', 'waiting', 'unknown'])
  .describe(
    "the step's status, as the status query reports it; 'unknown' only in a partial report, when the history does not show it",
  );

const step = z
  .object({
    step: z.enum(STEP_NAMES).describe("runbook step, in the runbook's order (README: Running an incident)"),
    status: stepStatus,
    startedAt: time.optional(),
    endedAt: time.optional(),
    durationMs: ms.optional().describe('endedAt - startedAt'),
    attempts: z
      .number()
      .int()
      .nonnegative()
      .describe('how many times the step started (activity attempts when partial)'),
    actor: z.string().optional().describe('who the step acted for: approvers of a gate, who signalled recovery'),
    summary: z.string().describe("the step's own one-line account"),
    source: z
      .enum(['result', 'history-events'])
      .describe("'result': the runbook's step log in its completion result; 'history-events': rebuilt from events"),
  })
  .describe('one step of the runbook');

const fingerprint = z.string().describe('`SHA256:…` of the signing key, as `ssh-keygen -l` prints it');

const signature = z
  .object({
    verified: z
      .boolean()
      .describe(
        "the auditor's own check, not the step log's claim: the signature verifies against a key the recorded policy " +
          'lists for the signer, the statement is for this workflow, run, action and gate, valid when it arrived, ' +
          'and the signer holds the role',
      ),
    signer: z.string().optional().describe("the statement's actor (who signed, when verified)"),
    fingerprint: fingerprint.optional(),
    reason: z.string().optional().describe('why it does not verify'),
    action: z.string().optional().describe("the statement's action"),
    gate: z.string().nullable().optional().describe("the statement's gate"),
    gateInstance: z.number().int().nullable().optional().describe("the statement's gate instance"),
  })
  .describe('who signed a decision, checked again by the auditor against the recorded policy');

const vote = z.object({
  approver: z.string(),
  decision: z.enum(['approve', 'reject']),
  via: z.enum(['decide', 'signal']),
  at: time,
  comment: z.string().optional(),
  fingerprint: fingerprint.optional().describe('the key that signed it, as the auditor found it'),
  verified: z.boolean().describe("the auditor's own check of the vote's proof (not the step log's claim)"),
  reason: z.string().optional().describe('why its proof does not verify'),
});

const intervention = z.object({
  action: z.enum(['retry', 'skip', 'abort']),
  by: z.string(),
  at: time,
  comment: z.string().optional(),
  fingerprint: fingerprint.optional(),
  verified: z
    .boolean()
    .describe('whether an intervene decision in the history with a signature the auditor verified backs it'),
});

const gate = z
  .object({
    step: z.enum(STEP_NAMES),
    gate: z.string().describe('approval-unlink, approval-rejoin, or intervention:<step>'),
    kind: z.enum(['approval', 'intervention']),
    requestedAt: time,
    quorum: z.number().int().nonnegative(),
    eligibleApprovers: z.array(z.string()).describe("the group's approvers except the requester (four-eyes)"),
    votes: z.array(vote).describe('accepted votes, in order'),
    outcome: z.string().optional().describe('approved, rejected, timed-out, withdrawn, aborted, retry, skipped'),
    decidedAt: time.optional(),
    escalatedAt: time.optional(),
    interventions: z.array(intervention).optional().describe('intervention gates: the answers, in order'),
    request: z
      .unknown()
      .optional()
      .describe('what the approvers were asked to decide on (evidence, failure, blast radius)'),
    seen: z
      .object({
        trigger: z.string().optional().describe('why the gate opened (the unlink trigger, or the failed step)'),
        memoryTrend: z.string().optional().describe("the survivors' memory trend the approvers were shown"),
        outage: z.string().optional().describe('how long the region had been out when the gate opened'),
        blastRadius: z.array(z.string()).optional().describe('what an approval changes, one line per resource'),
        dataDiscarded: z
          .string()
          .optional()
          .describe('the data an approval discards: a rejoin discards the rejoining region’s data'),
        failure: z.string().optional().describe('an intervention gate: the failure of the step'),
      })
      .describe('what the approvers saw when they decided, in words (from request)'),
  })
  .describe('a gate the runbook opened, as its step log recorded it');

const decisionRow = z
  .object({
    gate: z.string().describe('the gate decided (approval-unlink, intervention:<step>…), or the action without a gate'),
    decision: z.string().describe('approve, reject, retry, skip, abort, start, regionRecovered, unlinkNow'),
    who: z.string(),
    signed: z
      .enum(['signed', 'declared'])
      .describe("'signed': a signature this audit verified; 'declared': only the step log's word"),
    fingerprint: fingerprint.optional(),
    at: time,
    saw: z.string().describe('what the decider saw: the gate’s trigger, memory trend, blast radius, data discarded'),
  })
  .describe('one decision of a person, in order');

const decision = z
  .object({
    eventId: eventRef,
    at: time,
    kind: z.enum(['signal', 'update']),
    name: z
      .string()
      .describe('signal or update name: approve, reject, decide, intervene, regionRecovered, unlinkNow, abort'),
    actor: z.string().optional().describe('who the payload says acts (approver or by), as claimed'),
    identity: z
      .string()
      .optional()
      .describe(
        'the Temporal client identity the sender declared: self-declared (any client sets any identity), so it is ' +
          'no evidence of who sent it; the signature is',
      ),
    updateId: z.string().optional(),
    payload: z.unknown().describe('the decoded payload'),
    verdict: z
      .enum(['accepted', 'refused', 'failed', 'unknown'])
      .describe(
        "the runbook's answer, except that a decision whose signature the auditor cannot verify is 'refused'; " +
          "'unknown' while the runbook runs and did not answer in history",
      ),
    runbookVerdict: z
      .enum(['accepted', 'refused', 'failed', 'unknown'])
      .optional()
      .describe("the runbook's own answer, when it differs from verdict (a signature the auditor cannot verify)"),
    signature,
    reason: z.string().optional().describe('why it was refused'),
    detail: z.string().optional().describe('what an accepted decision did'),
  })
  .describe('a signal or accepted update someone sent the runbook (validator-rejected updates leave no event)');

const refused = z.object({
  step: z.enum(STEP_NAMES),
  by: z.string(),
  action: z.string(),
  via: z.enum(['decide', 'signal']),
  reason: z.string(),
  at: time,
  gate: z.string().optional(),
});

const linked = z.object({ id: z.string(), region: z.string().optional(), state: z.string() });

const member = z
  .object({
    region: z.string(),
    databaseId: z.string(),
    reachable: z.boolean(),
    provisioningState: z.string().optional(),
    resourceState: z.string().optional(),
    linkedDatabases: z.array(linked).optional(),
    error: z.string().optional(),
    at: time.optional().describe('when this read completed'),
    eventId: eventRef.optional(),
  })
  .describe("one member's read (describeMember)");

const memoryReading = z.object({
  percent: z.number(),
  usedBytes: z.number().optional(),
  maxBytes: z.number().optional(),
  at: time,
});

const memory = z
  .object({
    region: z.string(),
    readings: z.number().int().nonnegative(),
    first: memoryReading,
    last: memoryReading,
    peak: memoryReading,
    grade: z.enum(['ok', 'elevated', 'critical']).describe("the peak's grade by the group's thresholds"),
  })
  .describe("a survivor's memory use over the run (readMemory)");

const probe = z.object({
  applicationRegion: z.string(),
  memberRegion: z.string(),
  address: z.string().optional(),
  outcome: z.string().describe('ok, refused, timeout, tls-error, auth-error, error, or not-run'),
  failedStage: z.string().optional(),
  latencyMs: z.number().optional(),
  error: z.string().optional(),
});

const probeRound = z
  .object({
    step: z
      .enum(['firewall', 'await-recovery', 'traffic-failback', 'unknown'])
      .describe(
        "the step that probed: firewall (the survivors), await-recovery (the failed region's checks), traffic-failback",
      ),
    at: time,
    eventId: eventRef,
    results: z.array(probe),
  })
  .describe('one round of probes from the application regions (probeEndpoints on each probe task queue)');

const endpoint = z.object({
  name: z.string(),
  endpointStatus: z.string(),
  endpointMonitorStatus: z.string().optional(),
  priority: z.number().optional(),
});
const profile = z.object({ profileId: z.string(), endpoints: z.array(endpoint) });

const activity = z
  .object({
    activityId: z.string(),
    type: z.string(),
    step: z.string().optional().describe('the runbook step it served, as far as the history shows'),
    taskQueue: z.string().optional(),
    scheduledEventId: eventRef,
    scheduledAt: time,
    startedAt: time.optional(),
    closedAt: time.optional(),
    attempt: z.number().int().optional().describe('the attempt that ended it (earlier retries leave no events)'),
    outcome: z.enum(['completed', 'failed', 'timed-out', 'canceled', 'pending']),
    failure: z.string().optional(),
    identity: z.string().optional().describe('the worker that ran the last attempt'),
  })
  .describe('one activity the runbook scheduled');

export const evidenceReportSchema = z
  .object({
    schemaVersion: z.literal(1),
    generatedAt: time,
    generator: z.object({
      name: z.literal('geofailover'),
      version: z.string(),
      commit: z.string().optional().describe('the git commit of the code that wrote the report, when known'),
    }),
    environment: z
      .object({
        mode: z
          .enum(['drill', 'production', 'unknown'])
          .describe(
            "production: the worker acted through Azure Resource Manager (management.azure.com or a sovereign cloud's); " +
              'drill: through any other endpoint (the emulator); unknown: the history does not record it',
          ),
        armEndpoint: z.string().optional().describe('the origin of the ARM endpoint, as loadPolicy recorded it'),
        basis: z.string().describe('why the report calls it so'),
      })
      .describe('drill or production, from the ARM endpoint the worker recorded'),
    source: z
      .object({
        kind: z.enum(['temporal', 'file']),
        file: z.string().optional().describe('the history file given with --history'),
        address: z.string().optional().describe('the Temporal server it was fetched from'),
        namespace: z.string().optional(),
      })
      .describe('where the history came from'),
    partial: z.boolean().describe('true while the workflow has not closed: parts are rebuilt from events'),
    partialReason: z.string().optional(),
    workflow: z.object({
      workflowId: z.string(),
      runId: z.string().optional(),
      workflowType: z.string(),
      taskQueue: z.string().optional(),
      execution: z.enum(['running', 'completed', 'failed', 'canceled', 'terminated', 'timed-out', 'continued-as-new']),
      startedAt: time,
      closedAt: time.optional(),
      durationMs: ms.optional(),
      startedByIdentity: z
        .string()
        .optional()
        .describe('the Temporal client identity that started it: self-declared, no evidence of who did'),
      summary: z.string().optional().describe('the static summary given at start'),
      historyEvents: z.number().int().positive(),
      lastEventAt: time,
      closeReason: z.string().optional().describe('terminate reason or failure message when it did not complete'),
    }),
    request: z
      .object({
        requestedBy: z
          .string()
          .describe("the verified signer of the start request, else the step log's claim (see signature)"),
        signature: signature.describe("the commander's signed start request, checked by the auditor"),
        policyDigest: z.string().optional().describe("the digest of the worker's policy the run acted under"),
        reason: z.string(),
        region: z.string().describe('the failed region (failoverRunbook) or the region that rejoins (rejoinRunbook)'),
        regionRole: z.enum(['failed', 'rejoining']),
        group: z
          .record(z.string(), z.unknown())
          .describe("the whole group definition acted on, from the worker's recorded policy (config acted on)"),
        acceptSettingsMismatch: z.boolean().optional(),
        incident: z.string().optional().describe("the incident's id in the organisation's tracker (start --incident)"),
        tuning: z.unknown().optional(),
      })
      .describe("who started the runbook and why: the workflow's input and its signed request"),
    policy: z
      .object({
        digest: z.string(),
        digestMatches: z.boolean().describe('whether digest is the digest of the recorded group and people'),
        eventId: eventRef.describe('the ActivityTaskCompleted event of loadPolicy that recorded it'),
        people: z
          .record(z.string(), z.array(z.string()))
          .describe('person → OpenSSH public key lines: the keys every signature is checked against'),
        fingerprints: z.record(z.string(), z.array(fingerprint)).describe('person → their key fingerprints'),
      })
      .optional()
      .describe("the worker's policy as its loadPolicy activity recorded it in the history; absent when none was"),
    signatures: z
      .array(
        z.object({
          file: z
            .string()
            .describe('NN-<action>-<signer>: signatures/<file>.statement and .sig in the evidence package'),
          action: z.string(),
          signer: z.string(),
          fingerprint,
          at: time.describe('when the decision reached the runbook'),
          eventId: eventRef.describe('the history event that carried it'),
          statement: z.string().describe('the exact signed statement text'),
          signature: z.string().describe('the armored SSHSIG (namespace geofailover)'),
        }),
      )
      .describe('every accepted decision (and the start request) whose signature the auditor verified, in order'),
    outcome: z.object({
      outcome: z
        .string()
        .optional()
        .describe("the runbook's outcome (completed, aborted, stopped, refused); absent while it runs"),
      summary: z.string(),
      phase: z.string().optional().describe('the last RunbookPhase the runbook set'),
      rtoMs: ms.optional().describe('measured RTO: start → traffic rerouted'),
      rtoSource: z.enum(['result', 'history-events']).optional(),
      rtoTarget: z.string().optional().describe("the group's durations.rtoTarget, as configured"),
      rtoTargetMs: ms.optional(),
      rtoMet: z.boolean().optional().describe('whether the measured RTO met the target; absent when either is missing'),
      clean: z.boolean().describe('true when the run completed and left nothing open (see openItems)'),
    }),
    openItems: z
      .array(z.string())
      .describe('what the run left for people to do: a region still disabled or unlinked, a gate still open, …'),
    decisionTable: z.array(decisionRow).describe("every person's decision, the start included, in order"),
    steps: z.array(step),
    phases: z.array(z.object({ phase: z.string(), at: time, eventId: eventRef })).describe('RunbookPhase changes'),
    gates: z.array(gate),
    decisions: z.array(decision),
    refusedAttempts: z.array(refused).describe("refused attempts, as the runbook's step log recorded them"),
    membership: z.object({
      before: z.array(member).describe('every member as the membership step read it'),
      after: z.array(member).describe("each member's last read in the history"),
    }),
    memory: z.array(memory),
    probes: z.array(probeRound),
    traffic: z.object({
      profileId: z.string().optional(),
      before: profile.optional().describe('the profile before the first change'),
      after: profile.optional().describe('the profile after the last change'),
      changes: z.array(
        z.object({
          at: time,
          eventId: eventRef,
          endpoint: z.string(),
          status: z.string().describe('what the endpoint was set to'),
          changed: z.boolean().describe('false when it already had that status'),
          serving: z.array(z.string()).describe('enabled endpoints right after this change'),
        }),
      ),
    }),
    activities: z.array(activity),
    finalState: z
      .object({
        execution: z.string(),
        outcome: z.string().optional(),
        phase: z.string().optional(),
        servingEndpoints: z.array(z.string()).optional().describe('enabled endpoints after the last traffic change'),
        membersListing: z
          .array(z.object({ region: z.string(), lists: z.array(z.string()) }))
          .optional()
          .describe('which other regions each reachable member lists as Linked, at its last read'),
      })
      .describe('the state the run left behind, as far as the history shows'),
    replay: z
      .object({
        verdict: z.enum(['verified', 'diverged']),
        workflowType: z.string(),
        errorKind: z.enum(['nondeterminism', 'replay-error']).optional(),
        mismatch: z
          .object({
            eventId: z.number().int().positive().optional(),
            eventType: z.string().optional(),
            message: z.string(),
          })
          .optional()
          .describe('the first history event the current code did not reproduce'),
        checkedAt: time,
        durationMs: ms,
        against: z.string(),
        code: z
          .object({
            version: z.string().describe('the geofailover version that replayed'),
            commit: z.string().optional().describe('its git commit, when known'),
            bundleSha256: z
              .string()
              .optional()
              .describe('sha256 of the workflow bundle the history was replayed against'),
          })
          .optional()
          .describe('the code the history was replayed against'),
        runs: z
          .array(
            z.object({
              run: z.number().int().positive(),
              runId: z.string(),
              events: z.number().int().nonnegative(),
              verdict: z.enum(['verified', 'diverged']),
            }),
          )
          .optional()
          .describe('an incident that continued as new: every run replayed on its own, first run first'),
      })
      .describe('whether the history still replays against the current workflow code'),
  })
  .describe('geofailover evidence report: one runbook execution, read from its Temporal history');

export type EvidenceReport = z.infer<typeof evidenceReportSchema>;
export type ReportStep = z.infer<typeof step>;
export type ReportGate = z.infer<typeof gate>;
export type ReportDecision = z.infer<typeof decision>;
export type ReportMember = z.infer<typeof member>;
export type ReportMemory = z.infer<typeof memory>;
export type ReportProbeRound = z.infer<typeof probeRound>;
export type ReportProbe = z.infer<typeof probe>;
export type ReportProfile = z.infer<typeof profile>;
export type ReportActivity = z.infer<typeof activity>;
export type ReportRefusedAttempt = z.infer<typeof refused>;
export type ReportSignature = z.infer<typeof signature>;
export type ReportDecisionRow = z.infer<typeof decisionRow>;
export type ReportEnvironment = EvidenceReport['environment'];

/** What `geofailover audit --json` prints. */
export const auditOutputSchema = z
  .object({
    workflowId: z.string(),
    runId: z.string().optional(),
    verdict: z.enum(['verified', 'diverged']),
    mismatch: evidenceReportSchema.shape.replay.shape.mismatch,
    partial: z.boolean(),
    outcome: z.string().optional(),
    rtoMs: ms.optional(),
    package: z.object({
      dir: z.string().describe('the evidence package directory'),
      files: z.array(
        z.object({
          name: z.string(),
          bytes: z.number().int().nonnegative(),
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
        }),
      ),
      totalBytes: z.number().int().nonnegative(),
      signatures: z
        .number()
        .int()
        .nonnegative()
        .describe('decisions in signatures/ (accepted, signature verified; the start request included)'),
      signedBy: z
        .object({ fingerprint, publicKey: z.string() })
        .optional()
        .describe('the key that signed SHA256SUMS (SHA256SUMS.sig); absent: the package is unsigned'),
    }),
  })
  .describe('geofailover audit --json: the replay verdict and the evidence package written');

export type AuditOutput = z.infer<typeof auditOutputSchema>;

/** What `geofailover audit --verify DIR --json` prints. */
export const auditVerifyOutputSchema = z
  .object({
    dir: z.string(),
    verified: z.boolean().describe('true when nothing failed (exit 0)'),
    sums: z
      .object({ files: z.number().int().nonnegative(), ok: z.number().int().nonnegative() })
      .describe('files SHA256SUMS lists, and how many match'),
    sumsSignature: z
      .union([
        z.object({ status: z.literal('unsigned') }),
        z.object({
          status: z.literal('verified'),
          signer: z.string(),
          fingerprint,
          trustedFrom: z.string().describe('the trusted signers it was checked against'),
        }),
        z.object({ status: z.literal('failed'), reason: z.string(), fingerprint: fingerprint.optional() }),
      ])
      .describe('SHA256SUMS.sig, checked against --allowed-signers or the configuration, never the package'),
    decisions: z.array(
      z.object({
        file: z.string().describe('NN-<action>-<signer> in signatures/'),
        signer: z.string(),
        fingerprint: fingerprint.optional(),
        ok: z.boolean(),
        reason: z.string().optional(),
        trusted: z
          .boolean()
          .optional()
          .describe("when the trusted signers name the signer: whether they list the decision's key for them"),
      }),
    ),
    report: z.object({
      status: z.enum(['matches', 'differs', 'not-checked']),
      detail: z.string(),
    }),
    failures: z.array(
      z.object({
        check: z.enum(['sums', 'sums-signature', 'decisions', 'report', 'package']),
        file: z.string().optional(),
        message: z.string(),
      }),
    ),
    warnings: z.array(z.string()),
  })
  .describe('geofailover audit --verify DIR --json: what was checked in an evidence package, and what failed');

export type AuditVerifyOutput = z.infer<typeof auditVerifyOutputSchema>;

function render(schema: z.ZodType, title: string): string {
  return `${JSON.stringify({ title, ...z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) }, null, 2)}\n`;
}

/** schemas/evidence-report.schema.json, cli-audit.schema.json and cli-audit-verify.schema.json, as generate-schemas writes them. */
export function renderAuditSchemas(): Record<string, string> {
  return {
    'evidence-report.schema.json': render(evidenceReportSchema, 'geofailover evidence report (report.json)'),
    'cli-audit.schema.json': render(auditOutputSchema, 'geofailover audit --json'),
    'cli-audit-verify.schema.json': render(auditVerifyOutputSchema, 'geofailover audit --verify DIR --json'),
  };
}
