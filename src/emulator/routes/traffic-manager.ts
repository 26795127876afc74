/**
 * Microsoft.Network/trafficmanagerprofiles (api-version 2022-04-01, all synchronous): profile list
 * and GET with endpoints; endpoint GET, PUT (200 replace / 201 create), PATCH (merge, 200 with the
 * full endpoint) and DELETE. Monitor status is computed, not probed (see endpointMonitorStatus): an endpoint
 * enabled by PUT or PATCH shows CheckingEndpoint for the store's `trafficManagerCheckingMs` (Azure: until the
 * first probe answers, about one probing interval), then Online, or Degraded while its region is in an
 * outage or the `degrade` fault names it (docs/ARCHITECTURE.md: Traffic Manager monitor status).
 */
import { z } from 'zod';
import { ArmError } from '../errors';
import type { Faults } from '../faults';
import {
  ENDPOINT_TYPES,
  PROFILE_TYPE,
  endpointResourceId,
  endpointTypeSegment,
  profileResourceId,
  type EndpointProperties,
  type EndpointRecord,
  type EndpointType,
  type ProfileRecord,
} from '../store';
import {
  TRAFFIC_MANAGER_API_VERSIONS,
  checkScope,
  compact,
  matchPath,
  methodNotAllowed,
  parseBody,
  type ArmRequest,
  type ArmResponse,
  type ArmServices,
  type Route,
  type RouteResolver,
} from './common';

const PROFILES_PATH = [
  'subscriptions',
  '{subscriptionId}',
  'resourceGroups',
  '{resourceGroupName}',
  'providers',
  'Microsoft.Network',
  'trafficmanagerprofiles',
];
const SUBSCRIPTION_PROFILES_PATH = [
  'subscriptions',
  '{subscriptionId}',
  'providers',
  'Microsoft.Network',
  'trafficmanagerprofiles',
];
const PROFILE_PATH = [...PROFILES_PATH, '{profileName}'];
const ENDPOINT_PATH = [...PROFILE_PATH, '{endpointType}', '{endpointName}'];

// ---- request bodies --------------------------------------------------------------------------

const optional = <T extends z.ZodType>(schema: T) =>
  schema
    .nullish()
    .transform((v) => (v === null ? undefined : v))
    .optional();
const endpointPropertiesSchema = z.object({
  targetResourceId: optional(z.string()),
  target: optional(z.string().min(1)),
  endpointStatus: optional(z.enum(['Enabled', 'Disabled'])),
  weight: optional(z.number().int().min(1).max(1000)),
  priority: optional(z.number().int().min(1).max(1000)),
  endpointLocation: optional(z.string()),
  minChildEndpoints: optional(z.number().int().min(0)),
  minChildEndpointsIPv4: optional(z.number().int().min(0)),
  minChildEndpointsIPv6: optional(z.number().int().min(0)),
  geoMapping: optional(z.array(z.string())),
  subnets: optional(
    z.array(z.object({ first: z.string().optional(), last: z.string().optional(), scope: z.number().optional() })),
  ),
  customHeaders: optional(z.array(z.object({ name: z.string().optional(), value: z.string().optional() }))),
  alwaysServe: optional(z.enum(['Enabled', 'Disabled'])),
});
const endpointBody = z.object({
  id: optional(z.string()),
  name: optional(z.string()),
  type: optional(z.string()),
  properties: optional(endpointPropertiesSchema),
});

// ---- rendering -------------------------------------------------------------------------------

/** What monitor status depends on besides the records: the time, and the faults (outages, `degrade`). */
export interface MonitorContext {
  /** epoch ms; default Date.now() */
  now?: number;
  faults?: Pick<Faults, 'isRegionDown' | 'isEndpointDegraded'>;
}

/**
 * Disabled endpoints show Disabled, endpoints of a disabled profile Inactive; an enabled endpoint
 * CheckingEndpoint right after it was enabled, then Degraded while its region is down or a `degrade` fault
 * names it, otherwise Online.
 */
function endpointMonitorStatus(profile: ProfileRecord, e: EndpointRecord, ctx: MonitorContext = {}): string {
  if (e.properties.endpointStatus === 'Disabled') return 'Disabled';
  if (profile.profileStatus === 'Disabled') return 'Inactive';
  if (e.checkingUntilMs !== undefined && (ctx.now ?? Date.now()) < e.checkingUntilMs) return 'CheckingEndpoint';
  if (ctx.faults?.isEndpointDegraded(e.id) || ctx.faults?.isRegionDown(e.properties.endpointLocation)) {
    return 'Degraded';
  }
  return 'Online';
}

/** Roll-up of the endpoints' monitor status (docs/ARCHITECTURE.md: Traffic Manager monitor status). */
function profileMonitorStatus(profile: ProfileRecord, ctx: MonitorContext): string {
  if (profile.profileStatus === 'Disabled') return 'Disabled';
  const statuses = profile.endpoints.map((e) => endpointMonitorStatus(profile, e, ctx));
  if (statuses.includes('Degraded')) return 'Degraded';
  if (statuses.includes('Online')) return 'Online';
  if (statuses.includes('CheckingEndpoint')) return 'CheckingEndpoints';
  return 'Inactive';
}

export function renderEndpoint(
  profile: ProfileRecord,
  e: EndpointRecord,
  ctx: MonitorContext = {},
): Record<string, unknown> {
  return {
    id: e.id,
    name: e.name,
    type: `${PROFILE_TYPE}/${endpointTypeSegment(e.type)}`,
    properties: compact({ ...e.properties, endpointMonitorStatus: endpointMonitorStatus(profile, e, ctx) }),
  };
}

export function renderProfile(p: ProfileRecord, ctx: MonitorContext = {}): Record<string, unknown> {
  const now = { ...ctx, now: ctx.now ?? Date.now() };
  return {
    id: p.id,
    name: p.name,
    type: PROFILE_TYPE,
    location: 'global',
    tags: { ...p.tags },
    properties: {
      profileStatus: p.profileStatus,
      trafficRoutingMethod: p.trafficRoutingMethod,
      dnsConfig: {
        relativeName: p.dnsConfig.relativeName,
        fqdn: `${p.dnsConfig.relativeName}.trafficmanager.net`,
        ttl: p.dnsConfig.ttl,
      },
      monitorConfig: compact({
        profileMonitorStatus: profileMonitorStatus(p, now),
        protocol: p.monitorConfig.protocol,
        port: p.monitorConfig.port,
        path: p.monitorConfig.path,
        intervalInSeconds: p.monitorConfig.intervalInSeconds,
        timeoutInSeconds: p.monitorConfig.timeoutInSeconds,
        toleratedNumberOfFailures: p.monitorConfig.toleratedNumberOfFailures,
        customHeaders: [],
        expectedStatusCodeRanges: [],
      }),
      endpoints: p.endpoints.map((e) => renderEndpoint(p, e, now)),
      trafficViewEnrollmentStatus: 'Disabled',
      allowedEndpointRecordTypes: ['DomainName'],
    },
  };
}

// ---- routes ----------------------------------------------------------------------------------

function monitor(services: ArmServices): MonitorContext {
  return { now: Date.now(), faults: services.faults };
}

/**
 * An endpoint that goes from not enabled (or not existing) to Enabled is checked first: CheckingEndpoint
 * until the store's checking time is over. One that stays enabled keeps its clock; a disabled one has none.
 */
function checkingClock(services: ArmServices, before: EndpointRecord | undefined, after: EndpointRecord): void {
  if (after.properties.endpointStatus !== 'Enabled') delete after.checkingUntilMs;
  else if (before?.properties.endpointStatus === 'Enabled') after.checkingUntilMs = before.checkingUntilMs;
  else after.checkingUntilMs = Date.now() + services.store.trafficManagerCheckingMs;
}

function requireProfile(services: ArmServices, params: Record<string, string>): ProfileRecord {
  const rg = checkScope(services, params.subscriptionId ?? '', params.resourceGroupName ?? '') ?? '';
  const name = params.profileName ?? '';
  const p = services.store.profile(profileResourceId(params.subscriptionId ?? '', rg, name));
  if (!p) throw ArmError.resourceNotFound(`${PROFILE_TYPE}/${name}`, rg);
  return p;
}

function endpointType(segment: string): EndpointType | undefined {
  return ENDPOINT_TYPES.find((t) => t.toLowerCase() === segment.toLowerCase());
}

function findEndpoint(p: ProfileRecord, type: EndpointType, name: string): EndpointRecord | undefined {
  return p.endpoints.find((e) => e.type === type && e.name.toLowerCase() === name.toLowerCase());
}

function endpointNotFound(p: ProfileRecord, type: EndpointType, name: string): ArmError {
  return ArmError.resourceNotFound(`${PROFILE_TYPE}/${p.name}/${endpointTypeSegment(type)}/${name}`, p.resourceGroup);
}

export const trafficManagerRoutes: RouteResolver = (method, segments, services): Route | undefined => {
  const base = { resourceType: PROFILE_TYPE, apiVersions: TRAFFIC_MANAGER_API_VERSIONS };
  let params = matchPath(segments, PROFILES_PATH) ?? matchPath(segments, SUBSCRIPTION_PROFILES_PATH);
  if (params) {
    if (method !== 'GET') methodNotAllowed(method, PROFILE_TYPE, ['GET']);
    const p = params;
    return {
      ...base,
      operation: 'listProfiles',
      resourceId: `/${segments.join('/')}`,
      handle: () => {
        const rg = checkScope(services, p.subscriptionId ?? '', p.resourceGroupName);
        const profiles = services.store
          .profiles()
          .filter((x) => rg === undefined || x.resourceGroup.toLowerCase() === rg.toLowerCase());
        return { status: 200, body: { value: profiles.map((x) => renderProfile(x, monitor(services))) } };
      },
    };
  }
  params = matchPath(segments, PROFILE_PATH);
  if (params) {
    if (method !== 'GET') methodNotAllowed(method, PROFILE_TYPE, ['GET']);
    const p = params;
    return {
      ...base,
      operation: 'getProfile',
      resourceId: profileResourceId(p.subscriptionId ?? '', p.resourceGroupName ?? '', p.profileName ?? ''),
      handle: () => ({ status: 200, body: renderProfile(requireProfile(services, p), monitor(services)) }),
    };
  }
  params = matchPath(segments, ENDPOINT_PATH);
  const type = params ? endpointType(params.endpointType ?? '') : undefined;
  if (!params || !type) return undefined;
  const p = params;
  const profileId = profileResourceId(p.subscriptionId ?? '', p.resourceGroupName ?? '', p.profileName ?? '');
  const existing = services.store.profile(profileId);
  const resourceId = endpointResourceId(existing?.id ?? profileId, type, p.endpointName ?? '');
  const route = { ...base, resourceType: `${PROFILE_TYPE}/${endpointTypeSegment(type)}`, resourceId };
  switch (method) {
    case 'GET':
      return {
        ...route,
        operation: 'getEndpoint',
        handle: () => {
          const profile = requireProfile(services, p);
          const e = findEndpoint(profile, type, p.endpointName ?? '');
          if (!e) throw endpointNotFound(profile, type, p.endpointName ?? '');
          return { status: 200, body: renderEndpoint(profile, e, monitor(services)) };
        },
      };
    case 'PUT':
      return { ...route, operation: 'createOrUpdateEndpoint', handle: (req) => putEndpoint(req, p, type, services) };
    case 'PATCH':
      return { ...route, operation: 'updateEndpoint', handle: (req) => patchEndpoint(req, p, type, services) };
    case 'DELETE':
      return {
        ...route,
        operation: 'deleteEndpoint',
        handle: () => {
          const profile = requireProfile(services, p);
          const e = findEndpoint(profile, type, p.endpointName ?? '');
          if (!e) return { status: 204 };
          services.store.removeEndpoint(profile.id, e.name);
          services.counters.increment(e.id, 'deleteEndpoint');
          return { status: 200, body: { boolean: true } };
        },
      };
    default:
      return methodNotAllowed(method, route.resourceType, ['GET', 'PUT', 'PATCH', 'DELETE']);
  }
};

function validateEndpoint(profile: ProfileRecord, e: EndpointRecord): void {
  const props = e.properties;
  if (e.type === 'ExternalEndpoints' && !props.target) {
    throw ArmError.badRequest('An external endpoint needs a target (FQDN or IP address).', 'properties.target');
  }
  if (e.type !== 'ExternalEndpoints' && !props.targetResourceId) {
    throw ArmError.badRequest(`${e.type} need a targetResourceId.`, 'properties.targetResourceId');
  }
  if (props.priority !== undefined) {
    const clash = profile.endpoints.find(
      (x) => x.name.toLowerCase() !== e.name.toLowerCase() && x.properties.priority === props.priority,
    );
    if (clash) {
      throw ArmError.badRequest(
        `Priority ${props.priority} is already used by endpoint '${clash.name}'; priorities must be unique.`,
        'properties.priority',
      );
    }
  }
}

function putEndpoint(
  req: ArmRequest,
  params: Record<string, string>,
  type: EndpointType,
  services: ArmServices,
): ArmResponse {
  const profile = requireProfile(services, params);
  const body = parseBody(endpointBody, req.body, { required: true });
  const name = findEndpoint(profile, type, params.endpointName ?? '')?.name ?? params.endpointName ?? '';
  if (!name || name.length > 260) throw ArmError.invalidResourceName('endpoint name', name, '1-260 characters');
  const other = profile.endpoints.find((e) => e.name.toLowerCase() === name.toLowerCase() && e.type !== type);
  if (other) {
    throw ArmError.badRequest(`An endpoint named '${name}' of type ${other.type} already exists.`, 'name');
  }
  const props = compact({ ...(body?.properties ?? {}) }) as Partial<EndpointProperties> & {
    endpointMonitorStatus?: unknown;
  };
  delete props.endpointMonitorStatus;
  let priority = props.priority;
  if (priority === undefined && profile.trafficRoutingMethod === 'Priority') {
    // Azure assigns the next free priority when none is given.
    const used = profile.endpoints
      .filter((e) => e.name.toLowerCase() !== name.toLowerCase())
      .map((e) => e.properties.priority ?? 0);
    priority = Math.max(0, ...used) + 1;
  }
  const endpoint: EndpointRecord = {
    id: endpointResourceId(profile.id, type, name),
    name,
    type,
    properties: { ...props, endpointStatus: props.endpointStatus ?? 'Enabled', weight: props.weight ?? 1, priority },
  };
  validateEndpoint(profile, endpoint);
  checkingClock(services, findEndpoint(profile, type, name), endpoint);
  const { created } = services.store.replaceEndpoint(profile.id, endpoint);
  services.counters.increment(endpoint.id, 'createOrUpdateEndpoint');
  services.log(`traffic manager: ${created ? 'created' : 'replaced'} ${endpoint.id}`);
  return { status: created ? 201 : 200, body: renderEndpoint(profile, endpoint, monitor(services)) };
}

function patchEndpoint(
  req: ArmRequest,
  params: Record<string, string>,
  type: EndpointType,
  services: ArmServices,
): ArmResponse {
  const profile = requireProfile(services, params);
  const current = findEndpoint(profile, type, params.endpointName ?? '');
  if (!current) throw endpointNotFound(profile, type, params.endpointName ?? '');
  const body = parseBody(endpointBody, req.body, { required: true });
  const patch = compact({ ...(body?.properties ?? {}) }) as Partial<EndpointProperties> & {
    endpointMonitorStatus?: unknown;
  };
  delete patch.endpointMonitorStatus;
  const merged: EndpointRecord = { ...current, properties: { ...current.properties, ...patch } };
  validateEndpoint(profile, merged);
  checkingClock(services, current, merged);
  services.store.replaceEndpoint(profile.id, merged);
  services.counters.increment(merged.id, 'updateEndpoint');
  services.log(`traffic manager: updated ${merged.id} ${JSON.stringify(patch)}`);
  return { status: 200, body: renderEndpoint(profile, merged, monitor(services)) };
}
