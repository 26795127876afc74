/*
 * ARM resource ids for the resources the runbook touches. ARM ids are case-insensitive: parsing accepts any case
 * for the fixed segments (`resourceGroups`, `Microsoft.Cache`, `trafficManagerProfiles`, ...) and keeps names as
 * written; formatting writes the canonical casing ARM returns.
 */

export interface ClusterResourceId {
  subscriptionId: string;
  resourceGroupName: string;
  clusterName: string;
}

export interface DatabaseResourceId extends ClusterResourceId {
  databaseName: string;
}

export interface TrafficManagerProfileResourceId {
  subscriptionId: string;
  resourceGroupName: string;
  profileName: string;
}

/** The endpoint-type path segment the Traffic Manager SDK sends (PascalCase). */
export type TrafficManagerEndpointType = 'AzureEndpoints' | 'ExternalEndpoints' | 'NestedEndpoints';

export interface TrafficManagerEndpointResourceId extends TrafficManagerProfileResourceId {
  endpointType: TrafficManagerEndpointType;
  endpointName: string;
}

/** Thrown when a string is not the kind of ARM resource id the caller needs. */
export class ResourceIdParseError extends Error {
  override readonly name = 'ResourceIdParseError';

  constructor(
    /** What was being parsed, e.g. "Redis Enterprise database". */
    readonly kind: string,
    /** The rejected input. */
    readonly resourceId: string,
    /** The template the input must follow. */
    readonly expected: string,
    /** Why it did not match. */
    readonly reason: string,
  ) {
    super(`Not a ${kind} resource id: ${JSON.stringify(resourceId)} (${reason}). Expected ${expected}`);
  }
}

/** Template segments: `{name}` captures a non-empty name; anything else is a literal matched case-insensitively. */
type Template = readonly string[];

const CLUSTER_TEMPLATE: Template = [
  'subscriptions',
  '{subscriptionId}',
  'resourceGroups',
  '{resourceGroupName}',
  'providers',
  'Microsoft.Cache',
  'redisEnterprise',
  '{clusterName}',
];
const DATABASE_TEMPLATE: Template = [...CLUSTER_TEMPLATE, 'databases', '{databaseName}'];
const PROFILE_TEMPLATE: Template = [
  'subscriptions',
  '{subscriptionId}',
  'resourceGroups',
  '{resourceGroupName}',
  'providers',
  'Microsoft.Network',
  'trafficManagerProfiles',
  '{profileName}',
];
const ENDPOINT_TEMPLATE: Template = [...PROFILE_TEMPLATE, '{endpointType}', '{endpointName}'];

function describe(template: Template): string {
  return '/' + template.join('/');
}

function parseTemplate(kind: string, template: Template, resourceId: unknown): Record<string, string> {
  const expected = describe(template);
  if (typeof resourceId !== 'string') {
    throw new ResourceIdParseError(kind, String(resourceId), expected, `got ${typeof resourceId}, not a string`);
  }
  if (!resourceId.startsWith('/')) {
    throw new ResourceIdParseError(kind, resourceId, expected, 'it must start with "/"');
  }
  const segments = resourceId.slice(1).split('/');
  const captured: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const want = template[i] as string;
    const got = segments[i];
    if (got === undefined) {
      throw new ResourceIdParseError(kind, resourceId, expected, `it ends before ${want}`);
    }
    if (got === '') {
      throw new ResourceIdParseError(kind, resourceId, expected, `segment ${i + 1} (${want}) is empty`);
    }
    if (want.startsWith('{')) {
      if (/\s/.test(got)) {
        throw new ResourceIdParseError(kind, resourceId, expected, `${want} "${got}" contains whitespace`);
      }
      captured[want.slice(1, -1)] = got;
    } else if (got.toLowerCase() !== want.toLowerCase()) {
      throw new ResourceIdParseError(kind, resourceId, expected, `segment ${i + 1} is "${got}", expected "${want}"`);
    }
  }
  if (segments.length > template.length) {
    const extra = segments.slice(template.length).join('/');
    throw new ResourceIdParseError(kind, resourceId, expected, `unexpected trailing "/${extra}"`);
  }
  return captured;
}

function required(parts: Record<string, string>, key: string): string {
  const value = parts[key];
  if (value === undefined) {
    throw new Error(`internal: template has no ${key}`);
  }
  return value;
}

function requireName(kind: string, field: string, value: string): string {
  if (typeof value !== 'string' || value === '' || value.includes('/')) {
    throw new TypeError(`Cannot format a ${kind} resource id: ${field} ${JSON.stringify(value)} is empty or has "/"`);
  }
  return value;
}

/**
 * Parses `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Cache/redisEnterprise/{cluster}`.
 *
 * @throws ResourceIdParseError when the id is not a Redis Enterprise cluster id.
 */
export function parseClusterId(resourceId: string): ClusterResourceId {
  const parts = parseTemplate('Redis Enterprise cluster', CLUSTER_TEMPLATE, resourceId);
  return {
    subscriptionId: required(parts, 'subscriptionId'),
    resourceGroupName: required(parts, 'resourceGroupName'),
    clusterName: required(parts, 'clusterName'),
  };
}

/**
 * Parses `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Cache/redisEnterprise/{cluster}/databases/{db}`.
 *
 * @throws ResourceIdParseError when the id is not a Redis Enterprise database id.
 */
export function parseDatabaseId(resourceId: string): DatabaseResourceId {
  const parts = parseTemplate('Redis Enterprise database', DATABASE_TEMPLATE, resourceId);
  return {
    subscriptionId: required(parts, 'subscriptionId'),
    resourceGroupName: required(parts, 'resourceGroupName'),
    clusterName: required(parts, 'clusterName'),
    databaseName: required(parts, 'databaseName'),
  };
}

/**
 * Parses `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/trafficManagerProfiles/{profile}`.
 *
 * @throws ResourceIdParseError when the id is not a Traffic Manager profile id.
 */
export function parseTrafficManagerProfileId(resourceId: string): TrafficManagerProfileResourceId {
  const parts = parseTemplate('Traffic Manager profile', PROFILE_TEMPLATE, resourceId);
  return {
    subscriptionId: required(parts, 'subscriptionId'),
    resourceGroupName: required(parts, 'resourceGroupName'),
    profileName: required(parts, 'profileName'),
  };
}

const ENDPOINT_TYPES: readonly TrafficManagerEndpointType[] = [
  'AzureEndpoints',
  'ExternalEndpoints',
  'NestedEndpoints',
];

/**
 * `externalEndpoints` (ids, `type` fields), `ExternalEndpoints` (SDK path) or any other casing → the SDK's
 * PascalCase path segment; `undefined` when it is none of the three.
 */
export function normalizeEndpointType(value: string): TrafficManagerEndpointType | undefined {
  const lower = value.toLowerCase();
  return ENDPOINT_TYPES.find((t) => t.toLowerCase() === lower);
}

/**
 * Parses `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/trafficManagerProfiles/{profile}/
 * {externalEndpoints|azureEndpoints|nestedEndpoints}/{endpoint}`. `endpointType` comes back as the SDK's path
 * segment (`ExternalEndpoints`).
 *
 * @throws ResourceIdParseError when the id is not a Traffic Manager endpoint id.
 */
export function parseTrafficManagerEndpointId(resourceId: string): TrafficManagerEndpointResourceId {
  const kind = 'Traffic Manager endpoint';
  const parts = parseTemplate(kind, ENDPOINT_TEMPLATE, resourceId);
  const rawType = required(parts, 'endpointType');
  const endpointType = normalizeEndpointType(rawType);
  if (endpointType === undefined) {
    throw new ResourceIdParseError(
      kind,
      resourceId,
      describe(ENDPOINT_TEMPLATE),
      `endpoint type "${rawType}" is not azureEndpoints, externalEndpoints or nestedEndpoints`,
    );
  }
  return {
    subscriptionId: required(parts, 'subscriptionId'),
    resourceGroupName: required(parts, 'resourceGroupName'),
    profileName: required(parts, 'profileName'),
    endpointType,
    endpointName: required(parts, 'endpointName'),
  };
}

/** Formats a cluster id. @throws TypeError when a part is empty or contains "/". */
export function formatClusterId(id: ClusterResourceId): string {
  const kind = 'Redis Enterprise cluster';
  return (
    `/subscriptions/${requireName(kind, 'subscriptionId', id.subscriptionId)}` +
    `/resourceGroups/${requireName(kind, 'resourceGroupName', id.resourceGroupName)}` +
    `/providers/Microsoft.Cache/redisEnterprise/${requireName(kind, 'clusterName', id.clusterName)}`
  );
}

/** Formats a database id. @throws TypeError when a part is empty or contains "/". */
export function formatDatabaseId(id: DatabaseResourceId): string {
  return `${formatClusterId(id)}/databases/${requireName('Redis Enterprise database', 'databaseName', id.databaseName)}`;
}

/** Formats a Traffic Manager profile id. @throws TypeError when a part is empty or contains "/". */
export function formatTrafficManagerProfileId(id: TrafficManagerProfileResourceId): string {
  const kind = 'Traffic Manager profile';
  return (
    `/subscriptions/${requireName(kind, 'subscriptionId', id.subscriptionId)}` +
    `/resourceGroups/${requireName(kind, 'resourceGroupName', id.resourceGroupName)}` +
    `/providers/Microsoft.Network/trafficManagerProfiles/${requireName(kind, 'profileName', id.profileName)}`
  );
}

/**
 * Formats a Traffic Manager endpoint id with the casing ARM returns (`…/externalEndpoints/{name}`).
 *
 * @throws TypeError when a part is empty or contains "/", or the endpoint type is unknown.
 */
export function formatTrafficManagerEndpointId(id: TrafficManagerEndpointResourceId): string {
  const endpointType = normalizeEndpointType(id.endpointType);
  if (endpointType === undefined) {
    throw new TypeError(
      `Cannot format a Traffic Manager endpoint resource id: unknown endpoint type "${id.endpointType}"`,
    );
  }
  const segment = endpointType.charAt(0).toLowerCase() + endpointType.slice(1);
  return `${formatTrafficManagerProfileId(id)}/${segment}/${requireName('Traffic Manager endpoint', 'endpointName', id.endpointName)}`;
}

/** The cluster a database belongs to. */
export function clusterIdOfDatabase(id: DatabaseResourceId): ClusterResourceId {
  return { subscriptionId: id.subscriptionId, resourceGroupName: id.resourceGroupName, clusterName: id.clusterName };
}

/**
 * Which comparison to use for resource ids (trailing slashes ignored by both):
 * - {@link sameResourceId}, case-insensitive: "is this the same ARM resource" (a request path, a configured
 *   member vs a database read from ARM, de-duplicating ids). ARM itself resolves paths case-insensitively.
 * - {@link sameLinkedId}, Azure's comparison of geo-replication linked database ids, which is case-sensitive
 *   (MicrosoftDocs/azure-docs PR #128105): the resource names (cluster, database) must match exactly; only the
 *   segments ARM treats case-insensitively — the path keywords (`subscriptions`, `resourceGroups`, `providers`,
 *   resource types), the subscription id, the resource group name and the provider namespace — may differ in
 *   case. Use it wherever the question is "does this member's linkedDatabases list that id".
 */
export function sameResourceId(a: string, b: string): boolean {
  const norm = (s: string): string => s.replace(/\/+$/, '').toLowerCase();
  return norm(a) === norm(b);
}

/** Azure's linked-database-id comparison: resource names exact, ARM's case-insensitive segments in any case. */
export function sameLinkedId(a: string, b: string): boolean {
  const split = (s: string): string[] => s.split('/').filter((x) => x.length > 0);
  const x = split(a);
  const y = split(b);
  if (x.length !== y.length) return false;
  const providers = x.findIndex((seg) => seg.toLowerCase() === 'providers');
  if (providers < 0) return x.join('/') === y.join('/');
  for (let i = 0; i < x.length; i++) {
    const offset = i - providers;
    // After `providers/{namespace}`: type, name, type, name, … — names sit at odd offsets from 3 on.
    const isName = offset >= 3 && offset % 2 === 1;
    const p = x[i] as string;
    const q = y[i] as string;
    if (isName ? p !== q : p.toLowerCase() !== q.toLowerCase()) return false;
  }
  return true;
}
