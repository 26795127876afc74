/** The route table: each module answers for the paths of one resource type. */
import { ArmError } from '../errors';
import type { ArmServices, Route, RouteResolver } from './common';
import { databaseRoutes } from './databases';
import { metricsRoutes } from './metrics';
import { operationStatusRoutes } from './operation-status';
import { clusterRoutes } from './redis-enterprise';
import { trafficManagerRoutes } from './traffic-manager';

const RESOLVERS: readonly RouteResolver[] = [
  clusterRoutes,
  databaseRoutes,
  metricsRoutes,
  operationStatusRoutes,
  trafficManagerRoutes,
];

/**
 * The route for a request.
 * @throws ArmError 404 when no module serves the path, 405 when the path is served but not the method.
 */
export function resolveRoute(method: string, path: string, segments: string[], services: ArmServices): Route {
  for (const resolve of RESOLVERS) {
    const route = resolve(method, segments, services);
    if (route) return route;
  }
  throw ArmError.noRoute(method, path);
}

export type { ArmRequest, ArmResponse, ArmServices, Route, RouteDataPlane } from './common';
export { renderCluster } from './redis-enterprise';
export { renderDatabase } from './databases';
export { renderProfile } from './traffic-manager';
