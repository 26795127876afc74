import { ApplicationFailure } from '@temporalio/activity';
import { type ArmClients, armClientsFor } from '../azure/clients';
import { parseDatabaseId, type DatabaseResourceId } from '../azure/resource-ids';
import { FAILURE_TYPES } from '../contract/failures';
import { azureFailure } from './azure-failure';

/**
 * Parses a database id from an activity input.
 * @throws non-retryable InvalidInput naming `what` (e.g. the member's region) when the id is malformed.
 */
export function databaseIdOf(databaseId: string, what: string): DatabaseResourceId {
  try {
    return parseDatabaseId(databaseId);
  } catch (e) {
    throw ApplicationFailure.nonRetryable(`${what}: ${(e as Error).message}`, FAILURE_TYPES.invalidInput);
  }
}

/** How a client reaches one database's data plane. Holds the access key: never return it from an activity. */
export interface DataPlaneAccess {
  /** the cluster's hostName, as ARM reports it (TLS certificates name it) */
  hostName: string;
  port: number;
  tls: boolean;
  password: string;
}

/**
 * Reads what it takes to talk to a database's data plane: the cluster's hostName, the database's port and
 * clientProtocol, and its primary access key (listKeys), in parallel.
 * @throws the ApplicationFailure of {@link azureFailure} for Azure errors; non-retryable InvalidInput when ARM
 *   reports no hostName, port or key.
 */
export async function readDataPlaneAccess(
  arm: ArmClients,
  databaseId: string,
  what: string,
  abortSignal?: AbortSignal,
): Promise<DataPlaneAccess> {
  const id = databaseIdOf(databaseId, what);
  // The clients of the database's own subscription (any of `arm`'s registry).
  const { redis } = armClientsFor(arm, databaseId);
  const options = abortSignal ? { abortSignal } : {};
  let hostName: string | undefined;
  let port: number | undefined;
  let clientProtocol: string | undefined;
  let password: string | undefined;
  try {
    const [cluster, database, keys] = await Promise.all([
      redis.redisEnterprise.get(id.resourceGroupName, id.clusterName, options),
      redis.databases.get(id.resourceGroupName, id.clusterName, id.databaseName, options),
      redis.databases.listKeys(id.resourceGroupName, id.clusterName, id.databaseName, options),
    ]);
    hostName = cluster.hostName;
    port = database.port;
    clientProtocol = database.clientProtocol;
    password = keys.primaryKey;
  } catch (e) {
    throw azureFailure(e, `${what}: reading the data-plane address and key of ${databaseId}`);
  }
  if (!hostName || !port || !password) {
    const missing = [!hostName && 'hostName', !port && 'port', !password && 'primaryKey'].filter(Boolean).join(', ');
    throw ApplicationFailure.nonRetryable(
      `${what}: ARM reports no ${missing} for ${databaseId} (is access-key authentication enabled?)`,
      FAILURE_TYPES.invalidInput,
    );
  }
  // Azure's default is TLS; only an explicit Plaintext turns it off.
  return { hostName, port, tls: clientProtocol !== 'Plaintext', password };
}
