/**
 * A generated estate: N geo-replication groups, each with one cluster and database per region and a
 * Priority-routed Traffic Manager profile with one endpoint per region, shaped like the default scenario.
 * Pure: the same options always give the same scenario. `geofailover emulator --scenario estate:N` serves one.
 */
import type { ScenarioInput } from '../scenario';

export const ESTATE_REGIONS = ['eastus', 'westeurope', 'southeastasia'] as const;
/** The same subscription and resource group as the default scenario. */
export const ESTATE_SUBSCRIPTION_ID = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
export const ESTATE_RESOURCE_GROUP = 'rg-geofailover-estate';
/** Enough for `estate-NNNN` names; the emulator's scale is measured up to a few hundred. */
export const MAX_ESTATE_GROUPS = 9999;
export const ESTATE_SPEC = /^estate:(\d{1,4})$/;

export interface EstateOptions {
  /** how many geo-replication groups (1 to 9999) */
  groups: number;
  /** member regions of every group, in Traffic Manager priority order; default eastus, westeurope, southeastasia */
  regions?: readonly string[];
  /** regions applications run in (a private endpoint each per database); default the member regions */
  applicationRegions?: readonly string[];
  /** each database's maxmemory; default 64 MiB, as in the default scenario */
  maxMemoryMb?: number;
}

/** `estate-001` … (three digits up to 999 groups, four beyond): sorts in creation order. */
export function estateGroupName(index: number, groups: number): string {
  return `estate-${String(index + 1).padStart(groups > 999 ? 4 : 3, '0')}`;
}

/** The cluster of a group in a region, named like the default scenario's (`redis-<group>-<region>`). */
export function estateClusterName(group: string, region: string): string {
  return `redis-${group}-${region}`;
}

/** The generated estate as a scenario (validated, like a file, when the emulator starts). */
export function generateEstate(options: EstateOptions): ScenarioInput {
  const { groups } = options;
  if (!Number.isInteger(groups) || groups < 1 || groups > MAX_ESTATE_GROUPS) {
    throw new RangeError(`an estate has 1 to ${MAX_ESTATE_GROUPS} groups, got ${groups}`);
  }
  const regions = [...(options.regions ?? ESTATE_REGIONS)];
  const maxMemoryMb = options.maxMemoryMb ?? 64;
  const clusters: NonNullable<ScenarioInput['clusters']> = [];
  const profiles: NonNullable<ScenarioInput['trafficManagerProfiles']> = [];
  for (let i = 0; i < groups; i++) {
    const group = estateGroupName(i, groups);
    for (const region of regions) {
      clusters.push({
        name: estateClusterName(group, region),
        location: region,
        sku: { name: 'Balanced_B5' },
        highAvailability: 'Enabled',
        minimumTlsVersion: '1.2',
        databases: [
          {
            name: 'default',
            clientProtocol: 'Encrypted',
            clusteringPolicy: 'EnterpriseCluster',
            evictionPolicy: 'NoEviction',
            modules: [],
            maxMemoryMb,
            accessKeysAuthentication: 'Disabled',
            geoReplication: { groupNickname: group },
          },
        ],
      });
    }
    profiles.push({
      name: `tm-${group}`,
      routingMethod: 'Priority',
      ttl: 30,
      relativeName: `${group}-demo`,
      endpoints: regions.map((region, p) => ({
        name: region,
        type: 'ExternalEndpoints' as const,
        target: `${estateClusterName(group, region)}.${region}.redis.azure.net`,
        endpointLocation: region,
        priority: p + 1,
        endpointStatus: 'Enabled' as const,
      })),
    });
  }
  return {
    subscriptionId: ESTATE_SUBSCRIPTION_ID,
    resourceGroup: ESTATE_RESOURCE_GROUP,
    regions,
    clusters,
    trafficManagerProfiles: profiles,
    applicationRegions: [...(options.applicationRegions ?? regions)],
    metadataBuildup: { bytesPerSecond: 2 * 1024 * 1024, maxPercentOfMaxMemory: 90 },
  };
}

/** `estate:N` → N; undefined for anything else (a file name). */
export function parseEstateSpec(spec: string): number | undefined {
  const m = ESTATE_SPEC.exec(spec.trim());
  if (!m) return undefined;
  return Number(m[1]);
}
