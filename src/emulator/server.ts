/**
 * The ARM HTTPS server. Every request passes the same stages, in this order:
 *
 *   1. request id        x-ms-request-id / x-ms-correlation-request-id on every response
 *   2. access log        one line per request when it finishes (method, path, status, ms, operation)
 *   3. route             which operation on which resource; 404 unknown path, 405 unknown method
 *   4. api-version       400 when missing or not one the resource type supports
 *   5. strict query      400 for query parameters other than api-version (and those the route declares)
 *   6. authentication    401 unless `Authorization: Bearer <token>` with a token the emulated tenant issued
 *                        (identity.ts): its signature, audience ARM's (metrics routes: also Azure Monitor's), not
 *                        expired; codes as ARM's (InvalidAuthenticationToken, ExpiredAuthenticationToken, …)
 *   7. faults            injected latency, then a hung region (accepted, never answered), then throttling
 *                        (429: the throttle fault, then the token-bucket model with its
 *                        x-ms-ratelimit-remaining-subscription-* header), then region outage (503)
 *   8. body              read and parse JSON; 400 InvalidRequestContent when it is not JSON
 *   9. handler           the route module validates the body's shape and answers
 *  10. error writer      ArmError → its status and `{ error: { code, message } }`; anything else → 500
 *
 * Every request gets an answer: all stages run inside one try/catch, and the error writer never throws.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { ArmError, isArmError } from './errors';
import { ARM_AUDIENCE, METRICS_AUDIENCE, TokenRejection, type TokenIssuer } from './identity';
import { resolveRoute, type ArmRequest, type ArmResponse, type ArmServices, type Route } from './routes';

const MAX_BODY_BYTES = 1024 * 1024;
const ALLOWED_QUERY = new Set(['api-version']);

export interface ArmServerOptions {
  cert: string;
  key: string;
  services: ArmServices;
  /** the emulated tenant: only its tokens are accepted. Absent: any non-empty bearer token (unit tests only). */
  identity?: TokenIssuer;
  /** one line per request */
  accessLog?: (line: string) => void;
  /** errors and other diagnostics */
  log: (line: string) => void;
}

interface RequestContext {
  requestId: string;
  correlationId: string;
  started: number;
  route?: Route;
}

export function createArmServer(options: ArmServerOptions): https.Server {
  const server = https.createServer({ cert: options.cert, key: options.key }, (req, res) => {
    void handle(req, res, options);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  return server;
}

async function handle(req: IncomingMessage, res: ServerResponse, options: ArmServerOptions): Promise<void> {
  const { services } = options;
  // 1. request id
  const ctx: RequestContext = {
    requestId: randomUUID(),
    correlationId: headerValue(req, 'x-ms-correlation-request-id') ?? randomUUID(),
    started: Date.now(),
  };
  res.setHeader('x-ms-request-id', ctx.requestId);
  res.setHeader('x-ms-correlation-request-id', ctx.correlationId);
  const clientRequestId = headerValue(req, 'x-ms-client-request-id');
  if (clientRequestId) res.setHeader('x-ms-client-request-id', clientRequestId);

  // 2. access log
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', 'https://emulator.invalid');
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    path = url.pathname;
  }
  if (options.accessLog) {
    const log = options.accessLog;
    res.on('finish', () => {
      const op = ctx.route ? ` ${ctx.route.operation}` : '';
      log(`${method} ${url.pathname}${url.search} → ${res.statusCode} ${Date.now() - ctx.started}ms${op}`);
    });
  }

  try {
    // 3. route
    const segments = path.split('/').filter((s) => s.length > 0);
    const route = resolveRoute(method, path, segments, services);
    ctx.route = route;

    // 4. api-version
    const apiVersions = url.searchParams.getAll('api-version');
    const apiVersion = apiVersions[0];
    if (apiVersion === undefined || apiVersion === '') throw ArmError.missingApiVersion(route.apiVersions);
    if (!route.apiVersions.includes(apiVersion) || apiVersions.some((v) => v !== apiVersion)) {
      throw ArmError.invalidApiVersion(apiVersions.join(','), route.resourceType, route.apiVersions);
    }

    // 5. strict query
    for (const name of url.searchParams.keys()) {
      const lower = name.toLowerCase();
      if (!ALLOWED_QUERY.has(lower) && !route.query?.includes(lower)) throw ArmError.invalidQueryParameter(name);
    }

    // 6. authentication
    authenticate(req, options.identity, route.operation);

    // 7. faults
    // A metrics batch is a read sent as POST (the query rides in the body): it waits like a read.
    const latencyMs =
      services.faults.latencyFor(route.operation) +
      services.latencies.forArmRequest(route.operation === 'getMetricsBatch' ? 'GET' : method);
    if (latencyMs > 0) await delay(latencyMs);
    if (route.region !== undefined && services.faults.isHanging(route.region, route.operation)) {
      await holdRequest(res, services, route.region);
      return;
    }
    const throttle = services.faults.takeThrottle({ method, operation: route.operation, path });
    if (throttle) throw ArmError.tooManyRequests(throttle.retryAfterSeconds);
    const limit = services.faults.takeRateLimit({
      method,
      path,
      region: route.region,
      authorization: headerValue(req, 'authorization'),
    });
    if (limit) res.setHeader(limit.header, String(limit.remaining));
    if (limit?.throttled) throw ArmError.tooManyRequests(limit.retryAfterSeconds ?? 1);
    if (route.region !== undefined && services.faults.isRegionDown(route.region)) {
      throw ArmError.regionUnavailable(route.region);
    }

    // 8. body
    const body = await readJsonBody(req);

    // 9. handler
    const request: ArmRequest = {
      method,
      path,
      segments,
      query: url.searchParams,
      apiVersion,
      baseUrl: `https://${req.headers.host ?? 'localhost'}`,
      requestId: ctx.requestId,
      body,
    };
    const response = await route.handle(request);
    writeResponse(res, response);
  } catch (e) {
    // 10. error writer
    if (!isArmError(e)) {
      options.log(`request ${ctx.requestId} ${method} ${path} failed: ${(e as Error)?.stack ?? String(e)}`);
    }
    const error = isArmError(e) ? e : ArmError.internal(ctx.requestId);
    writeResponse(res, { status: error.status, body: error.toBody(), headers: error.headers });
  }
}

/**
 * A hung region: the request stays unanswered until the client gives up (its connection closes) or the hang ends
 * (`restore`/`reset`: the connection is dropped without an answer).
 */
function holdRequest(res: ServerResponse, services: ArmServices, region: string): Promise<void> {
  return new Promise((resolve) => {
    const release = services.faults.hold(region, () => res.destroy());
    res.on('close', () => {
      release();
      resolve();
    });
  });
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s && s.trim() ? s.trim() : undefined;
}

/** ARM's audiences (with and without the trailing slash, and the classic one); the metrics routes add Monitor's. */
const ARM_AUDIENCES = [ARM_AUDIENCE, `${ARM_AUDIENCE}/`, 'https://management.core.windows.net/'];
const METRICS_OPERATIONS = new Set(['listMetrics', 'getMetricsBatch']);

function authenticate(req: IncomingMessage, identity: TokenIssuer | undefined, operation: string): void {
  const authorizationUri = identity
    ? `${identity.authorityHost}/${identity.tenantId}`
    : 'https://login.microsoftonline.com/common';
  const refuse = (code: string, message: string): ArmError => {
    const description = message.replace(/"/g, "'");
    return new ArmError(401, code, message, {
      headers: {
        'WWW-Authenticate': `Bearer authorization_uri="${authorizationUri}", error="invalid_token", error_description="${description}"`,
      },
    });
  };
  const header = headerValue(req, 'authorization');
  if (!header) {
    throw refuse('AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
  }
  const m = /^Bearer\s+(\S.*)$/i.exec(header);
  if (!m || !m[1]?.trim()) {
    throw refuse(
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is provided in an invalid format: expected 'Bearer <token>'.",
    );
  }
  if (!identity) return;
  const audiences = METRICS_OPERATIONS.has(operation) ? [...ARM_AUDIENCES, METRICS_AUDIENCE] : ARM_AUDIENCES;
  try {
    identity.verify(m[1].trim(), audiences);
  } catch (e) {
    if (e instanceof TokenRejection) throw refuse(e.code, e.message);
    throw e;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Reads the body; undefined when empty. Not JSON → 400 InvalidRequestContent. */
function readJsonBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        fail(ArmError.payloadTooLarge(MAX_BODY_BYTES));
        req.resume();
        return;
      }
      if (!settled) chunks.push(chunk);
    });
    req.on('error', (e) => fail(e));
    req.on('close', () => fail(new Error('the client closed the connection before sending the whole body')));
    req.on('end', () => {
      if (settled) return;
      settled = true;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(ArmError.invalidRequestContent(`the body is not valid JSON (${(e as Error).message}).`));
      }
    });
  });
}

function writeResponse(res: ServerResponse, response: ArmResponse): void {
  if (res.headersSent || res.destroyed) {
    if (!res.writableEnded) res.end();
    return;
  }
  for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
  if (response.body === undefined || response.status === 204) {
    res.statusCode = response.status;
    res.setHeader('Content-Length', '0');
    res.end();
    return;
  }
  const text = JSON.stringify(response.body);
  res.statusCode = response.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** Closes a server and every connection it holds; resolves once it no longer listens. */
export function closeServer(server: https.Server | Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Listens on 127.0.0.1 and resolves the port (0 picks a free one). */
export function listen(server: https.Server | Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
