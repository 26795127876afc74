/**
 * The one error type the ARM emulator answers with, in ARM's shape:
 * `{ "error": { "code", "message", "target"?, "details"? } }` (docs/ARCHITECTURE.md: ARM errors).
 * Route code throws these through the named constructors below; the server's error writer turns
 * them into responses, and anything else into a 500 `InternalServerError`.
 */
export interface ArmErrorBody {
  error: { code: string; message: string; target?: string; details?: { code: string; message: string }[] };
}

export class ArmError extends Error {
  override name = 'ArmError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly options: {
      target?: string;
      details?: { code: string; message: string }[];
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message);
  }

  get headers(): Record<string, string> {
    return this.options.headers ?? {};
  }

  toBody(): ArmErrorBody {
    const error: ArmErrorBody['error'] = { code: this.code, message: this.message };
    if (this.options.target !== undefined) error.target = this.options.target;
    if (this.options.details !== undefined) error.details = this.options.details;
    return { error };
  }

  /** 401: no or blank bearer token. */
  static authenticationFailed(message: string): ArmError {
    return new ArmError(401, 'AuthenticationFailed', message, {
      headers: { 'WWW-Authenticate': 'Bearer authorization_uri="https://login.microsoftonline.com/common"' },
    });
  }

  /** 400: the body is not JSON, or has the wrong types. */
  static invalidRequestContent(detail: string, target?: string): ArmError {
    return new ArmError(400, 'InvalidRequestContent', `The request content was invalid: ${detail}`, { target });
  }

  /** 400: a request that parses but makes no sense for the resource's current state. */
  static badRequest(message: string, target?: string): ArmError {
    return new ArmError(400, 'BadRequest', message, { target });
  }

  /** 400: a resource name or id in the path or body that does not parse. */
  static invalidResourceName(what: string, value: string, expected: string): ArmError {
    return new ArmError(400, 'InvalidResourceName', `The ${what} '${value}' is invalid: expected ${expected}.`, {
      target: what,
    });
  }

  /** 400: the api-version query parameter is missing. */
  static missingApiVersion(supported: readonly string[]): ArmError {
    return new ArmError(
      400,
      'MissingApiVersionParameter',
      `The api-version query parameter (?api-version=) is required for all requests. Supported api-versions are '${supported.join(', ')}'.`,
    );
  }

  /** 400: an api-version this resource type does not support. */
  static invalidApiVersion(version: string, resourceType: string, supported: readonly string[]): ArmError {
    return new ArmError(
      400,
      'InvalidApiVersionParameter',
      `The api-version '${version}' is invalid for resource type '${resourceType}'. The supported versions are '${supported.join(', ')}'.`,
    );
  }

  /** 400: a query parameter the operation does not take (strict mode). */
  static invalidQueryParameter(name: string): ArmError {
    return new ArmError(400, 'InvalidQueryParameter', `The query parameter '${name}' is not supported.`, {
      target: name,
    });
  }

  /** 404: the resource does not exist; the message names the type and resource group, as ARM's does. */
  static resourceNotFound(typeAndName: string, resourceGroup: string): ArmError {
    return new ArmError(
      404,
      'ResourceNotFound',
      `The Resource '${typeAndName}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    );
  }

  /** 404: a nested resource under a parent that does not exist. */
  static parentResourceNotFound(parentTypeAndName: string, parentName: string): ArmError {
    return new ArmError(
      404,
      'ParentResourceNotFound',
      `Can not perform requested operation on nested resource. Parent resource '${parentName}' (${parentTypeAndName}) not found.`,
    );
  }

  static resourceGroupNotFound(resourceGroup: string): ArmError {
    return new ArmError(404, 'ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`);
  }

  static subscriptionNotFound(subscriptionId: string): ArmError {
    return new ArmError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
  }

  /** 404: a long-running operation id the emulator never issued. */
  static operationNotFound(operationId: string): ArmError {
    return new ArmError(404, 'ResourceNotFound', `The operation '${operationId}' was not found.`);
  }

  /** 404: no route serves this path. */
  static noRoute(method: string, path: string): ArmError {
    return new ArmError(
      404,
      'NotFound',
      `No route for ${method} ${path}. The emulator serves Microsoft.Cache/redisEnterprise and Microsoft.Network/trafficmanagerprofiles.`,
    );
  }

  /** 405: the path is known but the emulator does not serve this method on it. */
  static methodNotAllowed(method: string, resourceType: string, allowed: readonly string[]): ArmError {
    return new ArmError(
      405,
      'MethodNotAllowed',
      `The emulator does not support ${method} on '${resourceType}'. Supported: ${allowed.join(', ')}.`,
      { headers: { Allow: allowed.join(', ') } },
    );
  }

  /** 409: a mutation arrived while another operation holds the resource. */
  static conflict(resourceId: string, operation: string, operationId: string): ArmError {
    return new ArmError(
      409,
      'Conflict',
      `The resource '${resourceId}' is busy with operation '${operation}' (${operationId}). Retry when it has finished.`,
    );
  }

  /** 413: a request body larger than the emulator reads. */
  static payloadTooLarge(limitBytes: number): ArmError {
    return new ArmError(413, 'RequestEntityTooLarge', `The request body exceeds ${limitBytes} bytes.`);
  }

  /** 429: injected throttling. */
  static tooManyRequests(retryAfterSeconds: number): ArmError {
    return new ArmError(
      429,
      'TooManyRequests',
      `The request was throttled (emulated). Retry after ${retryAfterSeconds} seconds.`,
      { headers: { 'Retry-After': String(retryAfterSeconds) } },
    );
  }

  /** 503: the resource's region is in an emulated outage. */
  static regionUnavailable(region: string): ArmError {
    return new ArmError(503, 'ServiceUnavailable', `Region ${region} is unavailable (emulated outage)`);
  }

  /** 500: an emulator bug; the message is short and the stack goes to the log only. */
  static internal(requestId: string): ArmError {
    return new ArmError(
      500,
      'InternalServerError',
      `The emulator failed to process the request (request id ${requestId}).`,
    );
  }
}

export function isArmError(value: unknown): value is ArmError {
  return value instanceof ArmError;
}
