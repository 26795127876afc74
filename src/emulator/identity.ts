/**
 * The emulated tenant's token issuer (Entra ID's v2.0 endpoints, as far as client credentials go): OpenID
 * metadata, JWKS and `POST /{tenant}/oauth2/v2.0/token`, on its own HTTPS port (the emulator's CA). Tokens are
 * RS256 JWTs signed with a key pair generated at start; ARM (and the metrics routes) accept only those.
 *
 * `@azure/identity`'s `ClientSecretCredential` obtains tokens here unchanged, given `authorityHost` (this
 * server), `disableInstanceDiscovery: true` and the emulator's CA (`tlsOptions.ca`).
 *
 * The principals' client secrets are test credentials: they exist for one emulator lifetime and grant nothing
 * outside it.
 */
import {
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
  verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

/** The audience of ARM tokens (Azure Monitor's MetricsClient asks for it too, by default). */
export const ARM_AUDIENCE = 'https://management.azure.com';
/** The audience of Azure Managed Redis data-plane tokens (Entra ID authentication). */
export const REDIS_AUDIENCE = 'https://redis.azure.com';
/** Azure Monitor's own metrics audience (the batch API also accepts it). */
export const METRICS_AUDIENCE = 'https://metrics.monitor.azure.com';

/** The resources the emulated tenant issues tokens for (`{resource}/.default`). */
const RESOURCES = [ARM_AUDIENCE, REDIS_AUDIENCE, METRICS_AUDIENCE];

/** Default token lifetime, as Entra ID's (60–90 minutes). */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;

export interface IdentityOptions {
  /** the tenant id; default a fresh UUID */
  tenantId?: string;
  /** the principals (app registrations) the tenant knows, by name; default one: `geofailover-worker` */
  principals?: string[];
  /** lifetime of issued tokens; default {@link DEFAULT_TOKEN_LIFETIME_SECONDS}. Short in tests to prove refresh. */
  tokenLifetimeSeconds?: number;
  /**
   * The principals (by name) granted a Redis data access policy (Data Owner) on every database; default all of
   * them. A token for https://redis.azure.com issued to any other principal is refused by every redis-server.
   */
  redisDataAccess?: string[];
}

/** An app registration with a client secret (test-only: valid for one emulator lifetime). */
export interface Principal {
  name: string;
  /** appid / client_id */
  clientId: string;
  clientSecret: string;
  /** the service principal's object id (`oid`) */
  objectId: string;
}

/** How a client gets a token: what the ready line's `identity` carries (the first principal). */
export interface IdentityEndpoint {
  /** `https://127.0.0.1:PORT`: `ClientSecretCredential`'s `authorityHost` */
  authorityHost: string;
  tenantId: string;
  clientId: string;
  /** a test-only secret: it exists for this emulator's lifetime only */
  clientSecret: string;
}

export interface TokenClaims {
  aud: string;
  iss: string;
  tid: string;
  oid: string;
  sub: string;
  appid: string;
  azp: string;
  iat: number;
  nbf: number;
  exp: number;
  ver: string;
  [claim: string]: unknown;
}

/** Why a bearer token was refused; `code` is ARM's error code. */
export class TokenRejection extends Error {
  override name = 'TokenRejection';
  constructor(
    readonly code: 'InvalidAuthenticationToken' | 'ExpiredAuthenticationToken' | 'InvalidAuthenticationTokenAudience',
    message: string,
  ) {
    super(message);
  }
}

function base64UrlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Signs `claims` as an RS256 JWT (exported for tests that need a token signed by another key). */
let signingKey: { privateKey: KeyObject; publicKey: KeyObject } | undefined;
/**
 * The tenants' RS256 key, one per process: an RSA key costs ~150 ms of CPU to generate and a test process starts
 * dozens of emulators; each tenant still has its own id, issuer and key id.
 */
function tenantSigningKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  signingKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 });
  return signingKey;
}

export function signJwt(claims: Record<string, unknown>, privateKey: KeyObject, kid: string): string {
  const input = `${base64UrlJson({ typ: 'JWT', alg: 'RS256', kid })}.${base64UrlJson(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

/** The tenant: its principals, its signing key, the tokens it issued. */
export class TokenIssuer {
  readonly tenantId: string;
  readonly principals: readonly Principal[];
  readonly tokenLifetimeSeconds: number;
  readonly kid: string;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  /** set once the server listens */
  authorityHost = '';
  /** tokens issued through the token endpoint (tests prove refresh with it) */
  issuedCount = 0;
  /** object ids granted Redis data access */
  readonly redisDataAccess: ReadonlySet<string>;
  /**
   * Called for every https://redis.azure.com token issued to a principal with Redis data access (the emulator
   * makes it a password of the principal's ACL user on every database); the token endpoint answers after it.
   */
  onRedisToken: ((principal: Principal, token: string, expiresAtMs: number) => Promise<void>) | undefined;

  constructor(options: IdentityOptions = {}) {
    this.tenantId = options.tenantId ?? randomUUID();
    const names = options.principals ?? ['geofailover-worker'];
    if (names.length === 0) throw new TypeError('identity: at least one principal');
    this.principals = names.map((name) => ({
      name,
      clientId: randomUUID(),
      clientSecret: randomBytes(30).toString('base64url'),
      objectId: randomUUID(),
    }));
    const granted = options.redisDataAccess ?? names;
    for (const name of granted) {
      if (!names.includes(name)) throw new TypeError(`identity: redisDataAccess names an unknown principal ${name}`);
    }
    this.redisDataAccess = new Set(this.principals.filter((p) => granted.includes(p.name)).map((p) => p.objectId));
    const lifetime = options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
    if (!Number.isInteger(lifetime) || lifetime < 1) {
      throw new TypeError(`identity: tokenLifetimeSeconds must be a positive integer, got ${lifetime}`);
    }
    this.tokenLifetimeSeconds = lifetime;
    const { privateKey, publicKey } = tenantSigningKey();
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.kid = randomBytes(12).toString('base64url');
  }

  /** `{authorityHost}/{tenantId}/v2.0` */
  get issuer(): string {
    return `${this.authorityHost}/${this.tenantId}/v2.0`;
  }

  /** What the ready line carries: the first principal's credentials. */
  endpoint(principal: Principal = this.principals[0] as Principal): IdentityEndpoint {
    return {
      authorityHost: this.authorityHost,
      tenantId: this.tenantId,
      clientId: principal.clientId,
      clientSecret: principal.clientSecret,
    };
  }

  /** A token for `principal` (tests mint expired or odd tokens with `overrides`). */
  mint(
    audience: string,
    principal: Principal = this.principals[0] as Principal,
    overrides: Partial<TokenClaims> = {},
  ): string {
    const now = Math.floor(Date.now() / 1000);
    const claims: TokenClaims = {
      aud: audience,
      iss: this.issuer,
      tid: this.tenantId,
      oid: principal.objectId,
      sub: principal.objectId,
      appid: principal.clientId,
      azp: principal.clientId,
      iat: now,
      nbf: now,
      exp: now + this.tokenLifetimeSeconds,
      ver: '2.0',
      ...overrides,
    };
    return signJwt(claims, this.privateKey, this.kid);
  }

  openIdConfiguration(): Record<string, unknown> {
    const base = `${this.authorityHost}/${this.tenantId}`;
    return {
      issuer: this.issuer,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      grant_types_supported: ['client_credentials'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'geofailover.emulator',
    };
  }

  jwks(): { keys: Record<string, unknown>[] } {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return { keys: [{ kty: 'RSA', use: 'sig', alg: 'RS256', kid: this.kid, n: jwk.n, e: jwk.e, issuer: this.issuer }] };
  }

  /** The token endpoint (client credentials only). */
  token(
    form: URLSearchParams,
    basicAuth?: { clientId: string; clientSecret: string },
  ): { status: number; body: unknown; granted?: Promise<void> } {
    const grantType = form.get('grant_type');
    if (grantType !== 'client_credentials') {
      return aadError(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grantType ?? ''}'.`,
      );
    }
    const clientId = basicAuth?.clientId ?? form.get('client_id') ?? '';
    const principal = this.principals.find((p) => p.clientId === clientId);
    if (!principal) {
      return aadError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${this.tenantId}'.`,
      );
    }
    const secret = basicAuth?.clientSecret ?? form.get('client_secret');
    if (secret !== principal.clientSecret) {
      return aadError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
    const scopes = (form.get('scope') ?? '').split(/\s+/).filter((s) => s.length > 0);
    const resources = scopes.filter((s) => s.endsWith('/.default')).map((s) => s.replace(/\/*\.default$/, ''));
    const resource = resources[0]?.replace(/\/+$/, '');
    if (resources.length !== 1 || !resource || !RESOURCES.includes(resource)) {
      return aadError(
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${resources[0] ?? scopes.join(' ')} was not found in the tenant named ${this.tenantId}. ` +
          `This tenant issues tokens for ${RESOURCES.map((r) => `${r}/.default`).join(', ')}.`,
      );
    }
    this.issuedCount += 1;
    const accessToken = this.mint(resource, principal);
    const granted =
      resource === REDIS_AUDIENCE && this.onRedisToken && this.redisDataAccess.has(principal.objectId)
        ? this.onRedisToken(principal, accessToken, Date.now() + this.tokenLifetimeSeconds * 1000)
        : undefined;
    return {
      status: 200,
      body: {
        token_type: 'Bearer',
        expires_in: this.tokenLifetimeSeconds,
        ext_expires_in: this.tokenLifetimeSeconds,
        access_token: accessToken,
      },
      ...(granted ? { granted } : {}),
    };
  }

  /**
   * Checks a bearer token: signed by this tenant's key (RS256, our kid), issued by it, audience one of `audiences`,
   * within nbf/exp (no skew).
   * @returns its claims
   * @throws TokenRejection
   */
  verify(token: string, audiences: readonly string[]): TokenClaims {
    const parts = token.split('.');
    if (parts.length !== 3) {
      throw new TokenRejection('InvalidAuthenticationToken', 'The access token is invalid: it is not a JWT.');
    }
    const [h, p, s] = parts as [string, string, string];
    let header: { alg?: string; kid?: string };
    let claims: TokenClaims;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      throw new TokenRejection('InvalidAuthenticationToken', 'The access token is invalid: it does not decode.');
    }
    if (header.alg !== 'RS256' || header.kid !== this.kid) {
      throw new TokenRejection(
        'InvalidAuthenticationToken',
        'The access token is invalid: it is not signed by a key of the tenant (alg or kid unknown).',
      );
    }
    if (!verify('sha256', Buffer.from(`${h}.${p}`), this.publicKey, Buffer.from(s, 'base64url'))) {
      throw new TokenRejection(
        'InvalidAuthenticationToken',
        'The access token is invalid: signature validation failed.',
      );
    }
    if (claims.iss !== this.issuer || claims.tid !== this.tenantId) {
      throw new TokenRejection(
        'InvalidAuthenticationToken',
        `The access token is from a wrong issuer '${String(claims.iss)}'.`,
      );
    }
    const aud = String(claims.aud).replace(/\/+$/, '');
    if (!audiences.some((a) => a.replace(/\/+$/, '') === aud)) {
      throw new TokenRejection(
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${String(claims.aud)}'. It should exactly match with one of the allowed audiences '${audiences.join("','")}'.`,
      );
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= now) {
      throw new TokenRejection(
        'ExpiredAuthenticationToken',
        `The access token expiry UTC time '${new Date((Number(claims.exp) || 0) * 1000).toUTCString()}' is earlier than current UTC time '${new Date(now * 1000).toUTCString()}'.`,
      );
    }
    if (typeof claims.nbf === 'number' && claims.nbf > now) {
      throw new TokenRejection('InvalidAuthenticationToken', 'The access token is not yet valid (nbf).');
    }
    return claims;
  }
}

function aadError(status: number, error: string, code: number, description: string): { status: number; body: unknown } {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
    },
  };
}

/** The public half of the tenant's signing key (tests check JWKS against it). */
export function publicKeyFromJwk(jwk: Record<string, unknown>): KeyObject {
  return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
}

const MAX_FORM_BYTES = 64 * 1024;

/** The token issuer's HTTPS server (routes in the module comment). */
export function createIdentityServer(options: {
  cert: string;
  key: string;
  issuer: TokenIssuer;
  log: (line: string) => void;
  accessLog?: (line: string) => void;
}): https.Server {
  const { issuer } = options;
  const server = https.createServer({ cert: options.cert, key: options.key }, (req, res) => {
    const started = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'https://identity.invalid');
    if (options.accessLog) {
      const log = options.accessLog;
      res.on('finish', () => log(`identity ${method} ${url.pathname} → ${res.statusCode} ${Date.now() - started}ms`));
    }
    void route(req, res, method, url).catch((e: unknown) => {
      options.log(`identity ${method} ${url.pathname} failed: ${(e as Error)?.stack ?? String(e)}`);
      send(res, 500, aadError(500, 'server_error', 50000, 'There was an error issuing a token.').body);
    });
  });
  server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());

  async function route(req: IncomingMessage, res: ServerResponse, method: string, url: URL): Promise<void> {
    const segments = url.pathname.split('/').filter((s) => s.length > 0);
    const tenant = segments[0] ?? '';
    const rest = segments.slice(1).join('/');
    if (tenant.toLowerCase() !== issuer.tenantId.toLowerCase()) {
      const { body } = aadError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
      send(res, 400, body);
      return;
    }
    if (method === 'GET' && rest === 'v2.0/.well-known/openid-configuration') {
      send(res, 200, issuer.openIdConfiguration());
      return;
    }
    if (method === 'GET' && rest === 'discovery/v2.0/keys') {
      send(res, 200, issuer.jwks());
      return;
    }
    if (method === 'POST' && rest === 'oauth2/v2.0/token') {
      const text = await readBody(req);
      const answer = issuer.token(new URLSearchParams(text), basicCredentials(req));
      // A Redis token works on every database once the token endpoint has answered.
      await answer.granted;
      send(res, answer.status, answer.body);
      return;
    }
    send(res, 404, aadError(404, 'not_found', 90000, `No such endpoint: ${method} ${url.pathname}.`).body);
  }
  return server;
}

function basicCredentials(req: IncomingMessage): { clientId: string; clientSecret: string } | undefined {
  const header = req.headers.authorization;
  const m = header ? /^Basic\s+(\S+)$/i.exec(header) : null;
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return {
    clientId: decodeURIComponent(decoded.slice(0, colon)),
    clientSecret: decodeURIComponent(decoded.slice(colon + 1)),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) {
        reject(new Error('token request too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store, no-cache');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
