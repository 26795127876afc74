import { isRestError, RestError } from '@azure/core-rest-pipeline';
import { FAILURE_TYPES, type FailureType } from '../contract/failures';

/** Strips the query (api-version, tokens never, but keep it short) from a URL for messages. */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url;
  }
}

/**
 * One ARM HTTP request got no (complete) answer within the per-request timeout: the region accepted it and hangs.
 * Transient: another attempt may reach a healthy front end.
 */
export class ArmRequestTimeoutError extends Error {
  override readonly name = 'ArmRequestTimeoutError';
  readonly code = 'RequestTimeout';

  constructor(
    readonly method: string,
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`${method} ${shownUrl(url)} got no answer within ${timeoutMs} ms (per-request timeout)`);
  }
}

/**
 * A request named another subscription than the one its client was built for (refused before it was sent):
 * a programming or configuration error, never retried.
 */
export class ArmSubscriptionMismatchError extends Error {
  override readonly name = 'ArmSubscriptionMismatchError';
  readonly code = 'SubscriptionMismatch';

  constructor(
    readonly method: string,
    readonly url: string,
    readonly clientSubscriptionId: string,
    readonly requestSubscriptionId: string,
  ) {
    super(
      `refused to send ${method} ${shownUrl(url)}: it names subscription ${requestSubscriptionId}, ` +
        `but the client acts in subscription ${clientSubscriptionId}`,
    );
  }
}

/** What the runbook needs to know about an error from an Azure SDK call. */
export interface ClassifiedAzureError {
  /** Failure type from the contract; becomes `ApplicationFailure.type`. */
  type: FailureType;
  /** Whether trying the same call again can succeed. */
  retryable: boolean;
  /** HTTP status, when a response arrived. */
  statusCode?: number;
  /** ARM error code (`ResourceNotFound`, `Conflict`, ...), or the Node error code for network failures. */
  code?: string;
  /** Human text, the ARM error message when there is one. */
  message: string;
  /** How long the service asked us to wait, from `retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After`. */
  retryAfterMs?: number;
}

/** Header lookup as offered by core-rest-pipeline's `HttpHeaders`, or a plain header object. */
export type HeaderSource = { get(name: string): string | undefined } | Record<string, string | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | undefined }).get(name);
  }
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, string | undefined>)) {
    if (key.toLowerCase() === lower) {
      return value;
    }
  }
  return undefined;
}

/**
 * The wait the service asked for, in milliseconds, using the same headers and order as the SDK's throttling
 * retry: `retry-after-ms`, `x-ms-retry-after-ms`, then `Retry-After` (seconds or an HTTP date). `undefined` when
 * none is present or parseable; a date in the past gives 0.
 */
export function parseRetryAfterMs(headers: HeaderSource, now: number = Date.now()): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const raw = header(headers, name)?.trim();
    if (raw) {
      const ms = Number(raw);
      if (Number.isFinite(ms) && ms >= 0) {
        return Math.round(ms);
      }
    }
  }
  const raw = header(headers, 'retry-after')?.trim();
  if (!raw) {
    return undefined;
  }
  if (/^\d+(\.\d+)?$/.test(raw)) {
    return Math.round(Number(raw) * 1000);
  }
  const date = Date.parse(raw);
  if (Number.isNaN(date)) {
    return undefined;
  }
  return Math.max(0, date - now);
}

/** Node/undici error codes that mean "the request may not have reached the service; try again". */
const TRANSIENT_NETWORK_CODES = new Set([
  RestError.REQUEST_SEND_ERROR,
  RestError.PARSE_ERROR,
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** TLS verification failures: a configuration problem (wrong CA or host), not something a retry fixes. */
const TLS_VERIFICATION_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** core-lro's `Error("The long-running operation has failed. <code>. <message>")` (legacy and http pollers). */
const LRO_FAILED_PREFIX = 'The long-running operation has failed';

/** `{ code, message }` out of core-lro's failure message; `undefined` when it is not one. */
function parseLroFailure(message: string): { code?: string; message: string } | undefined {
  if (!message.startsWith(LRO_FAILED_PREFIX)) {
    return undefined;
  }
  const rest = message.slice(LRO_FAILED_PREFIX.length);
  if (!rest.startsWith('. ')) {
    return { message };
  }
  const end = rest.indexOf('. ', 2);
  if (end < 0) {
    return { code: rest.slice(2).replace(/\.$/, ''), message };
  }
  return { code: rest.slice(2, end), message: rest.slice(end + 2) || message };
}

function errorCodeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(e: unknown): string {
  if (e instanceof Error || (typeof e === 'object' && e !== null && typeof (e as Error).message === 'string')) {
    return (e as Error).message;
  }
  return String(e);
}

function byStatus(statusCode: number): { type: FailureType; retryable: boolean } {
  if (statusCode === 401 || statusCode === 403) {
    return { type: FAILURE_TYPES.azureUnauthorized, retryable: false };
  }
  if (statusCode === 404 || statusCode === 410) {
    return { type: FAILURE_TYPES.azureNotFound, retryable: false };
  }
  if (statusCode === 409 || statusCode === 412 || statusCode === 423) {
    return { type: FAILURE_TYPES.azureConflict, retryable: true };
  }
  if (statusCode === 429) {
    return { type: FAILURE_TYPES.azureThrottled, retryable: true };
  }
  if (statusCode === 408) {
    return { type: FAILURE_TYPES.azureTransient, retryable: true };
  }
  // 501 Not Implemented and 505 HTTP Version Not Supported do not change on retry (the pipeline does not retry them).
  if (statusCode === 501 || statusCode === 505) {
    return { type: FAILURE_TYPES.azureBadRequest, retryable: false };
  }
  if (statusCode >= 500) {
    return { type: FAILURE_TYPES.azureTransient, retryable: true };
  }
  if (statusCode >= 400) {
    return { type: FAILURE_TYPES.azureBadRequest, retryable: false };
  }
  // A 1xx-3xx surfaced as an error: an unexpected answer from the service (e.g. a status the spec does not allow).
  return { type: FAILURE_TYPES.azureTransient, retryable: true };
}

function classifyRestError(e: RestError, now: number): ClassifiedAzureError {
  const body = (e.response as { parsedBody?: { error?: { code?: unknown } } } | undefined)?.parsedBody;
  const bodyCode = typeof body?.error?.code === 'string' ? body.error.code : undefined;
  const code = e.code ?? bodyCode;
  const retryAfterMs = e.response ? parseRetryAfterMs(e.response.headers, now) : undefined;
  const extra = {
    ...(code !== undefined ? { code } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
  if (e.statusCode === undefined) {
    if (code !== undefined && TLS_VERIFICATION_CODES.has(code)) {
      return {
        type: FAILURE_TYPES.invalidInput,
        retryable: false,
        message: `TLS verification failed: ${e.message}`,
        ...extra,
      };
    }
    // No response: connection refused/reset, DNS, timeouts, an unparseable body. The request may not have landed.
    return { type: FAILURE_TYPES.azureTransient, retryable: true, message: e.message, ...extra };
  }
  return { ...byStatus(e.statusCode), statusCode: e.statusCode, message: e.message, ...extra };
}

/**
 * Classifies anything thrown by an Azure SDK call, a core-lro poller or the credential into a contract failure
 * type and retryability:
 * - 400 (and other 4xx), 401/403, 404, a long-running operation that ended Failed or Canceled → not retryable,
 *   with the ARM code and message;
 * - 409 (and 412/423), 429, 408, 5xx, timeouts and network errors → retryable, with `retryAfterMs` when the
 *   response asked for a wait.
 * Never throws.
 */
export function classifyAzureError(e: unknown, options: { now?: number } = {}): ClassifiedAzureError {
  const now = options.now ?? Date.now();
  if (isRestError(e)) {
    return classifyRestError(e, now);
  }
  const name = (e as { name?: unknown } | null)?.name;
  const message = messageOf(e);
  const lro = parseLroFailure(message);
  if (lro) {
    return { type: FAILURE_TYPES.azureOperationFailed, retryable: false, ...lro };
  }
  switch (name) {
    case 'ArmRequestTimeoutError':
      return { type: FAILURE_TYPES.azureTransient, retryable: true, code: 'RequestTimeout', message };
    case 'ArmSubscriptionMismatchError':
      return { type: FAILURE_TYPES.invalidInput, retryable: false, code: 'SubscriptionMismatch', message };
    case 'PollerCancelledError':
      return { type: FAILURE_TYPES.azureOperationFailed, retryable: false, code: 'Canceled', message };
    case 'AbortError':
      // Request timeouts surface as AbortError; a caller's own abort is not retried by the caller anyway.
      return { type: FAILURE_TYPES.azureTransient, retryable: true, code: 'Aborted', message };
    case 'CredentialUnavailableError':
    case 'AuthenticationRequiredError':
      return { type: FAILURE_TYPES.azureUnauthorized, retryable: false, code: name, message };
    case 'AuthenticationError': {
      const statusCode = (e as { statusCode?: unknown }).statusCode;
      if (typeof statusCode === 'number' && (statusCode === 408 || statusCode === 429 || statusCode >= 500)) {
        return { type: FAILURE_TYPES.azureTransient, retryable: true, statusCode, code: name, message };
      }
      return {
        type: FAILURE_TYPES.azureUnauthorized,
        retryable: false,
        ...(typeof statusCode === 'number' ? { statusCode } : {}),
        code: name,
        message,
      };
    }
    default:
      break;
  }
  const code = errorCodeOf(e);
  if (code !== undefined && TLS_VERIFICATION_CODES.has(code)) {
    return { type: FAILURE_TYPES.invalidInput, retryable: false, code, message: `TLS verification failed: ${message}` };
  }
  if (code !== undefined && TRANSIENT_NETWORK_CODES.has(code)) {
    return { type: FAILURE_TYPES.azureTransient, retryable: true, code, message };
  }
  // Unknown: retry with backoff; after the retries the runbook stops at an intervention gate that shows it.
  return { type: FAILURE_TYPES.azureTransient, retryable: true, ...(code !== undefined ? { code } : {}), message };
}
