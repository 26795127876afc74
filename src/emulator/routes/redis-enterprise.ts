/** Microsoft.Cache/redisEnterprise clusters: GET (the runbook never creates or changes clusters). */
import { ArmError } from '../errors';
import { CLUSTER_TYPE, clusterResourceId, isValidResourceName, type ClusterRecord } from '../store';
import {
  REDIS_API_VERSIONS,
  checkScope,
  compact,
  matchPath,
  methodNotAllowed,
  type ArmServices,
  type Route,
  type RouteResolver,
} from './common';

export const CLUSTER_PATH = [
  'subscriptions',
  '{subscriptionId}',
  'resourceGroups',
  '{resourceGroupName}',
  'providers',
  'Microsoft.Cache',
  'redisEnterprise',
  '{clusterName}',
] as const;

const NAME_RULE = '1-60 letters, digits and single dashes';

export interface ClusterScope {
  subscriptionId: string;
  resourceGroupName: string;
  clusterName: string;
  /** the stored cluster, when it exists */
  cluster?: ClusterRecord;
  /** canonical id when it exists, else built from the path */
  clusterId: string;
}

/** Finds the cluster a path names (without failing), so routes can know its region early. */
export function clusterScope(params: Record<string, string>, services: ArmServices): ClusterScope {
  const subscriptionId = params.subscriptionId ?? '';
  const resourceGroupName = params.resourceGroupName ?? '';
  const clusterName = params.clusterName ?? '';
  const built = clusterResourceId(subscriptionId, resourceGroupName, clusterName);
  const cluster = services.store.cluster(built);
  return { subscriptionId, resourceGroupName, clusterName, cluster, clusterId: cluster?.id ?? built };
}

/**
 * The cluster, or the ARM error for a bad name, missing subscription, resource group or cluster.
 * `asParent` answers ParentResourceNotFound (a nested resource under a missing cluster).
 */
export function requireCluster(scope: ClusterScope, services: ArmServices, asParent: boolean): ClusterRecord {
  if (!isValidResourceName(scope.clusterName)) {
    throw ArmError.invalidResourceName('cluster name', scope.clusterName, NAME_RULE);
  }
  const rg = checkScope(services, scope.subscriptionId, scope.resourceGroupName) ?? scope.resourceGroupName;
  if (!scope.cluster) {
    if (asParent) throw ArmError.parentResourceNotFound(`${CLUSTER_TYPE}/${scope.clusterName}`, scope.clusterName);
    throw ArmError.resourceNotFound(`${CLUSTER_TYPE}/${scope.clusterName}`, rg);
  }
  return scope.cluster;
}

export function renderCluster(c: ClusterRecord): Record<string, unknown> {
  return compact({
    id: c.id,
    name: c.name,
    type: CLUSTER_TYPE,
    location: c.location,
    tags: { ...c.tags },
    kind: 'v2',
    sku: compact({ name: c.sku.name, capacity: c.sku.capacity }),
    zones: c.zones ? [...c.zones] : undefined,
    properties: {
      highAvailability: c.highAvailability,
      minimumTlsVersion: c.minimumTlsVersion,
      publicNetworkAccess: 'Enabled',
      hostName: c.hostName,
      provisioningState: 'Succeeded',
      redundancyMode: c.highAvailability === 'Enabled' ? (c.zones?.length ? 'ZR' : 'LR') : 'None',
      resourceState: 'Running',
      redisVersion: '7.4',
      privateEndpointConnections: [],
    },
  });
}

export const clusterRoutes: RouteResolver = (method, segments, services): Route | undefined => {
  const params = matchPath(segments, CLUSTER_PATH);
  if (!params) return undefined;
  if (method !== 'GET') methodNotAllowed(method, CLUSTER_TYPE, ['GET']);
  const scope = clusterScope(params, services);
  return {
    operation: 'getCluster',
    resourceType: CLUSTER_TYPE,
    apiVersions: REDIS_API_VERSIONS,
    resourceId: scope.clusterId,
    region: scope.cluster?.location,
    handle: () => ({ status: 200, body: renderCluster(requireCluster(scope, services, false)) }),
  };
};
