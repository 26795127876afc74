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

/** The audience of Azure Managed Redis data-plane tokens (Microsoft Entra ID). */
export const REDIS_TOKEN_SCOPE = 'https://redis.azure.com/.default';

/**
 * How a client reaches one database's data plane. Holds a secret (access key or Entra token): never return it
 * from an activity.
 */
export interface DataPlaneAccess {
  /** the cluster's hostName, as ARM reports it (TLS certificates name it) */
  hostName: string;
  port: number;
  tls: boolean;
  /**
   * `entra`: username = the credential's object id (`oid`), password = a token for https://redis.azure.com;
   * `key`: the default user, password = the primary access key (listKeys).
   */
  auth: 'entra' | 'key';
  /** the ACL user (Entra: the principal's object id); absent for the access key */
  username?: string;
  password: string;
}

/** The `oid` claim of a JWT access token (not verified: the server does that). */
export function objectIdOfToken(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { oid?: unknown };
    return typeof claims.oid === 'string' && claims.oid.length > 0 ? claims.oid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads what it takes to talk to a database's data plane: the cluster's hostName and the database's port,
 * clientProtocol and accessKeysAuthentication (GETs, in parallel), then the secret.
 *
 * The rule: the database decides. `accessKeysAuthentication: Enabled` → the primary access key (listKeys);
 * anything else (Disabled, or not reported: Azure's default is Disabled) → Microsoft Entra ID with the ARM
 * clients' own credential: a token for https://redis.azure.com/.default, username its `oid` claim. No listKeys
 * call is made on the Entra path. The credential's principal needs a data access policy on each database.
 * @throws the ApplicationFailure of {@link azureFailure} for Azure errors (and for a failed token request);
 *   non-retryable InvalidInput when ARM reports no hostName, port or key, or the token carries no `oid`.
 */
export async function readDataPlaneAccess(
  arm: ArmClients,
  databaseId: string,
  what: string,
  abortSignal?: AbortSignal,
): Promise<DataPlaneAccess> {
  const id = databaseIdOf(databaseId, what);
  // The clients of the database's own subscription (any of `arm`'s registry).
  const { redis, credential } = armClientsFor(arm, databaseId);
  const options = abortSignal ? { abortSignal } : {};
  let hostName: string | undefined;
  let port: number | undefined;
  let clientProtocol: string | undefined;
  let keysEnabled = false;
  try {
    // SDK 2.2.0's mappers predate properties.accessKeysAuthentication and drop it: read it from the raw text.
    let accessKeysAuthentication: unknown;
    const [cluster, database] = await Promise.all([
      redis.redisEnterprise.get(id.resourceGroupName, id.clusterName, options),
      redis.databases.get(id.resourceGroupName, id.clusterName, id.databaseName, {
        ...options,
        onResponse: (raw) => {
          try {
            accessKeysAuthentication = (
              JSON.parse(raw.bodyAsText ?? '{}') as { properties?: { accessKeysAuthentication?: unknown } }
            ).properties?.accessKeysAuthentication;
          } catch {
            // not JSON: the SDK reports that
          }
        },
      }),
    ]);
    hostName = cluster.hostName;
    port = database.port;
    clientProtocol = database.clientProtocol;
    keysEnabled = accessKeysAuthentication === 'Enabled';
  } catch (e) {
    throw azureFailure(e, `${what}: reading the data-plane address of ${databaseId}`);
  }
  if (!hostName || !port) {
    const missing = [!hostName && 'hostName', !port && 'port'].filter(Boolean).join(', ');
    throw ApplicationFailure.nonRetryable(
      `${what}: ARM reports no ${missing} for ${databaseId}`,
      FAILURE_TYPES.invalidInput,
    );
  }
  // Azure's default is TLS; only an explicit Plaintext turns it off.
  const address = { hostName, port, tls: clientProtocol !== 'Plaintext' };
  if (keysEnabled) {
    let password: string | undefined;
    try {
      password = (await redis.databases.listKeys(id.resourceGroupName, id.clusterName, id.databaseName, options))
        .primaryKey;
    } catch (e) {
      throw azureFailure(e, `${what}: reading the access key of ${databaseId}`);
    }
    if (!password) {
      throw ApplicationFailure.nonRetryable(
        `${what}: ARM reports no primaryKey for ${databaseId} (is access-key authentication enabled?)`,
        FAILURE_TYPES.invalidInput,
      );
    }
    return { ...address, auth: 'key', password };
  }
  let token: string;
  try {
    const got = await credential.getToken(REDIS_TOKEN_SCOPE, abortSignal ? { abortSignal } : {});
    if (!got) throw new Error('the credential returned no token');
    token = got.token;
  } catch (e) {
    throw azureFailure(e, `${what}: getting a Microsoft Entra ID token for ${databaseId} (${REDIS_TOKEN_SCOPE})`);
  }
  const username = objectIdOfToken(token);
  if (!username) {
    throw ApplicationFailure.nonRetryable(
      `${what}: the Microsoft Entra ID token for ${databaseId} carries no oid claim (the Redis username)`,
      FAILURE_TYPES.invalidInput,
    );
  }
  return { ...address, auth: 'entra', username, password: token };
}
