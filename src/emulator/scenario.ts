/**
 * The emulator's scenario file: which clusters, databases, geo-replication groups and Traffic
 * Manager profiles exist at start, which application regions get private endpoints, and how fast
 * survivors accumulate replication metadata. Validated with zod at load; `schemas/scenario.schema.json`
 * is generated from the same schema.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { generateEstate, MAX_ESTATE_GROUPS, parseEstateSpec } from './scenarios/estate';

const NAME = /^(?=.{1,60}$)[A-Za-z0-9]+(-[A-Za-z0-9]+)*$/;
const resourceName = z
  .string()
  .regex(NAME, 'expected 1-60 letters, digits and single dashes (Azure Cache for Redis naming rule)');
const region = z.string().regex(/^[a-z][a-z0-9]{1,39}$/, 'expected an Azure region name such as eastus');
const uuidLike = z
  .string()
  .regex(/^[0-9a-fA-F-]{8,64}$/, 'expected a subscription id such as 6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6');
const resourceGroup = z
  .string()
  .regex(/^[-\w._()]{1,90}$/, 'expected a resource group name (letters, digits, - _ . ( ), up to 90)');

const moduleSchema = z.strictObject({
  name: z.string().min(1),
  args: z.string().optional(),
  version: z.string().optional(),
});

const databaseSchema = z.strictObject({
  name: resourceName.default('default').describe('Azure Managed Redis has one database per cluster: default'),
  clientProtocol: z.enum(['Encrypted', 'Plaintext']).default('Encrypted'),
  clusteringPolicy: z.enum(['EnterpriseCluster', 'OSSCluster', 'NoCluster']).default('EnterpriseCluster'),
  evictionPolicy: z
    .enum([
      'AllKeysLFU',
      'AllKeysLRU',
      'AllKeysRandom',
      'VolatileLRU',
      'VolatileLFU',
      'VolatileTTL',
      'VolatileRandom',
      'NoEviction',
    ])
    .default('NoEviction'),
  modules: z.array(moduleSchema).default([]),
  maxMemoryMb: z.number().int().min(8).max(65536).default(64).describe("the redis-server's maxmemory, in MiB"),
  accessKeysAuthentication: z.enum(['Enabled', 'Disabled']).default('Enabled'),
  geoReplication: z
    .object({
      groupNickname: resourceName.describe('every database with the same nickname starts linked to the others'),
    })
    .optional(),
});

const clusterSchema = z.strictObject({
  name: resourceName,
  subscriptionId: uuidLike
    .optional()
    .describe('defaults to the scenario subscriptionId; another one puts the cluster in a second subscription'),
  resourceGroup: resourceGroup.optional().describe('defaults to the scenario resourceGroup'),
  location: region,
  sku: z.strictObject({ name: z.string().min(1), capacity: z.number().int().positive().optional() }),
  highAvailability: z.enum(['Enabled', 'Disabled']).default('Enabled'),
  minimumTlsVersion: z.enum(['1.0', '1.1', '1.2']).default('1.2'),
  zones: z.array(z.string()).optional(),
  tags: z.record(z.string(), z.string()).default({}),
  databases: z.array(databaseSchema).max(1, 'Azure Managed Redis has one database per cluster').default([]),
});

const endpointSchema = z.strictObject({
  name: z.string().min(1).max(260),
  type: z.enum(['ExternalEndpoints', 'AzureEndpoints', 'NestedEndpoints']).default('ExternalEndpoints'),
  target: z.string().min(1).optional(),
  targetResourceId: z.string().min(1).optional(),
  endpointLocation: z.string().min(1).optional(),
  endpointStatus: z.enum(['Enabled', 'Disabled']).default('Enabled'),
  priority: z.number().int().min(1).max(1000).optional(),
  weight: z.number().int().min(1).max(1000).default(1),
});

const profileSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/, 'expected a Traffic Manager profile name'),
  subscriptionId: uuidLike.optional().describe('defaults to the scenario subscriptionId'),
  resourceGroup: resourceGroup.optional().describe('defaults to the scenario resourceGroup'),
  routingMethod: z.enum(['Performance', 'Priority', 'Weighted', 'Geographic', 'MultiValue', 'Subnet']),
  profileStatus: z.enum(['Enabled', 'Disabled']).default('Enabled'),
  relativeName: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a DNS label'),
  ttl: z.number().int().min(0).max(2147483647).default(30),
  monitor: z
    .object({
      protocol: z.enum(['HTTP', 'HTTPS', 'TCP']).default('TCP'),
      port: z.number().int().min(1).max(65535).default(10000),
      path: z.string().optional(),
      intervalInSeconds: z.union([z.literal(10), z.literal(30)]).default(30),
      timeoutInSeconds: z.number().int().min(5).max(10).default(10),
      toleratedNumberOfFailures: z.number().int().min(0).max(9).default(3),
    })
    .prefault({}),
  endpoints: z.array(endpointSchema).default([]),
});

export const scenarioSchema = z
  .object({
    $schema: z.string().optional(),
    subscriptionId: uuidLike,
    resourceGroup,
    regions: z.array(region).min(1).describe('regions the scenario has clusters in; outages name one of these'),
    clusters: z.array(clusterSchema).min(1),
    trafficManagerProfiles: z.array(profileSchema).default([]),
    applicationRegions: z
      .array(region)
      .min(1)
      .describe('regions applications run in: each gets its own private endpoint to every database'),
    metadataBuildup: z
      .object({
        bytesPerSecond: z
          .number()
          .int()
          .nonnegative()
          .default(2 * 1024 * 1024)
          .describe('replication metadata each survivor accumulates per second while a member is missing'),
        maxPercentOfMaxMemory: z
          .number()
          .min(0)
          .max(100)
          .default(90)
          .describe("the build-up stops at this share of the survivor's maxmemory"),
      })
      .prefault({}),
  })
  .superRefine((s, ctx) => {
    const clusterKeys = new Set<string>();
    const nicknames = new Map<string, number>();
    s.clusters.forEach((c, i) => {
      if (!s.regions.includes(c.location)) {
        ctx.addIssue({
          code: 'custom',
          path: ['clusters', i, 'location'],
          message: `location ${c.location} is not one of the scenario regions (${s.regions.join(', ')})`,
        });
      }
      const key = [c.subscriptionId ?? s.subscriptionId, c.resourceGroup ?? s.resourceGroup, c.name]
        .join('/')
        .toLowerCase();
      if (clusterKeys.has(key)) {
        ctx.addIssue({ code: 'custom', path: ['clusters', i, 'name'], message: `duplicate cluster name ${c.name}` });
      }
      clusterKeys.add(key);
      for (const db of c.databases) {
        if (db.geoReplication) {
          const n = db.geoReplication.groupNickname.toLowerCase();
          nicknames.set(n, (nicknames.get(n) ?? 0) + 1);
          if (c.highAvailability !== 'Enabled') {
            ctx.addIssue({
              code: 'custom',
              path: ['clusters', i, 'highAvailability'],
              message: 'geo-replication requires highAvailability Enabled',
            });
          }
        }
      }
    });
    for (const [nickname, count] of nicknames) {
      if (count > 5) {
        ctx.addIssue({
          code: 'custom',
          path: ['clusters'],
          message: `geo-replication group ${nickname} has ${count} members; at most 5 are allowed`,
        });
      }
    }
    s.trafficManagerProfiles.forEach((p, i) => {
      const names = new Set<string>();
      const priorities = new Set<number>();
      p.endpoints.forEach((e, j) => {
        if (names.has(e.name.toLowerCase())) {
          ctx.addIssue({
            code: 'custom',
            path: ['trafficManagerProfiles', i, 'endpoints', j, 'name'],
            message: `duplicate endpoint name ${e.name}`,
          });
        }
        names.add(e.name.toLowerCase());
        if (e.priority !== undefined) {
          if (priorities.has(e.priority)) {
            ctx.addIssue({
              code: 'custom',
              path: ['trafficManagerProfiles', i, 'endpoints', j, 'priority'],
              message: `priority ${e.priority} is used by another endpoint; priorities must be unique`,
            });
          }
          priorities.add(e.priority);
        }
        if (e.type === 'ExternalEndpoints' && e.target === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['trafficManagerProfiles', i, 'endpoints', j, 'target'],
            message: 'an external endpoint needs a target (FQDN or IP address)',
          });
        }
      });
      if (p.routingMethod === 'Priority' && p.endpoints.some((e) => e.priority === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['trafficManagerProfiles', i, 'endpoints'],
          message: 'with Priority routing every endpoint needs a priority',
        });
      }
    });
  });

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ScenarioCluster = Scenario['clusters'][number];
export type ScenarioDatabase = ScenarioCluster['databases'][number];
export type ScenarioProfile = Scenario['trafficManagerProfiles'][number];
export type ScenarioEndpoint = ScenarioProfile['endpoints'][number];

export const DEFAULT_SCENARIO_FILE = path.join(__dirname, 'scenarios', 'default.json');

/** Thrown when a scenario file is missing, not JSON, or fails its schema. Issues name the field path. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
  constructor(
    message: string,
    readonly file: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

function formatPath(p: readonly PropertyKey[]): string {
  if (p.length === 0) return '(root)';
  return p.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

/** Validates an already-parsed scenario object; `source` names it in errors. */
export function parseScenario(raw: unknown, source = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
    const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
    throw new ScenarioError(`${source}: invalid scenario\n${lines}`, source, issues);
  }
  return result.data;
}

/** Parses scenario JSON text; errors name the file, the field path and what was expected. */
export function parseScenarioText(text: string, file: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(`${file}: not valid JSON (${(e as Error).message})`, file);
  }
  return parseScenario(raw, file);
}

/** Reads and validates a scenario file. */
export function loadScenario(file: string): Scenario {
  const resolved = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(resolved, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ScenarioError(
      code === 'ENOENT' ? `${resolved}: no such scenario file` : `${resolved}: cannot read (${(e as Error).message})`,
      resolved,
    );
  }
  return parseScenarioText(text, resolved);
}

/** The shared default scenario (README: The ARM emulator). */
export function defaultScenario(): Scenario {
  return loadScenario(DEFAULT_SCENARIO_FILE);
}

/**
 * A scenario named on the command line: `estate:N` (a generated estate of N groups, see scenarios/estate.ts)
 * or a scenario file.
 * @throws ScenarioError for a missing or invalid file, or an estate size out of range
 */
export function scenarioFromSpec(spec: string): Scenario {
  const groups = parseEstateSpec(spec);
  if (groups === undefined) return loadScenario(spec);
  if (groups < 1 || groups > MAX_ESTATE_GROUPS) {
    throw new ScenarioError(`${spec}: an estate has 1 to ${MAX_ESTATE_GROUPS} groups`, spec);
  }
  return parseScenario(generateEstate({ groups }), spec);
}

/** The JSON Schema text of schemas/scenario.schema.json, rendered the same way as the other published schemas. */
export function renderScenarioJsonSchema(): string {
  const schema = z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' });
  return JSON.stringify({ title: 'geofailover emulator scenario', ...schema }, null, 2) + '\n';
}
