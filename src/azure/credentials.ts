import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential, type DefaultAzureCredentialOptions } from '@azure/identity';

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
