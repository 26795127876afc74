import { RedisEnterpriseManagementClient } from '@azure/arm-redisenterprisecache';
import { TrafficManagerManagementClient } from '@azure/arm-trafficmanager';
import type { TokenCredential } from '@azure/core-auth';
import type { AdditionalPolicyConfig, CommonClientOptions } from '@azure/core-client';
import type { HttpClient, PipelinePolicy, PipelineRequest, PipelineRetryOptions } from '@azure/core-rest-pipeline';
import { Context } from '@temporalio/activity';
import { createAzureCredential, createStaticTokenCredential } from './credentials';
import { ArmRequestTimeoutError, ArmSubscriptionMismatchError } from './errors';
import { mutationKind, processWriteBudget, type AcquireOptions, type WriteBudget } from './write-budget';

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

/** How long one ARM HTTP request (each retry separately, LRO polls included) may take by default. */
export const DEFAULT_ARM_REQUEST_TIMEOUT_MS = 10_000;

export const requestTimeoutPolicyName = 'geofailoverRequestTimeoutPolicy';
export const activitySignalPolicyName = 'geofailoverActivitySignalPolicy';
export const subscriptionGuardPolicyName = 'geofailoverSubscriptionGuardPolicy';
export const writeBudgetPolicyName = 'geofailoverWriteBudgetPolicy';

/** When this worker made the first ARM call of an activity attempt (keyed by the attempt's cancellation signal). */
const attemptStartedMs = new WeakMap<AbortSignal, number>();

/** Before the activity's own deadline, so that its result (a finding) still reaches the server in time. */
function deadlineMarginMs(budgetMs: number): number {
  return Math.min(1000, Math.floor(budgetMs / 10));
}

/**
 * The abort signal of the Temporal activity this request is made in, if any: the activity's cancellation, and its
 * own deadline (schedule-to-close, or start-to-close of this attempt, less a margin) — a request never outlives
 * the activity that made it, even when the server's cancellation cannot reach the worker (no heartbeats).
 * `undefined` outside an activity (CLI, drill, tests).
 */
export function activityAbortSignal(now: number = Date.now()): AbortSignal | undefined {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return undefined;
  }
  const signals: AbortSignal[] = [context.cancellationSignal];
  const { info } = context;
  const deadlines: number[] = [];
  // Server timestamps a day off this clock are not real ones (MockActivityEnvironment's are 1970): no deadline then.
  const plausible = Math.abs(now - info.currentAttemptScheduledTimestampMs) < 24 * 3600_000;
  if (plausible && info.scheduleToCloseTimeoutMs > 0) {
    deadlines.push(
      info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs - deadlineMarginMs(info.scheduleToCloseTimeoutMs),
    );
  }
  if (plausible && info.startToCloseTimeoutMs > 0) {
    // Start-to-close counts from when this worker started the attempt, not from when it was scheduled (it may
    // have waited in the task queue): the first ARM call of the attempt stands for its start.
    let startedMs = attemptStartedMs.get(context.cancellationSignal);
    if (startedMs === undefined) {
      startedMs = now;
      attemptStartedMs.set(context.cancellationSignal, startedMs);
    }
    deadlines.push(startedMs + info.startToCloseTimeoutMs - deadlineMarginMs(info.startToCloseTimeoutMs));
  }
  if (deadlines.length > 0) {
    signals.push(AbortSignal.timeout(Math.max(1, Math.min(...deadlines) - now)));
  }
  return signals.length === 1 ? signals[0] : AbortSignal.any(signals);
}

type AbortSignalLike = NonNullable<PipelineRequest['abortSignal']>;

/** Aborts when either aborts. */
function eitherSignal(a: AbortSignalLike | undefined, b: AbortSignal): AbortSignalLike {
  if (!a) return b;
  if (a instanceof AbortSignal) return AbortSignal.any([a, b]);
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  if (a.aborted) abort();
  else a.addEventListener('abort', abort, { once: true });
  b.addEventListener('abort', abort, { once: true });
  return controller.signal;
}

/**
 * Adds the activity's cancellation and deadline ({@link activityAbortSignal}) to every call made inside an
 * activity, whether or not the caller passed an `abortSignal`; retries and their delays stop with it.
 */
export function activitySignalPolicy(): PipelinePolicy {
  return {
    name: activitySignalPolicyName,
    async sendRequest(request, next) {
      const activity = activityAbortSignal();
      if (!activity) return next(request);
      const original = request.abortSignal;
      request.abortSignal = eitherSignal(original, activity);
      try {
        return await next(request);
      } finally {
        request.abortSignal = original;
      }
    },
  };
}

/**
 * Bounds each HTTP request (each retry on its own) to `timeoutMs`: a region that accepts a request and never
 * answers fails it with {@link ArmRequestTimeoutError} (transient) instead of holding the caller.
 */
export function requestTimeoutPolicy(timeoutMs: number): PipelinePolicy {
  return {
    name: requestTimeoutPolicyName,
    async sendRequest(request, next) {
      const original = request.abortSignal;
      const timer = new AbortController();
      const handle = setTimeout(() => timer.abort(), timeoutMs);
      request.abortSignal = eitherSignal(original, timer.signal);
      try {
        return await next(request);
      } catch (e) {
        if (timer.signal.aborted && !original?.aborted) {
          throw new ArmRequestTimeoutError(request.method, request.url, timeoutMs);
        }
        throw e;
      } finally {
        clearTimeout(handle);
        request.abortSignal = original;
      }
    },
  };
}

/**
 * Inside an activity with a heartbeat timeout, heartbeats while a write waits for its token, every half of that
 * timeout (a shorter wait sends nothing): a long queue behind an evacuation's writes is not a lost worker. It sends
 * the details the server holds from the previous attempt: the wait comes before the request is sent, and the
 * activities heartbeat a checkpoint only once the operation it names has started, never before a write.
 */
function heartbeatWhileWaiting(): Pick<AcquireOptions, 'onWaiting' | 'waitingEveryMs'> {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return {};
  }
  const timeoutMs = context.info.heartbeatTimeoutMs;
  if (!timeoutMs || timeoutMs <= 0) return {};
  return {
    waitingEveryMs: Math.max(500, Math.floor(timeoutMs / 2)),
    onWaiting: () => {
      try {
        context.heartbeat(context.info.heartbeatDetails);
      } catch {
        // the activity has ended meanwhile
      }
    },
  };
}

/**
 * Sends each mutating request (PUT, PATCH, POST, DELETE: long-running operations' starts included, not their
 * polls) only once `budget` has a token for its ARM endpoint and subscription, so that the worker's writes stay
 * within ARM's bucket instead of being answered 429 (write-budget.ts). A perRetry policy: every retry draws a
 * token, as ARM counts it. The wait ends with the request's abort signal (the activity's cancellation and
 * deadline, see {@link activitySignalPolicy}), before anything was sent.
 */
export function writeBudgetPolicy(budget: WriteBudget, subscriptionId: string): PipelinePolicy {
  return {
    name: writeBudgetPolicyName,
    async sendRequest(request, next) {
      const kind = mutationKind(request.method);
      if (kind) {
        let endpoint: string;
        try {
          endpoint = new URL(request.url).origin;
        } catch {
          endpoint = request.url;
        }
        const what = `${request.method} ${shownPath(request.url)}`;
        const waitedMs = await budget.acquire(
          { endpoint, subscriptionId: subscriptionOfUrl(request.url) ?? subscriptionId, kind },
          {
            ...(request.abortSignal ? { signal: request.abortSignal } : {}),
            what,
            ...heartbeatWhileWaiting(),
          },
        );
        if (waitedMs >= LOGGED_WRITE_WAIT_MS) logWriteWait(what, waitedMs);
      }
      return next(request);
    },
  };
}

/** Waits for a write token this long or longer are logged: the worker is pacing a burst of writes. */
const LOGGED_WRITE_WAIT_MS = 1000;

/** Inside an activity, says in its log that a write waited for the budget (outside one, nothing). */
function logWriteWait(what: string, waitedMs: number): void {
  try {
    Context.current().log.info(`${what}: waited ${waitedMs} ms for an ARM write token (azure.writeBudget)`);
  } catch {
    // not in an activity
  }
}

/** A URL's path without its query, for messages. */
function shownPath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.split('?')[0] ?? url;
  }
}

/** The subscription a request URL's path names (`/subscriptions/{id}/…`), if any. */
export function subscriptionOfUrl(url: string): string | undefined {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const match = /^\/subscriptions\/([^/]+)/i.exec(pathname);
  return match ? decodeURIComponent(match[1] as string) : undefined;
}

/**
 * Refuses, before it is sent, any request whose path names another subscription than the one the clients were
 * built for: with the same names in two subscriptions, the wrong client would act on the wrong database.
 */
export function subscriptionGuardPolicy(subscriptionId: string): PipelinePolicy {
  return {
    name: subscriptionGuardPolicyName,
    sendRequest(request, next) {
      const named = subscriptionOfUrl(request.url);
      if (named !== undefined && named.toLowerCase() !== subscriptionId.toLowerCase()) {
        throw new ArmSubscriptionMismatchError(request.method, request.url, subscriptionId, named);
      }
      return next(request);
    },
  };
}

export interface CreateArmClientsOptions {
  /** The subscription these clients act in; {@link ArmClients.forSubscription} gives the clients of any other. */
  subscriptionId: string;
  /** ARM endpoint, e.g. the emulator's `https://127.0.0.1:PORT`. Default {@link AZURE_RESOURCE_MANAGER_ENDPOINT}. */
  endpoint?: string;
  /**
   * Default: `DefaultAzureCredential`, or for a loopback `endpoint` an unsigned static token (fake HTTP clients in
   * unit tests only: the emulator accepts only tokens its tenant issued — pass `createClientSecretCredential`).
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
  /**
   * How long one HTTP request (each retry, each LRO poll) may take; default {@link DEFAULT_ARM_REQUEST_TIMEOUT_MS}.
   * Inside a Temporal activity every request is also bounded by the activity's cancellation and deadline.
   */
  requestTimeoutMs?: number;
  /** Default true. Tests turn it off. */
  keepAlive?: boolean;
  /**
   * The write budget mutating requests wait for (write-budget.ts); default the process's
   * {@link processWriteBudget} with ARM's sizes less a margin, shared by every client built without one. `false`:
   * none (ARM's 429s are then only waited out).
   */
  writeBudget?: WriteBudget | false;
  /** Extra pipeline policies, added to both clients. */
  additionalPolicies?: AdditionalPolicyConfig[];
  /** Prepended to the SDK's User-Agent. */
  userAgentPrefix?: string;
  /** Token scopes. Default `${endpoint}/.default`; for a loopback endpoint (the emulator) ARM's, `https://management.azure.com/.default`. */
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
  /** The credential both clients use; the data plane's Entra ID tokens come from it too. */
  credential: TokenCredential;
  /** The write budget their mutating requests wait for; absent when built with `writeBudget: false`. */
  writeBudget?: WriteBudget;
  /**
   * The clients for `subscriptionId` (this object when it is ours), built with the same endpoint, credential, CA,
   * api-versions, retry options and timeouts on first use and kept: one registry per `createArmClients` call.
   */
  forSubscription(subscriptionId: string): ArmClients;
}

/**
 * The clients for the subscription of `resourceId` (any `/subscriptions/{id}/…` id): activities pick their client
 * per resource, so a group may span subscriptions.
 * @throws TypeError when the id names no subscription.
 */
export function armClientsFor(arm: ArmClients, resourceId: string): ArmClients {
  const match = /^\/subscriptions\/([^/]+)\//i.exec(resourceId);
  if (!match) {
    throw new TypeError(`resource id ${JSON.stringify(resourceId)} names no subscription`);
  }
  return arm.forSubscription(match[1] as string);
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
  const registry = new Map<string, ArmClients>();
  const build = (subscriptionId: string): ArmClients => {
    const key = subscriptionId.toLowerCase();
    let clients = registry.get(key);
    if (!clients) {
      clients = buildArmClients({ ...options, subscriptionId }, (other) => build(other));
      registry.set(key, clients);
    }
    return clients;
  };
  if (!options.subscriptionId) {
    throw new TypeError('createArmClients: subscriptionId is required');
  }
  return build(options.subscriptionId);
}

function buildArmClients(
  options: CreateArmClientsOptions,
  forSubscription: (subscriptionId: string) => ArmClients,
): ArmClients {
  if (!options.subscriptionId) {
    throw new TypeError('createArmClients: subscriptionId is required');
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_ARM_REQUEST_TIMEOUT_MS;
  if (!Number.isFinite(requestTimeoutMs) || requestTimeoutMs <= 0) {
    throw new TypeError(`createArmClients: requestTimeoutMs must be a positive number, got ${requestTimeoutMs}`);
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
  const writeBudget = options.writeBudget === undefined ? processWriteBudget() : options.writeBudget;

  const additionalPolicies: AdditionalPolicyConfig[] = [
    { policy: subscriptionGuardPolicy(options.subscriptionId), position: 'perCall' },
    { policy: activitySignalPolicy(), position: 'perCall' },
    // Before the request timeout: waiting for a token is not the request hanging.
    ...(writeBudget
      ? [{ policy: writeBudgetPolicy(writeBudget, options.subscriptionId), position: 'perRetry' as const }]
      : []),
    { policy: requestTimeoutPolicy(requestTimeoutMs), position: 'perRetry' },
    ...(options.additionalPolicies ?? []),
  ];
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
    // The emulator stands for the public cloud: its tenant issues ARM tokens for https://management.azure.com.
    ...(options.credentialScopes !== undefined
      ? { credentialScopes: options.credentialScopes }
      : isLoopbackEndpoint(endpoint)
        ? { credentialScopes: `${AZURE_RESOURCE_MANAGER_ENDPOINT}/.default` }
        : {}),
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
  const clients: ArmClients = {
    subscriptionId: options.subscriptionId,
    endpoint,
    redisApiVersion: redis.apiVersion,
    redis,
    trafficManager,
    credential,
    ...(writeBudget ? { writeBudget } : {}),
    forSubscription: (subscriptionId) =>
      subscriptionId.toLowerCase() === options.subscriptionId.toLowerCase() ? clients : forSubscription(subscriptionId),
  };
  return clients;
}
