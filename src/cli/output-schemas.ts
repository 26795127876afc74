/**
 * JSON Schemas of what the runbook commands print under `--json`, published in schemas/ by
 * scripts/generate-schemas.ts. Nested contract records allow extra properties: the runbook may add
 * evidence and fields without breaking readers.
 */
import { UNLINK_APPROVAL_POLICIES } from '../contract/evacuation';
import { RUNBOOK_PHASES, STEP_NAMES, STEP_STATUSES } from '../contract/names';

type JsonSchema = Record<string, unknown>;

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';
const isoTime = { type: 'string', format: 'date-time' };
const text = { type: 'string' };
const texts = { type: 'array', items: text };

const openGate: JsonSchema = {
  type: 'object',
  required: ['gate', 'requestedAt', 'quorum', 'approvals'],
  properties: {
    gate: text,
    requestedAt: isoTime,
    quorum: { type: 'integer', minimum: 1 },
    approvals: texts,
    kind: { enum: ['approval', 'intervention'] },
    eligibleApprovers: texts,
    escalatesAt: isoTime,
    escalatedAt: isoTime,
    expiresAt: isoTime,
    howToAnswer: texts,
  },
};

const stepRecord: JsonSchema = {
  type: 'object',
  required: ['step', 'status', 'attempts', 'summary'],
  properties: {
    step: { enum: [...STEP_NAMES] },
    status: { enum: [...STEP_STATUSES] },
    startedAt: isoTime,
    endedAt: isoTime,
    attempts: { type: 'integer', minimum: 0 },
    actor: text,
    summary: text,
    evidence: {},
  },
};

const runbookStatus: JsonSchema = {
  type: 'object',
  required: ['group', 'failedRegion', 'phase', 'currentStep', 'steps'],
  properties: {
    group: text,
    failedRegion: text,
    phase: text,
    currentStep: { anyOf: [{ enum: [...STEP_NAMES] }, { type: 'null' }] },
    steps: { type: 'array', items: stepRecord },
    openGate: openGate,
    mode: { enum: ['rehearsal', 'drill'], description: 'how the run was started, when it is not an incident' },
    continued: {
      type: 'object',
      description: 'the incident continued as new: this run, its first run and when the incident started',
      required: ['run', 'firstRunId', 'incidentStartedAt'],
      properties: { run: { type: 'integer', minimum: 2 }, firstRunId: text, incidentStartedAt: isoTime },
    },
  },
};

const executionStates = ['running', 'completed', 'failed', 'canceled', 'terminated', 'continued-as-new', 'timed-out'];

const runbookViewProperties = {
  workflowId: text,
  runId: text,
  workflowType: text,
  taskQueue: text,
  execution: { enum: [...executionStates, 'unknown'] },
  startedAt: isoTime,
  closedAt: isoTime,
  summary: text,
  status: runbookStatus,
  source: { enum: ['query', 'result', 'none'] },
  note: text,
  outcome: { enum: ['completed', 'aborted', 'stopped', 'refused', ...executionStates.slice(2)] },
  outcomeSummary: text,
  rtoMs: { type: 'number', minimum: 0 },
  webUi: {
    type: 'string',
    format: 'uri',
    description: "the run's page in the Temporal Web UI, when its address is known",
  },
};
const runbookViewRequired = ['workflowId', 'runId', 'workflowType', 'taskQueue', 'execution', 'startedAt', 'source'];

const startResultProperties = {
  workflowId: text,
  runId: text,
  workflowType: { const: 'failoverRunbook' },
  taskQueue: text,
  group: text,
  failedRegion: text,
  survivors: { ...texts, minItems: 1 },
  requestedBy: text,
  reason: text,
  warnings: texts,
  webUi: {
    type: 'string',
    format: 'uri',
    description: "the run's page in the Temporal Web UI, when its address is known",
  },
};
const startResultRequired = Object.keys(startResultProperties).filter((k) => k !== 'webUi');

/** schemas/<file> → schema */
const evacuationChildPhases = ['queued', 'starting', ...RUNBOOK_PHASES, 'not-started'];

const evacuationStatus: JsonSchema = {
  type: 'object',
  required: [
    'region',
    'runId',
    'phase',
    'concurrency',
    'unlinkApproval',
    'startedAt',
    'groups',
    'byPhase',
    'gatesOpen',
    'actions',
  ],
  properties: {
    region: text,
    runId: text,
    phase: { enum: ['validating', 'evacuating', 'aborting', 'completed', 'aborted', 'refused'] },
    requestedBy: text,
    reason: text,
    concurrency: { type: 'integer', minimum: 1 },
    unlinkApproval: { enum: [...UNLINK_APPROVAL_POLICIES] },
    startedAt: isoTime,
    groups: {
      type: 'array',
      items: {
        type: 'object',
        required: ['group', 'workflowId', 'phase'],
        properties: {
          group: text,
          workflowId: text,
          runId: text,
          phase: { enum: evacuationChildPhases },
          rtoMs: { type: 'number', minimum: 0, description: "start → traffic rerouted of this group's runbook" },
          openGate: { type: 'object', required: ['gate'], properties: { gate: text } },
          outcome: text,
          summary: text,
        },
      },
    },
    byPhase: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
    gatesOpen: {
      type: 'array',
      items: {
        type: 'object',
        required: ['workflowId', 'group', 'gate'],
        properties: { workflowId: text, group: text, gate: text },
      },
    },
    actions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['action', 'by', 'at', 'accepted', 'detail'],
        properties: {
          action: { enum: ['abort', 'approve-batch'] },
          by: text,
          at: isoTime,
          accepted: { type: 'boolean' },
          detail: text,
          groups: texts,
        },
      },
    },
    refusal: text,
  },
};

const evacuationViewProperties = {
  execution: { enum: [...executionStates, 'unknown'] },
  status: evacuationStatus,
  outcome: { enum: ['completed', 'partial', 'aborted', 'refused'] },
  summary: text,
};

const evacuateResultProperties = {
  workflowId: text,
  runId: text,
  workflowType: { const: 'regionEvacuation' },
  taskQueue: text,
  region: text,
  groups: texts,
  concurrency: { type: 'integer', minimum: 1 },
  requestedBy: text,
  reason: text,
  dryRun: { type: 'boolean' },
};
const evacuateResultRequired = ['workflowId', 'workflowType', 'taskQueue', 'region', 'groups', 'concurrency'];

export const CLI_OUTPUT_SCHEMAS: Record<string, JsonSchema> = {
  'cli-status.schema.json': {
    $schema: DRAFT,
    title: 'geofailover status --json (with --watch: the last line, type "closed", has the same fields)',
    type: 'object',
    required: runbookViewRequired,
    properties: runbookViewProperties,
    additionalProperties: false,
  },
  'cli-start.schema.json': {
    $schema: DRAFT,
    title: 'geofailover start --json (with --dry-run: the plan; with --wait: the NDJSON lines)',
    oneOf: [
      {
        title: 'started',
        type: 'object',
        required: startResultRequired,
        properties: startResultProperties,
        additionalProperties: false,
      },
      {
        title: 'dry-run plan',
        type: 'object',
        required: [
          'dryRun',
          'workflowId',
          'workflowType',
          'taskQueue',
          'group',
          'failedRegion',
          'steps',
          'gates',
          'input',
        ],
        properties: {
          dryRun: { const: true },
          workflowId: text,
          workflowType: text,
          taskQueue: text,
          group: text,
          failedRegion: text,
          survivors: texts,
          requestedBy: text,
          reason: text,
          steps: {
            type: 'array',
            items: {
              type: 'object',
              required: ['step', 'phase', 'calls', 'gate', 'destructive', 'mutatesTrafficManager', 'action', 'targets'],
              properties: {
                step: { enum: [...STEP_NAMES] },
                phase: { enum: [...RUNBOOK_PHASES] },
                calls: texts,
                gate: { enum: ['approval-unlink', 'approval-rejoin', 'none'] },
                destructive: { type: 'boolean' },
                mutatesTrafficManager: { type: 'boolean' },
                action: text,
                targets: texts,
              },
              additionalProperties: false,
            },
          },
          gates: {
            type: 'array',
            items: {
              type: 'object',
              required: ['gate', 'quorum', 'approvers', 'eligible', 'approvalTimeout', 'escalationTimeout'],
              properties: {
                gate: { enum: ['approval-unlink', 'approval-rejoin', 'intervention'] },
                quorum: { type: 'integer', minimum: 1 },
                approvers: texts,
                eligible: texts,
                approvalTimeout: { type: ['string', 'number'] },
                escalationTimeout: { type: ['string', 'number'] },
              },
              additionalProperties: false,
            },
          },
          warnings: texts,
          input: { type: 'object', required: ['group', 'failedRegion', 'reason', 'request'] },
          checks: {
            description: 'the live checks (absent with --offline): Temporal, a worker per task queue, ARM, each member',
            type: 'array',
            items: {
              type: 'object',
              required: ['check', 'ok', 'detail'],
              properties: { check: text, ok: { type: 'boolean' }, detail: text, next: text },
              additionalProperties: false,
            },
          },
        },
        additionalProperties: false,
      },
      {
        title: '--wait line: started',
        type: 'object',
        required: ['type', ...startResultRequired],
        properties: { type: { const: 'started' }, ...startResultProperties },
        additionalProperties: false,
      },
      {
        title: '--wait / --watch line: a step changed',
        type: 'object',
        required: ['type', 'workflowId', 'at', 'step'],
        properties: { type: { const: 'step' }, workflowId: text, at: isoTime, step: stepRecord },
        additionalProperties: false,
      },
      {
        title: '--wait / --watch line: the open gate changed (null: closed)',
        type: 'object',
        required: ['type', 'workflowId', 'at', 'gate'],
        properties: {
          type: { const: 'gate' },
          workflowId: text,
          at: isoTime,
          gate: { anyOf: [openGate, { type: 'null' }] },
          decided: {
            type: 'object',
            description: 'how a gate ended (from the step log): also for a gate that opened and closed between polls',
            required: ['gate', 'kind', 'outcome', 'requestedAt', 'approvals'],
            properties: {
              gate: text,
              kind: { enum: ['approval', 'intervention'] },
              outcome: text,
              requestedAt: isoTime,
              decidedAt: isoTime,
              approvals: texts,
            },
          },
        },
        additionalProperties: false,
      },
      {
        title: '--wait / --watch line: the workflow closed',
        type: 'object',
        required: ['type', 'at', ...runbookViewRequired],
        properties: { type: { const: 'closed' }, at: isoTime, ...runbookViewProperties },
        additionalProperties: false,
      },
    ],
  },
  'cli-decide.schema.json': {
    $schema: DRAFT,
    title: 'geofailover approve|reject --json',
    type: 'object',
    required: ['workflowId', 'runId', 'decision', 'approver', 'accepted'],
    properties: {
      workflowId: text,
      runId: text,
      decision: { enum: ['approve', 'reject'] },
      approver: text,
      comment: text,
      gate: text,
      accepted: { type: 'boolean' },
      reason: text,
      detail: text,
      fingerprint: text,
      openGate: { ...openGate, description: 'the open gate as the approver saw it before deciding' },
    },
    additionalProperties: false,
  },
  'cli-signal.schema.json': {
    $schema: DRAFT,
    title: 'geofailover recovered|unlink-now|intervene|abort|end-rehearsal --json',
    type: 'object',
    required: ['workflowId', 'runId', 'signal', 'payload', 'sentAt'],
    properties: {
      workflowId: text,
      runId: text,
      signal: { enum: ['regionRecovered', 'unlinkNow', 'intervene', 'abort', 'endRehearsal'] },
      payload: { type: 'object', required: ['by'], properties: { by: text } },
      sentAt: isoTime,
      fingerprint: text,
    },
    additionalProperties: false,
  },
  'cli-rehearse.schema.json': {
    $schema: DRAFT,
    title: 'geofailover rehearse --json (with --wait: the first NDJSON line, type "started", then status lines)',
    type: 'object',
    required: [
      'workflowId',
      'runId',
      'workflowType',
      'taskQueue',
      'mode',
      'group',
      'region',
      'survivors',
      'requestedBy',
      'reason',
      'destructive',
      'next',
      'warnings',
    ],
    properties: {
      type: { const: 'started' },
      workflowId: text,
      runId: text,
      workflowType: { const: 'failoverRunbook' },
      taskQueue: text,
      mode: { const: 'rehearsal' },
      group: text,
      region: text,
      survivors: { ...texts, minItems: 1 },
      requestedBy: text,
      reason: text,
      hold: text,
      incident: text,
      destructive: {
        type: 'boolean',
        description: "whether the group's configuration lets the rehearsal exercise force-unlink and rejoin",
      },
      next: { ...texts, description: 'what to type next: follow it, end the hold, abort it' },
      warnings: texts,
      webUi: { type: 'string', format: 'uri' },
    },
    additionalProperties: false,
  },
  'cli-error.schema.json': {
    $schema: DRAFT,
    title: 'any geofailover command --json that failed (exit code 1 or 2)',
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message', 'exitCode'],
        properties: {
          code: text,
          message: text,
          hint: text,
          exitCode: { enum: [1, 2] },
          details: { type: 'object' },
        },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  },
  'cli-rehearse-schedule.schema.json': {
    $schema: DRAFT,
    title: 'geofailover rehearse G --schedule SPEC|pause|resume|delete --json, and rehearse --schedules --json',
    type: 'object',
    required: ['schedules'],
    properties: {
      action: { enum: ['created', 'updated', 'pause', 'resume', 'delete'], description: 'absent for --schedules' },
      schedules: {
        type: 'array',
        items: {
          type: 'object',
          required: ['scheduleId', 'group', 'paused', 'nextRunTimes'],
          properties: {
            scheduleId: text,
            group: text,
            region: text,
            spec: { type: 'string', description: 'as the standing order names it: quarterly, a cron spec, every 90d' },
            hold: text,
            paused: { type: 'boolean' },
            note: text,
            taskQueue: text,
            nextRunAt: isoTime,
            nextRunTimes: { type: 'array', items: isoTime },
            order: {
              type: 'object',
              description: 'the standing order: who signed it, when, and when it ends',
              required: ['signer', 'issuedAt', 'expiresAt'],
              properties: { signer: text, issuedAt: isoTime, expiresAt: isoTime },
            },
            lastRun: {
              type: 'object',
              description: 'the newest run the schedule started',
              required: ['workflowId', 'runId', 'startedAt'],
              properties: { workflowId: text, runId: text, startedAt: isoTime },
            },
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
  'cli-evacuate.schema.json': {
    $schema: DRAFT,
    title:
      'geofailover evacuate --json (with --wait: NDJSON, a first line of type "started", then a line of type ' +
      '"evacuation" per change, the last one the evacuation as it ended)',
    oneOf: [
      {
        title: 'the started (or, with --dry-run, planned) evacuation',
        type: 'object',
        required: evacuateResultRequired,
        properties: evacuateResultProperties,
        additionalProperties: false,
      },
      {
        title: '--wait line: started',
        type: 'object',
        required: ['type', ...evacuateResultRequired],
        properties: { type: { const: 'started' }, ...evacuateResultProperties },
        additionalProperties: false,
      },
      {
        title: '--wait / --watch line: the evacuation as it is now',
        type: 'object',
        required: ['type', 'at', 'execution'],
        properties: { type: { const: 'evacuation' }, at: isoTime, workflowId: text, ...evacuationViewProperties },
        additionalProperties: false,
      },
    ],
  },
  'cli-evacuation-status.schema.json': {
    $schema: DRAFT,
    title:
      'geofailover status evacuate/R --json: the evacuation, groups per phase, RTO per group, gates open (with ' +
      '--watch: lines of type "evacuation", see cli-evacuate.schema.json)',
    type: 'object',
    required: ['workflowId', 'execution'],
    properties: { workflowId: text, ...evacuationViewProperties },
    additionalProperties: false,
  },
};
