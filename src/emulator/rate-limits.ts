/**
 * ARM's throttling model (learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling):
 * token buckets per subscription, per principal and per region, one each for reads (GET/HEAD), writes (PUT, PATCH,
 * POST) and deletes. A request takes one token; with none left it is answered 429 with `Retry-After` (whole
 * seconds until a token is back) and takes nothing, so sending again early earns a new Retry-After. Every answer
 * carries the bucket's remaining tokens in `x-ms-ratelimit-remaining-subscription-{reads|writes|deletes}`.
 */
import { createHash } from 'node:crypto';

export type RateLimitKind = 'reads' | 'writes' | 'deletes';
export const RATE_LIMIT_KINDS: readonly RateLimitKind[] = ['reads', 'writes', 'deletes'];

export interface BucketSize {
  burst: number;
  perSecond: number;
}

export interface RateLimitConfig {
  enabled: boolean;
  reads: BucketSize;
  writes: BucketSize;
  deletes: BucketSize;
}

/** Azure's published sizes: reads 250 burst / 25 per s, writes and deletes 200 / 10 per s. */
export const AZURE_RATE_LIMITS: Omit<RateLimitConfig, 'enabled'> = {
  reads: { burst: 250, perSecond: 25 },
  writes: { burst: 200, perSecond: 10 },
  deletes: { burst: 200, perSecond: 10 },
};

/** What the bucket said about one request. */
export interface RateLimitAnswer {
  kind: RateLimitKind;
  /** the response header and its value (tokens left after this request) */
  header: string;
  remaining: number;
  throttled: boolean;
  /** set when throttled: whole seconds until a token is back (at least 1) */
  retryAfterSeconds?: number;
}

export interface RateLimitState extends RateLimitConfig {
  /** 429s answered by the model, per kind */
  throttled: Record<RateLimitKind, number>;
}

const MAX_RETRY_AFTER_S = 3600;

export function rateLimitKind(method: string): RateLimitKind {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return 'reads';
  if (m === 'DELETE') return 'deletes';
  return 'writes';
}

/**
 * Who is calling, from the bearer token: the JWT's `oid` (then `appid`, `sub`) when it is one, else a digest of the
 * token. Never the token itself.
 */
export function principalOf(authorization: string | undefined): string {
  const token = /^Bearer\s+(\S+)/i.exec(authorization ?? '')?.[1] ?? '';
  const payload = token.split('.')[1];
  if (payload) {
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      for (const name of ['oid', 'appid', 'sub']) {
        const v = claims[name];
        if (typeof v === 'string' && v) return v;
      }
    } catch {
      // not a JWT: fall through
    }
  }
  return `token:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
}

/** The subscription a request path names, lower case; `-` when it names none. */
export function subscriptionOfPath(path: string): string {
  return (/^\/subscriptions\/([^/]+)/i.exec(path)?.[1] ?? '-').toLowerCase();
}

/**
 * Azure Monitor's metrics batch (`POST …/metrics:getBatch`): the emulator serves it on its ARM port, but Azure serves
 * it from `{region}.metrics.monitor.azure.com`, outside ARM's buckets, so a memory read is no ARM write.
 */
function outsideArmBuckets(path: string): boolean {
  return /\/metrics:getBatch$/i.test(path);
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private config: RateLimitConfig;
  private readonly buckets = new Map<string, Bucket>();
  private throttled: Record<RateLimitKind, number> = { reads: 0, writes: 0, deletes: 0 };

  constructor(
    private readonly initial: RateLimitConfig = { enabled: false, ...AZURE_RATE_LIMITS },
    private readonly clock: () => number = Date.now,
  ) {
    this.config = structuredClone(initial);
  }

  /** Replaces the configuration (sizes not given: Azure's); buckets start full again. */
  configure(config: { enabled: boolean } & Partial<Omit<RateLimitConfig, 'enabled'>>): RateLimitState {
    this.config = {
      enabled: config.enabled,
      reads: config.reads ?? AZURE_RATE_LIMITS.reads,
      writes: config.writes ?? AZURE_RATE_LIMITS.writes,
      deletes: config.deletes ?? AZURE_RATE_LIMITS.deletes,
    };
    this.buckets.clear();
    return this.state();
  }

  /** Back to the start-up configuration, full buckets, zero counts. */
  reset(): void {
    this.config = structuredClone(this.initial);
    this.buckets.clear();
    this.throttled = { reads: 0, writes: 0, deletes: 0 };
  }

  state(): RateLimitState {
    return { ...structuredClone(this.config), throttled: { ...this.throttled } };
  }

  /** Takes a token for the request; undefined when the model is off. */
  take(request: {
    method: string;
    path: string;
    region?: string;
    authorization?: string;
  }): RateLimitAnswer | undefined {
    if (!this.config.enabled || outsideArmBuckets(request.path)) return undefined;
    const kind = rateLimitKind(request.method);
    const size = this.config[kind];
    const region = (request.region ?? 'global').replace(/\s+/g, '').toLowerCase();
    const k = [subscriptionOfPath(request.path), principalOf(request.authorization), region, kind].join('\u0000');
    const now = this.clock();
    const b = this.buckets.get(k) ?? { tokens: size.burst, at: now };
    b.tokens = Math.min(size.burst, b.tokens + ((now - b.at) / 1000) * size.perSecond);
    b.at = now;
    this.buckets.set(k, b);
    const header = `x-ms-ratelimit-remaining-subscription-${kind}`;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { kind, header, remaining: Math.floor(b.tokens), throttled: false };
    }
    this.throttled[kind] += 1;
    const retryAfterSeconds =
      size.perSecond > 0
        ? Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil((1 - b.tokens) / size.perSecond)))
        : MAX_RETRY_AFTER_S;
    return { kind, header, remaining: 0, throttled: true, retryAfterSeconds };
  }
}
