import type { RedisEnterpriseManagementClient } from '@azure/arm-redisenterprisecache';
import {
  createSerializer,
  type CompositeMapper,
  type FullOperationResponse,
  type OperationArguments,
  type OperationOptions,
  type OperationParameter,
  type OperationQueryParameter,
  type OperationSpec,
  type OperationURLParameter,
} from '@azure/core-client';
import {
  LroEngine,
  type LongRunningOperation,
  type LroResourceLocationConfig,
  type LroResponse,
  type PollerLike,
  type PollOperationState,
} from '@azure/core-lro';
import { DEFAULT_REDIS_API_VERSION } from './clients';

/*
 * Operations that @azure/arm-redisenterprisecache 2.2.0 lacks (forceLinkToReplicationGroup, flush), written the
 * way that package's generated code writes beginForceUnlink: an OperationSpec sent with the client's own
 * authenticated pipeline (`sendOperationRequest`) and polled by core-lro's LroEngine.
 */

/** Body of `POST …/databases/{db}/forceLinkToReplicationGroup` (api-version 2024-10-01 and later). */
export interface ForceLinkParameters {
  geoReplication: {
    /** Must equal the existing group's nickname. */
    groupNickname?: string;
    /** The still-linked members of the group the database rejoins (ARM database ids). */
    linkedDatabases?: { id?: string }[];
  };
}

/** Body of `POST …/databases/{db}/flush` (api-version 2023-07-01 and later). */
export interface FlushParameters {
  /** The other members of the geo-replication group to flush as well. */
  ids?: string[];
}

export interface BeginForceLinkToReplicationGroupOptions extends OperationOptions {
  /** Delay between polls, in milliseconds (default 2000; a `Retry-After` on a poll response overrides it). */
  updateIntervalInMs?: number;
  /** A serialized poller (`poller.toString()`) to resume. */
  resumeFrom?: string;
}

export interface BeginFlushOptions extends OperationOptions {
  /** Delay between polls, in milliseconds (default 2000; a `Retry-After` on a poll response overrides it). */
  updateIntervalInMs?: number;
  /** A serialized poller (`poller.toString()`) to resume. */
  resumeFrom?: string;
}

const errorDetailMapper: CompositeMapper = {
  type: {
    name: 'Composite',
    className: 'ErrorDetail',
    modelProperties: {
      code: { serializedName: 'code', readOnly: true, type: { name: 'String' } },
      message: { serializedName: 'message', readOnly: true, type: { name: 'String' } },
      target: { serializedName: 'target', readOnly: true, type: { name: 'String' } },
      details: {
        serializedName: 'details',
        readOnly: true,
        type: { name: 'Sequence', element: { type: { name: 'Composite', className: 'ErrorDetail' } } },
      },
      additionalInfo: {
        serializedName: 'additionalInfo',
        readOnly: true,
        type: { name: 'Sequence', element: { type: { name: 'Composite', className: 'ErrorAdditionalInfo' } } },
      },
    },
  },
};

const errorAdditionalInfoMapper: CompositeMapper = {
  type: {
    name: 'Composite',
    className: 'ErrorAdditionalInfo',
    modelProperties: {
      type: { serializedName: 'type', readOnly: true, type: { name: 'String' } },
      info: { serializedName: 'info', readOnly: true, type: { name: 'Dictionary', value: { type: { name: 'any' } } } },
    },
  },
};

const errorResponseMapper: CompositeMapper = {
  type: {
    name: 'Composite',
    className: 'ErrorResponse',
    modelProperties: {
      error: { serializedName: 'error', type: { name: 'Composite', className: 'ErrorDetail' } },
    },
  },
};

const linkedDatabaseMapper: CompositeMapper = {
  type: {
    name: 'Composite',
    className: 'ForceLinkLinkedDatabase',
    modelProperties: {
      id: { serializedName: 'id', type: { name: 'String' } },
    },
  },
};

const forceLinkGeoReplicationMapper: CompositeMapper = {
  type: {
    name: 'Composite',
    className: 'ForceLinkParametersGeoReplication',
    modelProperties: {
      groupNickname: { serializedName: 'groupNickname', type: { name: 'String' } },
      linkedDatabases: {
        serializedName: 'linkedDatabases',
        type: { name: 'Sequence', element: { type: { name: 'Composite', className: 'ForceLinkLinkedDatabase' } } },
      },
    },
  },
};

const forceLinkParametersMapper: CompositeMapper = {
  type: {
    name: 'Composite',
    className: 'ForceLinkParameters',
    modelProperties: {
      geoReplication: {
        serializedName: 'geoReplication',
        required: true,
        type: { name: 'Composite', className: 'ForceLinkParametersGeoReplication' },
      },
    },
  },
};

const flushParametersMapper: CompositeMapper = {
  type: {
    name: 'Composite',
    className: 'FlushParameters',
    modelProperties: {
      ids: { serializedName: 'ids', type: { name: 'Sequence', element: { type: { name: 'String' } } } },
    },
  },
};

const serializer = createSerializer(
  {
    ErrorDetail: errorDetailMapper,
    ErrorAdditionalInfo: errorAdditionalInfoMapper,
    ErrorResponse: errorResponseMapper,
    ForceLinkLinkedDatabase: linkedDatabaseMapper,
    ForceLinkParametersGeoReplication: forceLinkGeoReplicationMapper,
    ForceLinkParameters: forceLinkParametersMapper,
    FlushParameters: flushParametersMapper,
  },
  false,
);

const accept: OperationParameter = {
  parameterPath: 'accept',
  mapper: { defaultValue: 'application/json', isConstant: true, serializedName: 'Accept', type: { name: 'String' } },
};
const contentType: OperationParameter = {
  parameterPath: ['options', 'contentType'],
  mapper: {
    defaultValue: 'application/json',
    isConstant: true,
    serializedName: 'Content-Type',
    type: { name: 'String' },
  },
};
const $host: OperationURLParameter = {
  parameterPath: '$host',
  mapper: { serializedName: '$host', required: true, type: { name: 'String' } },
  skipEncoding: true,
};
/** Not a constant (unlike the package's): the value is chosen per call by {@link apiVersionFor}. */
const apiVersion: OperationQueryParameter = {
  parameterPath: 'operationApiVersion',
  mapper: { serializedName: 'api-version', required: true, type: { name: 'String' } },
};
const subscriptionId: OperationURLParameter = {
  parameterPath: 'subscriptionId',
  mapper: { constraints: { MinLength: 1 }, serializedName: 'subscriptionId', required: true, type: { name: 'String' } },
};
const resourceGroupName: OperationURLParameter = {
  parameterPath: 'resourceGroupName',
  mapper: {
    constraints: { MaxLength: 90, MinLength: 1 },
    serializedName: 'resourceGroupName',
    required: true,
    type: { name: 'String' },
  },
};
const clusterName: OperationURLParameter = {
  parameterPath: 'clusterName',
  mapper: { serializedName: 'clusterName', required: true, type: { name: 'String' } },
};
const databaseName: OperationURLParameter = {
  parameterPath: 'databaseName',
  mapper: { serializedName: 'databaseName', required: true, type: { name: 'String' } },
};
const forceLinkParameters: OperationParameter = { parameterPath: 'parameters', mapper: forceLinkParametersMapper };
const flushParameters: OperationParameter = { parameterPath: 'parameters', mapper: flushParametersMapper };

const DATABASE_PATH =
  '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Cache/redisEnterprise/{clusterName}/databases/{databaseName}';

/**
 * `Databases_ForceLinkToReplicationGroup`: the wire contract answers 202 only (+ Azure-AsyncOperation); like the
 * generated LRO specs we accept every 2xx the poller understands and let core-lro read the headers.
 */
export const forceLinkToReplicationGroupOperationSpec: OperationSpec = {
  path: `${DATABASE_PATH}/forceLinkToReplicationGroup`,
  httpMethod: 'POST',
  responses: { 200: {}, 201: {}, 202: {}, 204: {}, default: { bodyMapper: errorResponseMapper } },
  requestBody: forceLinkParameters,
  queryParameters: [apiVersion],
  urlParameters: [$host, subscriptionId, resourceGroupName, clusterName, databaseName],
  headerParameters: [accept, contentType],
  mediaType: 'json',
  serializer,
};

/** `Databases_Flush`: 200 or 202 (+ Azure-AsyncOperation, Location); final state via `location`. */
export const flushOperationSpec: OperationSpec = {
  path: `${DATABASE_PATH}/flush`,
  httpMethod: 'POST',
  responses: { 200: {}, 201: {}, 202: {}, 204: {}, default: { bodyMapper: errorResponseMapper } },
  requestBody: flushParameters,
  queryParameters: [apiVersion],
  urlParameters: [$host, subscriptionId, resourceGroupName, clusterName, databaseName],
  headerParameters: [accept, contentType],
  mediaType: 'json',
  serializer,
};

/** The policy SDK 2.2.0 installs when built with `apiVersion`; it rewrites `api-version` on every request. */
const CUSTOM_API_VERSION_POLICY_NAME = 'CustomApiVersionPolicy';

/**
 * The api-version for an operation 2022-01-01 does not have: the client's explicit `apiVersion` when it was
 * given one (its policy would rewrite ours anyway), otherwise {@link DEFAULT_REDIS_API_VERSION}.
 */
export function apiVersionFor(client: RedisEnterpriseManagementClient): string {
  const pinned = client.pipeline.getOrderedPolicies().some((p) => p.name === CUSTOM_API_VERSION_POLICY_NAME);
  return pinned ? client.apiVersion : DEFAULT_REDIS_API_VERSION;
}

type SendOperationFn = (args: OperationArguments, spec: OperationSpec) => Promise<LroResponse<void>>;

/** Mirrors the package's internal `LroImpl`: polls reuse the spec (minus body) as a GET on the polling URL. */
class OperationSpecLro implements LongRunningOperation<void> {
  readonly requestPath: string | undefined;
  readonly requestMethod: string;

  constructor(
    private readonly sendOperationFn: SendOperationFn,
    private readonly args: OperationArguments,
    private readonly spec: OperationSpec,
  ) {
    this.requestPath = spec.path;
    this.requestMethod = spec.httpMethod;
  }

  sendInitialRequest(): Promise<LroResponse<void>> {
    return this.sendOperationFn(this.args, this.spec);
  }

  sendPollRequest(path: string): Promise<LroResponse<void>> {
    const { requestBody: _requestBody, ...rest } = this.spec;
    return this.sendOperationFn(this.args, { ...rest, path, httpMethod: 'GET' });
  }
}

async function beginOperation(
  client: RedisEnterpriseManagementClient,
  spec: OperationSpec,
  args: OperationArguments & { options?: OperationOptions & { updateIntervalInMs?: number; resumeFrom?: string } },
  lroResourceLocationConfig: LroResourceLocationConfig,
): Promise<PollerLike<PollOperationState<void>, void>> {
  const sendOperation: SendOperationFn = async (opArgs, opSpec) => {
    let currentRawResponse: FullOperationResponse | undefined;
    const providedCallback = opArgs.options?.onResponse;
    const updatedArgs: OperationArguments = {
      ...opArgs,
      options: {
        ...opArgs.options,
        onResponse: (rawResponse, flatResponse, error) => {
          currentRawResponse = rawResponse;
          providedCallback?.(rawResponse, flatResponse, error);
        },
      },
    };
    const flatResponse = await client.sendOperationRequest<void>(updatedArgs, opSpec);
    if (currentRawResponse === undefined) {
      throw new Error(`${opSpec.httpMethod} ${opSpec.path ?? ''}: the pipeline returned no raw response`);
    }
    return {
      flatResponse,
      rawResponse: {
        statusCode: currentRawResponse.status,
        body: currentRawResponse.parsedBody,
        headers: currentRawResponse.headers.toJSON(),
      },
    };
  };
  const lro = new OperationSpecLro(sendOperation, args, spec);
  const options = args.options;
  const poller = new LroEngine<void, PollOperationState<void>>(lro, {
    ...(options?.resumeFrom !== undefined ? { resumeFrom: options.resumeFrom } : {}),
    ...(options?.updateIntervalInMs !== undefined ? { intervalInMs: options.updateIntervalInMs } : {}),
    lroResourceLocationConfig,
    // The final response of both operations has no body we care about: resolve to void, not the raw poll body.
    processResult: () => undefined,
  });
  await poller.poll(options?.abortSignal ? { abortSignal: options.abortSignal } : {});
  return poller;
}

/**
 * Starts `forceLinkToReplicationGroup` on the database being rejoined (its data is discarded) and returns a
 * poller that follows `Azure-AsyncOperation`.
 *
 * @throws RestError when the initial request is refused (e.g. 400 wrong group nickname, 404, 409 busy).
 *   `pollUntilDone()` rejects with `Error("The long-running operation has failed. <code>. <message>")` when the
 *   operation ends Failed, or with a `RestError` when a poll is refused.
 */
export function beginForceLinkToReplicationGroup(
  client: RedisEnterpriseManagementClient,
  resourceGroupName: string,
  clusterName: string,
  databaseName: string,
  parameters: ForceLinkParameters,
  options?: BeginForceLinkToReplicationGroupOptions,
): Promise<PollerLike<PollOperationState<void>, void>> {
  return beginOperation(
    client,
    forceLinkToReplicationGroupOperationSpec,
    {
      resourceGroupName,
      clusterName,
      databaseName,
      parameters,
      operationApiVersion: apiVersionFor(client),
      options,
    },
    'azure-async-operation',
  );
}

/**
 * {@link beginForceLinkToReplicationGroup}, then waits for the operation to finish.
 *
 * @throws as {@link beginForceLinkToReplicationGroup} and its poller.
 */
export async function beginForceLinkToReplicationGroupAndWait(
  client: RedisEnterpriseManagementClient,
  resourceGroupName: string,
  clusterName: string,
  databaseName: string,
  parameters: ForceLinkParameters,
  options?: BeginForceLinkToReplicationGroupOptions,
): Promise<void> {
  const poller = await beginForceLinkToReplicationGroup(
    client,
    resourceGroupName,
    clusterName,
    databaseName,
    parameters,
    options,
  );
  return poller.pollUntilDone();
}

/**
 * Starts `flush` (removes every key from the database and from the linked databases listed in `ids`) and
 * returns a poller; after the status resource reports Succeeded the poller reads the `Location` URL.
 *
 * @throws RestError when the initial request is refused; the poller rejects as for
 *   {@link beginForceLinkToReplicationGroup}.
 */
export function beginFlush(
  client: RedisEnterpriseManagementClient,
  resourceGroupName: string,
  clusterName: string,
  databaseName: string,
  parameters: FlushParameters = {},
  options?: BeginFlushOptions,
): Promise<PollerLike<PollOperationState<void>, void>> {
  return beginOperation(
    client,
    flushOperationSpec,
    {
      resourceGroupName,
      clusterName,
      databaseName,
      parameters,
      operationApiVersion: apiVersionFor(client),
      options,
    },
    'location',
  );
}

/**
 * {@link beginFlush}, then waits for the operation to finish.
 *
 * @throws as {@link beginFlush} and its poller.
 */
export async function beginFlushAndWait(
  client: RedisEnterpriseManagementClient,
  resourceGroupName: string,
  clusterName: string,
  databaseName: string,
  parameters: FlushParameters = {},
  options?: BeginFlushOptions,
): Promise<void> {
  const poller = await beginFlush(client, resourceGroupName, clusterName, databaseName, parameters, options);
  return poller.pollUntilDone();
}
