import type { Cluster, Database } from '@azure/arm-redisenterprisecache';
import { ApplicationFailure } from '@temporalio/activity';
import { type ArmClients, armClientsFor } from '../azure/clients';
import { classifyAzureError } from '../azure/errors';
import { parseDatabaseId } from '../azure/resource-ids';
import type { GroupMember } from '../contract/readiness';
import type { MemberSnapshot } from '../contract/types';
import { FAILURE_TYPES } from '../contract/failures';
import { azureFailure } from './azure-failure';
import type { MembershipActivities } from './types';

export interface MembershipDependencies {
  arm: ArmClients;
}

function snapshot(
  member: GroupMember,
  cluster: Cluster,
  database: Database,
  highAvailability?: string,
): MemberSnapshot {
  const geo = database.geoReplication;
  return {
    region: member.region,
    databaseId: member.databaseId,
    reachable: true,
    provisioningState: database.provisioningState,
    resourceState: database.resourceState,
    groupNickname: geo?.groupNickname,
    linkedDatabases: (geo?.linkedDatabases ?? []).map((l) => ({ id: l.id ?? '', state: l.state ?? 'Unknown' })),
    settings: {
      sku: cluster.sku.name,
      ...(cluster.sku.capacity !== undefined ? { capacity: cluster.sku.capacity } : {}),
      modules: (database.modules ?? []).map((m) => m.name).sort(),
      evictionPolicy: database.evictionPolicy,
      clusteringPolicy: database.clusteringPolicy,
      clientProtocol: database.clientProtocol,
      highAvailability,
    },
    hostName: cluster.hostName,
    port: database.port,
  };
}

/** Read-only activities over group membership; safe to retry at any time. */
export function createMembershipActivities(deps: MembershipDependencies): MembershipActivities {
  return {
    async describeMember(member) {
      let id;
      try {
        id = parseDatabaseId(member.databaseId);
      } catch (e) {
        throw ApplicationFailure.nonRetryable(
          `member ${member.region}: ${(e as Error).message}`,
          FAILURE_TYPES.invalidInput,
        );
      }
      // The clients of the member's own subscription: a group may span subscriptions.
      const { redis } = armClientsFor(deps.arm, member.databaseId);
      try {
        // SDK 2.2.0's mappers predate properties.highAvailability and drop it (also from
        // parsedBody): read it from the raw text.
        let highAvailability: string | undefined;
        const [cluster, database] = await Promise.all([
          redis.redisEnterprise.get(id.resourceGroupName, id.clusterName, {
            onResponse: (raw) => {
              try {
                highAvailability = JSON.parse(raw.bodyAsText ?? '{}')?.properties?.highAvailability;
              } catch {
                // not JSON: the mapped result below is all we have
              }
            },
          }),
          redis.databases.get(id.resourceGroupName, id.clusterName, id.databaseName),
        ]);
        return snapshot(member, cluster, database, highAvailability);
      } catch (e) {
        const c = classifyAzureError(e);
        // A member that does not answer (outage, 5xx after the SDK's own retries) is a finding, not a failure.
        if (c.type === FAILURE_TYPES.azureTransient) {
          return {
            region: member.region,
            databaseId: member.databaseId,
            reachable: false,
            error: { code: c.code ?? 'Unavailable', message: c.message },
          };
        }
        throw azureFailure(e, `reading member ${member.region} (${member.databaseId})`);
      }
    },
  };
}
