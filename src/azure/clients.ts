import { RedisEnterpriseManagementClient } from '@azure/arm-redisenterprisecache';
import { TrafficManagerManagementClient } from '@azure/arm-trafficmanager';
import type { TokenCredential } from '@azure/core-auth';
import type { AdditionalPolicyConfig, CommonClientOptions } from '@azure/core-client';
import type { HttpClient, PipelinePolicy, PipelineRetryOptions } from '@azure/core-rest-pipeline';
import { createAzureCredential, createStaticTokenCredential } from './credentials';

/** The public-cloud ARM endpoint. */
export const AZURE_RESOURCE_MANAGER_ENDPOINT = 'https://management.azure.com';

/**
 * The Redis Enterprise api-version the runbook sends: the newest stable version with forceUnlink,
 * forceLinkToReplicationGroup and flush. SDK 2.2.0 itself defaults to 2022-01-01.
 */
export const DEFAULT_REDIS_API_VERSION = '2026-08-01';

/** The api-version SDK 2.2.0 sends when the client is built without `apiVersion`. */
export const SDK_DEFAULT_REDIS_API_VERSION = '2022-01-01';

export const disableKeepAlivePolicyName = 'geofailoverDisableKeepAlivePolicy';

/** Asks the HTTP client for a fresh connection per request (tests: no sockets left open between cases). */
export function disableKeepAlivePolicy(): PipelinePolicy {
  return {
    name: disableKeepAlivePolicyName,
    sendRequest(request, next) {
      request.disableKeepAlive = true;
      return next(request);
    },
  };
}

export interface CreateArmClientsOptions {
  subscriptionId: string;
  /** ARM endpoint, e.g. the emulator's `https://127.0.0.1:PORT`. Default {@link AZURE_RESOURCE_MANAGER_ENDPOINT}. */
  endpoint?: string;
  /**
   * Default: a static test token when `endpoint` is a loopback address (the emulator), otherwise
   * `DefaultAzureCredential`.
   */
  credential?: TokenCredential;
  /** Extra CA certificate(s) to trust, PEM (the emulator's CA). Replaces the default trust store for these clients. */
  caPem?: string | string[];
  /**
   * Redis Enterprise api-version for every request (including LRO polls). Default
   * {@link DEFAULT_REDIS_API_VERSION}; `null` leaves the SDK's own default ({@link SDK_DEFAULT_REDIS_API_VERSION}).
   */
  redisApiVersion?: string | null;
  /** Traffic Manager api-version. Default: the SDK's own (2022-04-01). */
  trafficManagerApiVersion?: string;
  /** The pipeline's retry policy (429/503 with Retry-After, other 5xx, network errors). Default 3 retries. */
  retryOptions?: PipelineRetryOptions;
  /** Default true. Tests turn it off. */
  keepAlive?: boolean;
  /** Extra pipeline policies, added to both clients. */
  additionalPolicies?: AdditionalPolicyConfig[];
  /** Prepended to the SDK's User-Agent. */
  userAgentPrefix?: string;
  /** Token scopes. Default `${endpoint}/.default`. */
  credentialScopes?: string | string[];
  /** Replaces the HTTP client (tests). */
  httpClient?: HttpClient;
}

export interface ArmClients {
  subscriptionId: string;
  endpoint: string;
  /** The Redis api-version the clients send (after defaults). */
  redisApiVersion: string;
  redis: RedisEnterpriseManagementClient;
  trafficManager: TrafficManagerManagementClient;
}

function isLoopbackEndpoint(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * Builds the ARM clients the runbook uses. Real Azure and the emulator differ only by `endpoint`, `credential`
 * and `caPem`; TLS verification is never disabled.
 *
 * @throws TypeError when `subscriptionId` is empty or `endpoint` is not an https URL.
 */
export function createArmClients(options: CreateArmClientsOptions): ArmClients {
  if (!options.subscriptionId) {
    throw new TypeError('createArmClients: subscriptionId is required');
  }
  const endpoint = (options.endpoint ?? AZURE_RESOURCE_MANAGER_ENDPOINT).replace(/\/+$/, '');
  let protocol: string;
  try {
    protocol = new URL(endpoint).protocol;
  } catch {
    throw new TypeError(`createArmClients: endpoint "${endpoint}" is not a URL`);
  }
  if (protocol !== 'https:') {
    throw new TypeError(
      `createArmClients: endpoint "${endpoint}" must be https (the SDK refuses bearer tokens over plain HTTP)`,
    );
  }
  const credential =
    options.credential ?? (isLoopbackEndpoint(endpoint) ? createStaticTokenCredential() : createAzureCredential());

  const additionalPolicies: AdditionalPolicyConfig[] = [...(options.additionalPolicies ?? [])];
  if (options.keepAlive === false) {
    additionalPolicies.push({ policy: disableKeepAlivePolicy(), position: 'perCall' });
  }
  const common: CommonClientOptions & { endpoint: string; credentialScopes?: string | string[] } = {
    endpoint,
    additionalPolicies,
    ...(options.caPem !== undefined ? { tlsOptions: { ca: options.caPem } } : {}),
    ...(options.retryOptions !== undefined ? { retryOptions: options.retryOptions } : {}),
    ...(options.userAgentPrefix !== undefined
      ? { userAgentOptions: { userAgentPrefix: options.userAgentPrefix } }
      : {}),
    ...(options.credentialScopes !== undefined ? { credentialScopes: options.credentialScopes } : {}),
    ...(options.httpClient !== undefined ? { httpClient: options.httpClient } : {}),
  };

  const redisApiVersion = options.redisApiVersion === undefined ? DEFAULT_REDIS_API_VERSION : options.redisApiVersion;
  const redis = new RedisEnterpriseManagementClient(credential, options.subscriptionId, {
    ...common,
    ...(redisApiVersion !== null ? { apiVersion: redisApiVersion } : {}),
  });
  const trafficManager = new TrafficManagerManagementClient(credential, options.subscriptionId, {
    ...common,
    ...(options.trafficManagerApiVersion !== undefined ? { apiVersion: options.trafficManagerApiVersion } : {}),
  });
  return {
    subscriptionId: options.subscriptionId,
    endpoint,
    redisApiVersion: redis.apiVersion,
    redis,
    trafficManager,
  };
}
