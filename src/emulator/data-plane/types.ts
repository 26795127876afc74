import type { CertificateAuthority } from '../certificates';

/** How to run the data plane: where redis-server is, where its files go, which CA signs its certificates. */
export interface DataPlaneOptions {
  /** Path of the redis-server binary; else env `REDIS_SERVER_PATH`, else `redis-server` on PATH. */
  redisServerPath?: string;
  /** A directory the caller owns; the data plane creates one sub-directory per database in it. */
  workDir: string;
  /** Signs the server certificate of every TLS database; clients trust its certificate. */
  ca: CertificateAuthority;
  /** Loopback address every redis-server and forwarder binds to. Default `127.0.0.1`. */
  host?: string;
  /** How long one redis-server may take to accept an authenticated PING. Default 15 000. */
  startTimeoutInMs?: number;
  /** Hears about failures no caller is waiting for (a private endpoint that could not listen again). */
  onError?: (error: Error) => void;
  /**
   * `per-database` (default): one redis-server per database, private endpoints pass TLS through. `shared`: one
   * redis-server per region serving each database in its own logical database (see shared-server.ts), for
   * estates of hundreds of databases.
   */
  shape?: DataPlaneShape;
  /** Added to every new private-endpoint connection (read per connection): emulated probe latency. */
  latencyMs?: () => number;
}

export type DataPlaneShape = 'per-database' | 'shared';

/** One Azure Managed Redis database, as the data plane runs it. */
export interface DatabaseSpec {
  /** ARM resource id of the database. */
  id: string;
  /** DNS name put in the certificate's SAN (the ARM cluster's hostName), next to `localhost` and `127.0.0.1`. */
  hostName: string;
  /** `requirepass`: the database's primary access key. */
  password: string;
  /** `clientProtocol: Encrypted`: a TLS-only port, no plaintext port. */
  tls: boolean;
  /** `maxmemory`, with policy `noeviction`. */
  maxMemoryBytes: number;
  /** The shared shape's server: databases with the same value share one redis-server (the cluster's region). */
  region?: string;
}

/** What a private endpoint does with new connections: forward them, refuse them, or swallow them. */
export type FirewallMode = 'open' | 'refuse' | 'blackhole';

export interface Address {
  host: string;
  port: number;
}

export interface PrivateEndpoint {
  applicationRegion: string;
  databaseId: string;
  address: Address;
  firewall: FirewallMode;
}

export interface MemoryUsage {
  /** INFO memory `used_memory`. */
  usedBytes: number;
  /** INFO memory `maxmemory`. */
  maxBytes: number;
}
