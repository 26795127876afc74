import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { SwaggerDocument, SwaggerOperation } from './azure-fixtures';

/*
 * Validates HTTP responses against the response schemas of a swagger 2.0 (ARM) document with ajv.
 *
 * - `#/definitions/X` refs are kept; refs into `common-types/resource-management/vN/*.json` (which the copied specs
 *   point at but we do not have) are mapped onto the condensed common types below, written from
 *   azure-rest-api-specs `specification/common-types/resource-management/v6/types.json` (and v4 managedidentity,
 *   v6 privatelinks), never stricter than those.
 * - `x-nullable: true` allows null; other `x-ms-*` annotations, `discriminator` and `example` are dropped.
 * - Additional properties are allowed unless the spec says `additionalProperties: false` (it never does here).
 * - Swagger formats: date-time/uri/uuid via ajv-formats; int32/int64 integers in range, float/double numbers;
 *   `arm-id` must look like an ARM id; `password`/`byte` are plain strings.
 */

const COMMON_TYPES: Record<string, unknown> = {
  'v6.types.ErrorAdditionalInfo': {
    type: 'object',
    properties: { type: { type: 'string' }, info: { type: 'object' } },
  },
  'v6.types.ErrorDetail': {
    type: 'object',
    properties: {
      code: { type: 'string' },
      message: { type: 'string' },
      target: { type: 'string' },
      details: { type: 'array', items: { $ref: '#/definitions/common.v6.types.ErrorDetail' } },
      additionalInfo: { type: 'array', items: { $ref: '#/definitions/common.v6.types.ErrorAdditionalInfo' } },
    },
  },
  'v6.types.ErrorResponse': {
    type: 'object',
    properties: { error: { $ref: '#/definitions/common.v6.types.ErrorDetail' } },
  },
  'v6.types.SystemData': {
    type: 'object',
    properties: {
      createdBy: { type: 'string' },
      createdByType: { type: 'string', enum: ['User', 'Application', 'ManagedIdentity', 'Key'] },
      createdAt: { type: 'string', format: 'date-time' },
      lastModifiedBy: { type: 'string' },
      lastModifiedByType: { type: 'string', enum: ['User', 'Application', 'ManagedIdentity', 'Key'] },
      lastModifiedAt: { type: 'string', format: 'date-time' },
    },
  },
  'v6.types.Resource': {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'arm-id' },
      name: { type: 'string' },
      type: { type: 'string' },
      systemData: { $ref: '#/definitions/common.v6.types.SystemData' },
    },
  },
  'v6.types.ProxyResource': { type: 'object', allOf: [{ $ref: '#/definitions/common.v6.types.Resource' }] },
  'v6.types.TrackedResource': {
    type: 'object',
    properties: { tags: { type: 'object', additionalProperties: { type: 'string' } }, location: { type: 'string' } },
    required: ['location'],
    allOf: [{ $ref: '#/definitions/common.v6.types.Resource' }],
  },
  'v6.types.OperationListResult': {
    type: 'object',
    properties: { value: { type: 'array' }, nextLink: { type: 'string', format: 'uri' } },
    required: ['value'],
  },
  'v4.managedidentity.ManagedServiceIdentity': {
    type: 'object',
    properties: {
      principalId: { type: 'string' },
      tenantId: { type: 'string' },
      type: { type: 'string' },
      userAssignedIdentities: { type: 'object' },
    },
    required: ['type'],
  },
  'v6.privatelinks.PrivateEndpointConnection': {
    type: 'object',
    properties: { properties: { type: 'object' } },
    allOf: [{ $ref: '#/definitions/common.v6.types.Resource' }],
  },
  'v6.privatelinks.PrivateLinkResourceListResult': { type: 'object', properties: { value: { type: 'array' } } },
};

const COMMON_REF = /common-types\/resource-management\/(v\d+)\/(\w+)\.json#\/definitions\/(\w+)$/;

/** Rewrites one swagger schema node into a JSON Schema node for ajv. */
function convert(node: unknown, specId: string, missing: Set<string>): unknown {
  if (Array.isArray(node)) {
    return node.map((n) => convert(n, specId, missing));
  }
  if (node === null || typeof node !== 'object') {
    return node;
  }
  const src = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) {
    if (k.startsWith('x-') || k === 'discriminator' || k === 'example' || k === 'description') {
      continue;
    }
    if (k === '$ref' && typeof v === 'string') {
      out.$ref = convertRef(v, specId, missing);
    } else if (k === 'properties' || k === 'definitions') {
      out[k] = Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map(([name, s]) => [name, convert(s, specId, missing)]),
      );
    } else if (k === 'enum' || k === 'required') {
      out[k] = v;
    } else if (k === 'type' && v === 'file') {
      continue;
    } else {
      out[k] = convert(v, specId, missing);
    }
  }
  if (src['x-nullable'] === true) {
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum)) {
        out.enum = [...(out.enum as unknown[]), null];
      }
    } else {
      return { anyOf: [out, { type: 'null' }] };
    }
  }
  return out;
}

function convertRef(ref: string, specId: string, missing: Set<string>): string {
  if (ref.startsWith('#/definitions/')) {
    return `${specId}${ref}`;
  }
  const m = COMMON_REF.exec(ref);
  const key = m ? `${m[1]}.${m[2]}.${m[3]}` : undefined;
  if (key && key in COMMON_TYPES) {
    return `${specId}#/definitions/common.${key}`;
  }
  missing.add(ref);
  return `${specId}#/definitions/common.unknown`;
}

export interface ValidationResult {
  valid: boolean;
  /** Human-readable problems (empty when valid). */
  errors: string[];
}

export interface ResponseToCheck {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
}

/** Response validation for one swagger document. */
export class SwaggerValidator {
  private readonly ajv: Ajv;
  private readonly operations = new Map<string, { path: string; method: string; op: SwaggerOperation }>();
  private readonly compiled = new Map<string, ValidateFunction>();
  /** External refs that had no condensed common type (validated as "anything"). */
  readonly unresolvedRefs = new Set<string>();

  constructor(
    private readonly specId: string,
    spec: SwaggerDocument,
  ) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv, ['date-time', 'uri', 'uuid', 'date', 'duration']);
    const int = (min: number, max: number) => ({
      type: 'number' as const,
      validate: (n: number) => Number.isInteger(n) && n >= min && n <= max,
    });
    this.ajv.addFormat('int32', int(-(2 ** 31), 2 ** 31 - 1));
    this.ajv.addFormat('int64', int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
    this.ajv.addFormat('float', { type: 'number', validate: (n: number) => Number.isFinite(n) });
    this.ajv.addFormat('double', { type: 'number', validate: (n: number) => Number.isFinite(n) });
    this.ajv.addFormat('arm-id', /^\/subscriptions\/[^/]+\/.+/i);
    this.ajv.addFormat('password', true);
    this.ajv.addFormat('byte', true);

    const definitions: Record<string, unknown> = {};
    for (const [name, schema] of Object.entries(spec.definitions)) {
      definitions[name] = convert(schema, specId, this.unresolvedRefs);
    }
    for (const [name, schema] of Object.entries(COMMON_TYPES)) {
      definitions[`common.${name}`] = convert(schema, specId, this.unresolvedRefs);
    }
    definitions['common.unknown'] = {};
    this.ajv.addSchema({ $id: specId, definitions });

    for (const [p, methods] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const operation = op as SwaggerOperation;
        if (operation && typeof operation === 'object' && typeof operation.operationId === 'string') {
          this.operations.set(operation.operationId.toLowerCase(), {
            path: p,
            method: method.toUpperCase(),
            op: operation,
          });
        }
      }
    }
  }

  /** The declared response status codes of an operation (e.g. ['200', '202', 'default']). */
  responseCodes(operationId: string): string[] {
    return Object.keys(this.operation(operationId).op.responses);
  }

  /** Header names the spec declares for one response status of an operation. */
  declaredHeaders(operationId: string, status: number): string[] {
    return Object.keys(this.operation(operationId).op.responses[String(status)]?.headers ?? {});
  }

  /** Method and path template of an operation. */
  route(operationId: string): { method: string; path: string } {
    const { method, path } = this.operation(operationId);
    return { method, path };
  }

  /**
   * Validates a response: its status must be declared (or be an error covered by `default`); the body must match
   * that status's schema (no schema: any body); declared headers, when present, must have the declared type.
   * `requireHeaders` lists headers that must be present (e.g. Azure-AsyncOperation on an LRO 202).
   */
  validate(operationId: string, response: ResponseToCheck, requireHeaders: string[] = []): ValidationResult {
    const { op } = this.operation(operationId);
    const errors: string[] = [];
    const code = String(response.status);
    const declared = op.responses[code];
    const spec = declared ?? (response.status >= 400 ? op.responses.default : undefined);
    if (!spec) {
      return {
        valid: false,
        errors: [
          `status ${code} is not a response of ${operationId} (declared: ${Object.keys(op.responses).join(', ')})`,
        ],
      };
    }
    if (spec.schema !== undefined) {
      const validate = this.compile(operationId, declared ? code : 'default', spec.schema);
      if (!validate(response.body)) {
        errors.push(...formatErrors(validate.errors));
      }
    }
    const headers = lowerKeys(response.headers);
    for (const [name, h] of Object.entries(spec.headers ?? {})) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) continue;
      if (h.type === 'integer' && !/^\d+$/.test(value)) {
        errors.push(`header ${name}: "${value}" is not an integer`);
      }
      if (h.format === 'uri' && !/^https?:\/\//.test(value)) {
        errors.push(`header ${name}: "${value}" is not an absolute URI`);
      }
    }
    for (const name of requireHeaders) {
      if (headers[name.toLowerCase()] === undefined) {
        errors.push(`header ${name} is missing`);
      }
    }
    return { valid: errors.length === 0, errors };
  }

  /** Validates a value against a named definition (e.g. `OperationStatus`). */
  validateDefinition(definition: string, value: unknown): ValidationResult {
    const validate = this.compile(`definition:${definition}`, '', { $ref: `#/definitions/${definition}` });
    return validate(value) ? { valid: true, errors: [] } : { valid: false, errors: formatErrors(validate.errors) };
  }

  private operation(operationId: string): { path: string; method: string; op: SwaggerOperation } {
    const found = this.operations.get(operationId.toLowerCase());
    if (!found) {
      throw new Error(`${this.specId}: no operation ${operationId}`);
    }
    return found;
  }

  private compile(operationId: string, code: string, schema: unknown): ValidateFunction {
    const k = `${operationId}\u0000${code}`;
    let fn = this.compiled.get(k);
    if (!fn) {
      fn = this.ajv.compile(convert(schema, this.specId, this.unresolvedRefs) as object);
      this.compiled.set(k, fn);
    }
    return fn;
  }
}

function lowerKeys(headers: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const where = e.instancePath || '(body)';
    const extra =
      e.keyword === 'enum'
        ? ` ${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)}`
        : e.keyword === 'additionalProperties'
          ? ` (${String((e.params as { additionalProperty?: unknown }).additionalProperty)})`
          : '';
    return `${where} ${e.message ?? e.keyword}${extra}`;
  });
}
