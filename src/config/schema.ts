import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';
import { editDistance } from '../contract/edit-distance';
import { parsePublicKey } from '../signing/ssh-key';

/** An ms-style duration ('30 minutes', '5s') or milliseconds, as Temporal accepts them. */
const duration = z.union([z.number().int().nonnegative(), z.string()]).refine(
  (value) => {
    try {
      return msToNumber(value as never) >= 0;
    } catch {
      return false;
    }
  },
  { message: "expected a duration such as '30s', '15 minutes', '4h' or a number of milliseconds" },
);

const region = z.string().regex(/^[a-z][a-z0-9]{1,39}$/, 'expected an Azure region name such as eastus');

const DATABASE_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Cache\/redisEnterprise\/[A-Za-z0-9-]{1,60}\/databases\/[A-Za-z0-9-]{1,60}$/i;
const databaseId = z
  .string()
  .regex(
    DATABASE_ID,
    'expected a database resource id: /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Cache/redisEnterprise/CLUSTER/databases/default',
  );

const PROFILE_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/trafficManagerProfiles\/[^/]+$/i;
const profileId = z
  .string()
  .regex(
    PROFILE_ID,
    'expected a Traffic Manager profile id: /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Network/trafficManagerProfiles/NAME',
  );

const address = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'expected HOST:PORT, the address the region reaches the database at');

/** The known key a typo most likely meant: same letters in another case, else the nearest within two edits. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const sameCase = known.find((k) => k.toLowerCase() === key.toLowerCase());
  if (sameCase) return sameCase;
  let best: { key: string; distance: number } | undefined;
  for (const k of known) {
    const distance = editDistance(key, k);
    if (distance <= 2 && (!best || distance < best.distance)) best = { key: k, distance };
  }
  return best?.key;
}

function where(path: readonly PropertyKey[]): string {
  return path.length ? path.map(String).join('.') : 'the top level';
}

/**
 * An object that refuses keys it does not know, so a typo (`quorom`) is an error instead of a silent default;
 * the message names the key, where it is, and the key it probably meant or the keys allowed there.
 */
function strict<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code !== 'unrecognized_keys') return undefined;
      return iss.keys
        .map((key) => {
          const near = closestKey(key, known);
          return (
            `unknown key "${key}" at ${where(iss.path ?? [])}; ` +
            (near ? `did you mean "${near}"?` : `expected one of: ${known.join(', ')}`)
          );
        })
        .join('\n');
    },
  });
}

/** How the configuration spells a person: one spelling, lower case, so every comparison is exact. */
const personName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,63}$/,
    "expected a person's name in lower case (letters, digits, '.', '_' or '-'), as their signed statements name them",
  );

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LOOKS_LIKE_URL = /^[a-z][a-z0-9+.-]*:\/\//i;

const WEBHOOK_ADVICE =
  'put the URL in an environment variable or a file the worker can read, and name it here: ' +
  '{ "env": "GEOFAILOVER_WEBHOOK_<GROUP>" } or { "file": "secrets/<group>-webhook.url" }';

/**
 * Where the worker finds the escalation webhook's URL. The URL itself stays out of the configuration (and so out
 * of workflow history and evidence): webhook URLs are often bearer capabilities (Slack's are).
 */
export const webhookReferenceSchema = z
  .union(
    [
      strict({
        env: z
          .string()
          .regex(
            ENV_NAME,
            'expected the name of an environment variable (letters, digits and _), such as GEOFAILOVER_WEBHOOK_LEADERBOARD; not the URL itself',
          )
          .describe('environment variable of the worker that holds the https: URL'),
      }),
      strict({
        file: z
          .string()
          .min(1)
          .refine((f) => !LOOKS_LIKE_URL.test(f), {
            message: 'expected the path of a file that holds the URL, not the URL itself; ' + WEBHOOK_ADVICE,
          })
          .describe("file holding the https: URL (trimmed), relative to the configuration file's directory"),
      }),
    ],
    {
      error: (iss) => {
        const input: unknown = iss.input;
        if (typeof input === 'string') {
          return (
            'the webhook URL does not belong in the configuration: it is often a bearer capability (Slack’s are) ' +
            `and the configuration is copied into workflow history and evidence; ${WEBHOOK_ADVICE}`
          );
        }
        if (input && typeof input === 'object' && !Array.isArray(input)) {
          const keys = Object.keys(input);
          if (keys.includes('env') && keys.includes('file')) return 'name either "env" or "file", not both';
          const unknown = keys.find((k) => k !== 'env' && k !== 'file');
          const near = unknown !== undefined ? closestKey(unknown, ['env', 'file']) : undefined;
          if (near) return `unknown key "${unknown}" at ${where(iss.path ?? [])}; did you mean "${near}"?`;
        }
        return `expected { "env": "VARIABLE_NAME" } or { "file": "PATH" }; ${WEBHOOK_ADVICE}`;
      },
    },
  )
  .describe('where the worker reads the URL that receives a JSON POST when a gate escalates (https: only)');

export type WebhookReference = z.output<typeof webhookReferenceSchema>;

/** What the runbook tells people about, as `notifications[].events` names it. */
export const NOTIFICATION_EVENTS = [
  'approval-needed',
  'intervention-needed',
  'escalation',
  'run-ended',
  'rehearsal-started',
] as const;

/** One place notifications go: a Slack or Teams incoming webhook, or any receiver of generic JSON. */
export const notificationTargetSchema = strict({
  kind: z
    .enum(['slack', 'teams', 'json'])
    .describe(
      'slack: Block Kit message (incoming webhook); teams: Adaptive Card (Teams Workflows or incoming webhook); json: the event as generic JSON',
    ),
  url: webhookReferenceSchema.describe('where the worker reads the https: URL to POST to (never the URL itself)'),
  events: z
    .array(z.enum(NOTIFICATION_EVENTS))
    .min(1)
    .optional()
    .describe(
      'the events sent there; default all: approval-needed, intervention-needed, escalation, run-ended, rehearsal-started',
    ),
});

export type NotificationTarget = z.output<typeof notificationTargetSchema>;

const notificationTargets = z
  .array(notificationTargetSchema)
  .max(10)
  .describe('where the runbook tells people that a gate needs them, that it escalated, and how the run ended');

const endpointRef = strict({
  type: z.enum(['ExternalEndpoints', 'AzureEndpoints', 'NestedEndpoints']).default('ExternalEndpoints'),
  name: z.string().min(1),
});

const percent = z.number().min(0).max(100);

export const groupSchema = strict({
  members: z
    .record(region, databaseId)
    .refine((m) => Object.keys(m).length >= 2, { message: 'a geo-replication group needs at least two members' })
    .refine((m) => Object.keys(m).length <= 5, { message: 'a geo-replication group has at most five members' })
    .describe('region → database resource id of the group member in that region'),
  trafficManager: strict({
    profileId,
    endpoints: z.record(region, endpointRef).describe('member region → the Traffic Manager endpoint serving it'),
  }),
  applicationRegions: z
    .record(region, z.record(region, address))
    .refine((m) => Object.keys(m).length >= 1, { message: 'name at least one application region to probe from' })
    .describe('application region → (member region → address its probes use: the private endpoint)'),
  commanders: z
    .array(personName)
    .min(1)
    .describe('people (from `people`) who may start, abort, say unlink-now or recovered'),
  approvers: z.array(personName).min(1).describe('people (from `people`) who may decide gates'),
  quorum: strict({
    unlink: z.number().int().min(1).default(1),
    rejoin: z.number().int().min(1).default(1),
    intervention: z.number().int().min(1).default(1),
  }).prefault({}),
  memoryThresholds: strict({ elevatedPercent: percent.default(70), criticalPercent: percent.default(85) })
    .prefault({})
    .refine((t) => t.elevatedPercent < t.criticalPercent, {
      message: 'elevatedPercent must be below criticalPercent',
    }),
  rejoinMethod: z.enum(['force-link', 'recreate']).default('force-link'),
  recoveryConfirmations: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(3)
    .describe(
      'await-recovery counts the failed region as recovered after this many consecutive polls in which ARM answers, ' +
        'its database is Running and the probes from every application region pass',
    ),
  escalationWebhook: webhookReferenceSchema.optional(),
  notifications: notificationTargets.optional(),
  rehearsal: strict({
    destructive: z
      .boolean()
      .default(false)
      .describe(
        'a rehearsal (geofailover rehearse) exercises force-unlink and rejoin behind their gates; false: it skips ' +
          'them and calls nothing destructive (set it for staging, not for production)',
      ),
  })
    .optional()
    .describe('how rehearsals of this group run'),
  durations: strict({
    approvalTimeout: duration.default('30 minutes'),
    escalationTimeout: duration.default('15 minutes'),
    recoveryPollInterval: duration.default('1 minute'),
    maxOutageBeforeUnlink: duration.default('4 hours'),
    resyncTimeout: duration.default('30 minutes'),
    probeTimeout: duration.default('5 seconds'),
    rtoTarget: duration
      .optional()
      .describe(
        'the recovery time objective (start → traffic rerouted): the evidence report says whether the measured RTO met it',
      ),
  }).prefault({}),
}).superRefine((group, ctx) => {
  const members = Object.keys(group.members);
  for (const r of members) {
    if (!group.trafficManager.endpoints[r]) {
      ctx.addIssue({
        code: 'custom',
        path: ['trafficManager', 'endpoints', r],
        message: `member region ${r} has no Traffic Manager endpoint`,
      });
    }
  }
  for (const [appRegion, addresses] of Object.entries(group.applicationRegions)) {
    for (const r of members) {
      if (!addresses[r]) {
        ctx.addIssue({
          code: 'custom',
          path: ['applicationRegions', appRegion, r],
          message: `application region ${appRegion} names no address for the member in ${r}`,
        });
      }
    }
  }
  const max = Math.max(group.quorum.unlink, group.quorum.rejoin, group.quorum.intervention);
  if (max > group.approvers.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['quorum'],
      message: `a quorum of ${max} needs at least ${max} approvers; ${group.approvers.length} listed`,
    });
  }
});

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/** The worker's logs, metrics and traces. */
export const observabilitySchema = strict({
  logLevel: z.enum(LOG_LEVELS).default('INFO').describe("the worker's lowest log level; --log-level overrides it"),
  logFormat: z
    .enum(['text', 'json'])
    .default('text')
    .describe('json: one JSON object per line (time, level, message, attributes); --log-format overrides it'),
  metrics: strict({
    port: z.number().int().min(0).max(65535).describe('Prometheus scrape port (GET /metrics)'),
    host: z.string().min(1).default('0.0.0.0').describe('address to listen on'),
  })
    .optional()
    .describe('Prometheus metrics of the worker: SDK metrics and the runbook metrics (geofailover_*); off when absent'),
  tracing: strict({
    endpoint: z
      .url()
      .optional()
      .describe(
        'OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces; default OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT',
      ),
    serviceName: z.string().min(1).default('geofailover').describe('service.name of the spans'),
  })
    .optional()
    .describe(
      'OpenTelemetry traces (client, workflow, activities) exported by OTLP/HTTP; on when this section or OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set',
    ),
})
  .prefault({})
  .describe("the worker's logs, Prometheus metrics and OpenTelemetry traces");

export type ObservabilityConfig = z.output<typeof observabilitySchema>;

const publicKeyLine = z.string().refine((line) => parsePublicKey(line).ok, {
  error: (iss) => {
    const parsed = parsePublicKey(iss.input);
    return parsed.ok
      ? 'invalid key'
      : `${parsed.reason}; expected an OpenSSH ed25519 public key line such as "ssh-ed25519 AAAAC3Nza… name@host" (the .pub file of ssh-keygen -t ed25519)`;
  },
});

/** A secret the configuration names but never holds (it is copied into workflow history and evidence). */
const secretReference = z.union([
  strict({ env: z.string().regex(ENV_NAME, 'expected the name of an environment variable, not the secret itself') }),
  strict({
    file: z
      .string()
      .min(1)
      .describe("file holding the secret (trimmed), relative to the configuration file's directory"),
  }),
]);

/**
 * How the CLI and the workers reach Temporal. Each field overrides Temporal's own environment configuration
 * (TEMPORAL_* variables and envconfig profiles) and is overridden by the command-line flags.
 */
export const temporalSchema = strict({
  address: z
    .string()
    .regex(
      /^\S+:\d{1,5}$/,
      'expected HOST:PORT, the frontend gRPC address (e.g. <namespace>.<account>.tmprl.cloud:7233)',
    )
    .optional()
    .describe('frontend gRPC address; default TEMPORAL_ADDRESS, the profile, else localhost:7233'),
  namespace: z.string().min(1).optional().describe('default TEMPORAL_NAMESPACE, the profile, else default'),
  profile: z
    .string()
    .min(1)
    .optional()
    .describe(
      'envconfig profile (temporal.toml, TEMPORAL_CONFIG_FILE) to start from; default TEMPORAL_PROFILE, else default',
    ),
  apiKey: secretReference
    .optional()
    .describe('where the API key (Temporal Cloud) is read: { "env": "VARIABLE" } or { "file": "PATH" }; implies TLS'),
  tls: z
    .union([
      z.boolean(),
      strict({
        serverCaFile: z
          .string()
          .min(1)
          .optional()
          .describe("CA of the server's certificate (PEM); default system roots"),
        serverName: z.string().min(1).optional().describe('name the server certificate must carry, if not the host'),
        clientCertFile: z.string().min(1).optional().describe('client certificate (PEM) for mTLS'),
        clientKeyFile: z.string().min(1).optional().describe("the client certificate's private key (PEM)"),
      }),
    ])
    .optional()
    .describe(
      "true: TLS with the system roots; false: plain text; an object: TLS with these files (relative to the configuration file's directory)",
    ),
  uiUrl: z
    .url()
    .refine((v) => /^https?:\/\//.test(v), { message: 'expected an http(s) URL' })
    .optional()
    .describe('base URL of the Temporal Web UI, for run links; default GEOFAILOVER_TEMPORAL_UI'),
});

export type TemporalConfig = z.output<typeof temporalSchema>;

export const configSchema = strict({
  $schema: z.string().optional(),
  people: z
    .record(
      // Checked below, so that a badly spelled name gets the message about spelling, not zod's generic one.
      z.string(),
      strict({
        keys: z
          .array(publicKeyLine)
          .min(1)
          .describe('OpenSSH ed25519 public keys this person signs decisions with (ssh-keygen -t ed25519)'),
      }),
    )
    .describe('everyone who may act on a runbook, with the public keys their signed decisions are checked against'),
  azure: strict({
    subscriptionId: z.string().min(1).optional().describe('defaults to the subscription in the resource ids'),
    endpoint: z.url().default('https://management.azure.com'),
    caFile: z.string().optional().describe('extra CA to trust (the emulator prints its own)'),
    identity: strict({
      authorityHost: z
        .url()
        .refine((v) => v.startsWith('https://'), { message: 'expected an https URL' })
        .optional()
        .describe("the token issuer; default Entra ID's public cloud. The emulator prints its own"),
      tenantId: z.string().min(1),
      clientId: z.string().min(1).describe('the service principal (app registration)'),
      clientSecret: z
        .union([
          strict({ env: z.string().min(1).describe('environment variable holding the client secret') }),
          strict({
            file: z.string().min(1).describe('file holding the client secret (relative to the configuration)'),
          }),
        ])
        .describe('where the client secret is read from: never the secret itself'),
    })
      .optional()
      .describe('a service principal with a client secret (ClientSecretCredential); absent: DefaultAzureCredential'),
    redisApiVersion: z.string().default('2026-08-01'),
    requestTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(10_000)
      .describe(
        'how long one ARM request (each retry, each long-running-operation poll) may take before it is abandoned',
      ),
    writeBudget: strict({
      enabled: z.boolean().default(true).describe('false: writes are sent at once, and 429s only waited out'),
      burst: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .default(150)
        .describe("writes that may go at once per subscription; ARM's bucket holds 200"),
      perSecond: z
        .number()
        .gt(0)
        .max(1000)
        .default(8)
        .describe('writes per second per subscription once the burst is spent; ARM refills 10'),
      workers: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(1)
        .describe(
          'worker processes (main and probe workers) acting as this principal: each takes 1/workers of the budget',
        ),
    })
      .prefault({})
      .describe(
        "the worker's budget for mutating ARM requests (PUT, PATCH, POST, DELETE), per subscription: they wait for a token instead of drawing 429s",
      ),
    memorySource: z
      .enum(['azure-monitor', 'redis-info'])
      .default('azure-monitor')
      .describe(
        "where memory pressure is read: Azure Monitor's usedmemorypercentage (Monitoring Reader), or INFO memory over the data plane (fallback)",
      ),
    metricsEndpoint: z
      .string()
      .refine(
        (v) => {
          try {
            return new URL(v.replaceAll('{region}', 'region')).protocol === 'https:';
          } catch {
            return false;
          }
        },
        { message: "expected an https URL; {region} stands for the databases' region" },
      )
      .describe(
        "Azure Monitor metrics endpoint, {region} replaced by the member's region; default https://{region}.metrics.monitor.azure.com, or azure.endpoint when that is a loopback address (the emulator serves both)",
      )
      .optional(),
  }).prefault({}),
  notifications: notificationTargets
    .optional()
    .describe("targets for every group's runbooks, besides each group's own `notifications`"),
  observability: observabilitySchema,
  groups: z
    .record(
      z.string().regex(/^[A-Za-z0-9-]{1,63}$/, 'expected a group name of letters, digits and dashes'),
      groupSchema,
    )
    .refine((g) => Object.keys(g).length >= 1, { message: 'define at least one group' }),
  temporal: temporalSchema.optional().describe('how the CLI and the workers reach Temporal (see the README)'),
  evacuation: strict({
    unlinkApproval: z
      .enum(['per-group', 'batch'])
      .default('per-group')
      .describe(
        "regionEvacuation: per-group, each group's unlink gate is approved on its own; batch, one signed approval listing groups approves the open unlink gate of each (the same quorum per group)",
      ),
  })
    .optional()
    .describe('how `geofailover evacuate` (regionEvacuation) asks for approvals'),
}).superRefine((config, ctx) => {
  for (const name of Object.keys(config.people)) {
    const spelled = personName.safeParse(name);
    if (!spelled.success) {
      ctx.addIssue({
        code: 'custom',
        path: ['people', name],
        message: `${spelled.error.issues[0]?.message ?? 'not a name'}${name.toLowerCase() !== name ? ` (write it "${name.toLowerCase()}")` : ''}`,
      });
    }
  }
  for (const [name, group] of Object.entries(config.groups)) {
    for (const role of ['commanders', 'approvers'] as const) {
      group[role].forEach((person, i) => {
        if (!Object.hasOwn(config.people, person)) {
          ctx.addIssue({
            code: 'custom',
            path: ['groups', name, role, i],
            message: `${person} is not in \`people\`: add them with their public key(s) so their signatures can be checked`,
          });
        }
      });
    }
  }
});

export type GroupConfig = z.output<typeof groupSchema>;
export type GeofailoverConfig = z.output<typeof configSchema>;
