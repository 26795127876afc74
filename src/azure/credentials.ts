import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ClientSecretCredential, DefaultAzureCredential, type DefaultAzureCredentialOptions } from '@azure/identity';

const ONE_HOUR_MS = 60 * 60 * 1000;

export interface StaticTokenCredentialOptions {
  /**
   * The bearer token to hand out. When omitted, each `getToken` call builds an unsigned JWT whose `aud` is the
   * requested scope's resource (the ARM endpoint) and whose `exp` is `lifetimeInMs` away, which is what an
   * emulator checking `aud`/`exp` expects.
   */
  token?: string;
  /** How long a token is reported valid. Default one hour. */
  lifetimeInMs?: number;
  /** Subject claim of generated tokens. Default `geofailover`. */
  subject?: string;
  /** Clock, for tests. */
  now?: () => number;
}

function base64UrlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** `https://host:port/.default` → `https://host:port` (the audience ARM tokens carry). */
function audienceOf(scopes: string | string[]): string {
  const scope = (Array.isArray(scopes) ? scopes[0] : scopes) ?? '';
  return scope.replace(/\/\.default$/, '');
}

/**
 * A `TokenCredential` that never talks to an identity provider: for the local ARM emulator and tests only.
 * Real Azure rejects its tokens (they are unsigned).
 */
export class StaticTokenCredential implements TokenCredential {
  private readonly options: StaticTokenCredentialOptions;

  constructor(options: StaticTokenCredentialOptions = {}) {
    this.options = options;
  }

  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    const now = (this.options.now ?? Date.now)();
    const expiresOnTimestamp = now + (this.options.lifetimeInMs ?? ONE_HOUR_MS);
    if (this.options.token !== undefined) {
      return { token: this.options.token, expiresOnTimestamp, tokenType: 'Bearer' };
    }
    const seconds = Math.floor(now / 1000);
    const header = base64UrlJson({ alg: 'none', typ: 'JWT' });
    const payload = base64UrlJson({
      aud: audienceOf(scopes),
      iss: 'https://geofailover.invalid/static-token/',
      sub: this.options.subject ?? 'geofailover',
      iat: seconds,
      nbf: seconds,
      exp: Math.floor(expiresOnTimestamp / 1000),
    });
    return { token: `${header}.${payload}.`, expiresOnTimestamp, tokenType: 'Bearer' };
  }
}

/** A static-token credential for the emulator (see {@link StaticTokenCredential}). */
export function createStaticTokenCredential(options: StaticTokenCredentialOptions = {}): TokenCredential {
  return new StaticTokenCredential(options);
}

/**
 * The credential for real Azure: `DefaultAzureCredential` (environment, workload identity, managed identity,
 * Azure CLI, ...). It does not throw here; a missing identity surfaces on the first request as
 * `CredentialUnavailableError`.
 */
export function createAzureCredential(options: DefaultAzureCredentialOptions = {}): TokenCredential {
  return new DefaultAzureCredential(options);
}

/** A service principal with a client secret (the emulator's tenant, or an app registration in Entra ID). */
export interface ClientSecretIdentity {
  /** e.g. the emulator's `https://127.0.0.1:PORT`; default Entra ID's public cloud */
  authorityHost?: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** extra CA to trust for the token endpoint, PEM (the emulator's) */
  caPem?: string | string[];
}

function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * `@azure/identity`'s `ClientSecretCredential`, unchanged. For a loopback authority (the emulator) instance
 * discovery is off (there is no Entra ID to ask whether the authority is known) and the emulator's CA is trusted.
 */
export function createClientSecretCredential(identity: ClientSecretIdentity): TokenCredential {
  const local = identity.authorityHost !== undefined && isLoopbackUrl(identity.authorityHost);
  return new ClientSecretCredential(identity.tenantId, identity.clientId, identity.clientSecret, {
    ...(identity.authorityHost !== undefined ? { authorityHost: identity.authorityHost } : {}),
    ...(local ? { disableInstanceDiscovery: true } : {}),
    ...(identity.caPem !== undefined ? { tlsOptions: { ca: identity.caPem } } : {}),
  });
}

/** The configuration's `azure.identity`: where the client secret is read from, never the secret itself. */
export interface IdentityConfig {
  authorityHost?: string | undefined;
  tenantId: string;
  clientId: string;
  clientSecret: { env: string } | { file: string };
}

/** The secret an `azure.identity` names could not be read. */
export class IdentitySecretError extends Error {
  override name = 'IdentitySecretError';
}

/**
 * Reads the client secret `azure.identity.clientSecret` names: an environment variable, or a file (relative to
 * `configDir`), trimmed.
 * @throws IdentitySecretError when the variable is unset/empty or the file is missing/empty
 */
export function readClientSecret(
  secret: IdentityConfig['clientSecret'],
  configDir: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): string {
  if ('env' in secret) {
    const value = env[secret.env]?.trim();
    if (!value)
      throw new IdentitySecretError(`azure.identity.clientSecret: environment variable ${secret.env} is not set`);
    return value;
  }
  const file = path.resolve(configDir, secret.file);
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new IdentitySecretError(`azure.identity.clientSecret: cannot read ${file}: ${(e as Error).message}`);
  }
  if (!value) throw new IdentitySecretError(`azure.identity.clientSecret: ${file} is empty`);
  return value;
}

/**
 * The credential a configuration asks for: `ClientSecretCredential` when `azure.identity` is set (the emulator, or
 * a service principal), `DefaultAzureCredential` otherwise (real Azure: workload or managed identity, CLI, ...).
 * @throws IdentitySecretError when the secret cannot be read
 */
export function credentialFromConfig(
  identity: IdentityConfig | undefined,
  options: { configDir?: string; caPem?: string | string[]; env?: NodeJS.ProcessEnv } = {},
): TokenCredential {
  if (!identity) return createAzureCredential();
  return createClientSecretCredential({
    ...(identity.authorityHost !== undefined ? { authorityHost: identity.authorityHost } : {}),
    tenantId: identity.tenantId,
    clientId: identity.clientId,
    clientSecret: readClientSecret(identity.clientSecret, options.configDir, options.env),
    ...(options.caPem !== undefined ? { caPem: options.caPem } : {}),
  });
}
