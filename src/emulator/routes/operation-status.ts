/**
 * Status and result resources of long-running operations:
 * - `GET /subscriptions/{sub}/providers/Microsoft.Cache/locations/{location}/operationsStatus/{id}`
 *   (the `Azure-AsyncOperation` URL): always 200 with the OperationStatus body;
 * - `GET …/locations/{location}/operationResults/{id}` (the `Location` URL): 202 while running, then
 *   200 with the resource (create/update) or 204, or the operation's error when it failed.
 */
import { ArmError } from '../errors';
import { normalizeLocation, operationResultPath, operationStatusBody, type OperationRecord } from '../lro';
import {
  REDIS_API_VERSIONS,
  matchPath,
  methodNotAllowed,
  type ArmServices,
  type Route,
  type RouteResolver,
} from './common';

const BASE = ['subscriptions', '{subscriptionId}', 'providers', 'Microsoft.Cache', 'locations', '{location}'];
const STATUS_PATH = [...BASE, 'operationsStatus', '{operationId}'];
const RESULT_PATH = [...BASE, 'operationResults', '{operationId}'];
const STATUS_TYPE = 'Microsoft.Cache/locations/operationsStatus';
const RESULT_TYPE = 'Microsoft.Cache/locations/operationResults';

function findOperation(params: Record<string, string>, services: ArmServices): OperationRecord {
  const id = params.operationId ?? '';
  const op = services.operations.get(id);
  if (
    !op ||
    !services.store.hasSubscription(params.subscriptionId ?? '') ||
    normalizeLocation(op.location) !== normalizeLocation(params.location ?? '')
  ) {
    throw ArmError.operationNotFound(id);
  }
  return op;
}

/** HTTP status for a failed operation's result resource. */
function failureStatus(code: string): number {
  if (code === 'InternalServerError') return 500;
  if (code === 'Conflict') return 409;
  return 400;
}

export const operationStatusRoutes: RouteResolver = (method, segments, services): Route | undefined => {
  const status = matchPath(segments, STATUS_PATH);
  const result = status ? undefined : matchPath(segments, RESULT_PATH);
  const params = status ?? result;
  if (!params) return undefined;
  if (method !== 'GET') methodNotAllowed(method, status ? STATUS_TYPE : RESULT_TYPE, ['GET']);
  const region = normalizeLocation(params.location ?? '');
  if (status) {
    return {
      operation: 'getOperationStatus',
      resourceType: STATUS_TYPE,
      apiVersions: REDIS_API_VERSIONS,
      resourceId: `/${segments.join('/')}`,
      region,
      handle: () => {
        const op = findOperation(params, services);
        const headers: Record<string, string> = {};
        if (op.status === 'InProgress' && services.lro.retryAfterSeconds > 0) {
          headers['Retry-After'] = String(services.lro.retryAfterSeconds);
        }
        return { status: 200, body: operationStatusBody(op), headers };
      },
    };
  }
  return {
    operation: 'getOperationResult',
    resourceType: RESULT_TYPE,
    apiVersions: REDIS_API_VERSIONS,
    resourceId: `/${segments.join('/')}`,
    region,
    handle: (req) => {
      const op = findOperation(params, services);
      if (op.status === 'InProgress') {
        const headers: Record<string, string> = {
          Location: `${req.baseUrl}${operationResultPath(op)}?api-version=${encodeURIComponent(op.apiVersion)}`,
        };
        if (services.lro.retryAfterSeconds > 0) headers['Retry-After'] = String(services.lro.retryAfterSeconds);
        return { status: 202, headers };
      }
      if (op.status === 'Succeeded') {
        const body = op.result.kind === 'resource' ? op.result.render() : undefined;
        return body === undefined ? { status: 204 } : { status: 200, body };
      }
      const error = op.error ?? { code: 'OperationFailed', message: `The operation ended ${op.status}.` };
      throw new ArmError(failureStatus(error.code), error.code, error.message);
    },
  };
};
