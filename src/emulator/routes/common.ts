/**
 * What route modules share: the request and response models, the services they act on, path
 * matching (ARM paths are case-insensitive) and body validation into ARM errors.
 */
import type { z } from 'zod';
import { ArmError } from '../errors';
import type { Counters } from '../counters';
import type { Faults } from '../faults';
import type { Operations } from '../lro';
import type { OperationName } from '../operations';
import type { AccessKeys, Store } from '../store';
import type { Latencies } from '../latencies';

export const REDIS_API_VERSIONS = ['2022-01-01', '2026-08-01'] as const;
/**
 * Operations newer than 2022-01-01 (flush: stable since 2023-07-01, forceLinkToReplicationGroup: since
 * 2024-10-01) exist only in 2026-08-01 of the versions the emulator serves.
 */
export const REDIS_NEWER_API_VERSIONS = ['2026-08-01'] as const;
export const TRAFFIC_MANAGER_API_VERSIONS = ['2022-04-01'] as const;

export interface ArmRequest {
  method: string;
  /** decoded path, no query */
  path: string;
  segments: string[];
  query: URLSearchParams;
  /** the api-version, once checked */
  apiVersion: string;
  /** scheme://host the client used, for URLs the emulator hands out */
  baseUrl: string;
  requestId: string;
  /** parsed JSON body; undefined when the request had none */
  body: unknown;
}

export interface ArmResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A resolved route: which operation, on what, and how to answer it. */
export interface Route {
  operation: OperationName;
  resourceType: string;
  apiVersions: readonly string[];
  /** the target resource's id (canonical when it exists), for faults and counters */
  resourceId: string;
  /** the region whose outage makes this request answer 503 */
  region?: string;
  /** query parameters it accepts besides api-version, lower case (Azure Monitor's metricnames, interval, …) */
  query?: readonly string[];
  handle(request: ArmRequest): ArmResponse | Promise<ArmResponse>;
}

/** The data-plane actions ARM operations trigger. */
export interface RouteDataPlane {
  endpoint(databaseId: string): { host: string; port: number };
  isRunning(databaseId: string): boolean;
  startDatabase(databaseId: string): Promise<void>;
  stopDatabase(databaseId: string): Promise<void>;
  flush(databaseId: string): Promise<void>;
  setPassword(databaseId: string, password: string): Promise<void>;
  /** INFO memory used_memory and maxmemory of a running database (Azure Monitor's figures come from it) */
  memory(databaseId: string): Promise<{ usedBytes: number; maxBytes: number }>;
}

export interface ArmServices {
  store: Store;
  operations: Operations;
  faults: Faults;
  counters: Counters;
  dataPlane: RouteDataPlane;
  metadata: { reconcile(): Promise<void> };
  lro: { durationMs: number; retryAfterSeconds: number };
  /** emulated ARM and LRO latencies (default zero) */
  latencies: Latencies;
  newKeys(): AccessKeys;
  log(line: string): void;
}

/** A route module: returns the route for a method and path it serves, undefined otherwise. */
export type RouteResolver = (method: string, segments: string[], services: ArmServices) => Route | undefined;

/**
 * Matches path segments against a pattern; `{name}` captures, anything else is a literal compared
 * case-insensitively. Returns the captures, or undefined.
 */
export function matchPath(segments: readonly string[], pattern: readonly string[]): Record<string, string> | undefined {
  if (segments.length !== pattern.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const s = segments[i] as string;
    if (p.startsWith('{') && p.endsWith('}')) params[p.slice(1, -1)] = s;
    else if (p.toLowerCase() !== s.toLowerCase()) return undefined;
  }
  return params;
}

export function methodNotAllowed(method: string, resourceType: string, allowed: readonly string[]): never {
  throw ArmError.methodNotAllowed(method, resourceType, allowed);
}

/** Validates a JSON body; shape errors become 400 InvalidRequestContent naming the field. */
export function parseBody<T extends z.ZodType>(
  schema: T,
  body: unknown,
  options: { required: boolean },
): z.output<T> | undefined {
  if (body === undefined) {
    if (options.required) throw ArmError.invalidRequestContent('a JSON request body is required.');
    return undefined;
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path =
      issue && issue.path.length
        ? issue.path.reduce<string>(
            (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)),
            '',
          )
        : '(body)';
    throw ArmError.invalidRequestContent(`${path}: ${issue?.message ?? 'invalid value'}.`, path);
  }
  return result.data;
}

/** Checks subscription and resource group before a resource lookup, the way ARM answers. */
export function checkScope(services: ArmServices, subscriptionId: string, resourceGroup?: string): string | undefined {
  if (!services.store.hasSubscription(subscriptionId)) throw ArmError.subscriptionNotFound(subscriptionId);
  if (resourceGroup === undefined) return undefined;
  const rg = services.store.resourceGroup(resourceGroup, subscriptionId);
  if (!rg) throw ArmError.resourceGroupNotFound(resourceGroup);
  return rg;
}

/** JSON with undefined members left out (what JSON.stringify does anyway), for tidy state dumps too. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
