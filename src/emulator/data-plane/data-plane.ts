import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataPlaneError } from './data-plane-error';
import { databaseDirectoryName } from './database-directory';
import { Forwarder, type Upstream } from './forwarder';
import { RedisDatabase } from './redis-database';
import { SharedRedisServer, type SharedDatabase } from './shared-server';
import type {
  Address,
  DatabaseSpec,
  DataPlaneOptions,
  DataPlaneShape,
  FirewallMode,
  MemoryUsage,
  PrivateEndpoint,
} from './types';

/** What the data plane needs of a database, whichever shape serves it. */
type Backend = RedisDatabase | SharedDatabase;

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_START_TIMEOUT_IN_MS = 15_000;

interface PrivateEndpointEntry {
  applicationRegion: string;
  databaseId: string;
  forwarder: Forwarder;
}

/**
 * The emulator's data plane: real redis-servers (one per database, or one per region in the shared shape), and
 * in front of each database one forwarder per application region standing for that region's private endpoint.
 * Faults (outage, firewall, metadata build-up) are injected here; the ARM emulator decides when.
 */
export class DataPlane {
  readonly shape: DataPlaneShape;
  readonly #databases: Map<string, Backend>;
  readonly #endpoints: Map<string, PrivateEndpointEntry>;
  /** shared shape: the database's own endpoint (what ARM reports as its port) */
  readonly #direct: Map<string, Forwarder>;
  readonly #servers: SharedRedisServer[];
  #closing: Promise<void> | undefined;

  private constructor(
    shape: DataPlaneShape,
    databases: Map<string, Backend>,
    endpoints: Map<string, PrivateEndpointEntry>,
    direct: Map<string, Forwarder>,
    servers: SharedRedisServer[],
  ) {
    this.shape = shape;
    this.#databases = databases;
    this.#endpoints = endpoints;
    this.#direct = direct;
    this.#servers = servers;
  }

  /** How many redis-server processes serve the databases. */
  get serverCount(): number {
    return this.shape === 'shared' ? this.#servers.length : this.#databases.size;
  }

  /**
   * Starts every redis-server (in parallel, each empty, answering an authenticated PING before this resolves)
   * and one open forwarder per (application region, database). Ids and regions are matched case-insensitively,
   * as ARM does. Throws DataPlaneError InvalidArgument for
   * duplicate ids or regions, StartFailed when a redis-server does not come up; nothing is left running then.
   */
  static async start(
    options: DataPlaneOptions,
    databases: DatabaseSpec[],
    applicationRegions: string[],
  ): Promise<DataPlane> {
    assertUnique(
      databases.map((database) => database.id),
      'database id',
    );
    assertUnique(applicationRegions, 'application region');
    const shape = options.shape ?? 'per-database';
    const host = options.host ?? DEFAULT_HOST;
    // `||`, not `??`: an empty REDIS_SERVER_PATH means unset.
    const redisServerPath = options.redisServerPath || process.env['REDIS_SERVER_PATH'] || 'redis-server';
    const workDir = resolve(options.workDir);
    const startTimeoutInMs = options.startTimeoutInMs ?? DEFAULT_START_TIMEOUT_IN_MS;
    const started = new Map<string, Backend>();
    const endpoints = new Map<string, PrivateEndpointEntry>();
    const direct = new Map<string, Forwarder>();
    const servers = new Map<string, SharedRedisServer>();
    const forwarderOptions = { onError: options.onError, latencyMs: options.latencyMs };
    try {
      if (shape === 'shared') {
        for (const spec of databases) {
          const region = lookupKey(spec.region ?? 'local');
          let server = servers.get(region);
          if (server === undefined) {
            server = new SharedRedisServer({
              name: `shared-${region}`,
              directory: join(workDir, `shared-${region.replace(/[^a-z0-9-]/g, '-')}`),
              host,
              redisServerPath,
              ca: options.ca,
              startTimeoutInMs,
            });
            servers.set(region, server);
          }
          started.set(lookupKey(spec.id), server.add(spec));
        }
        const results = await Promise.allSettled([...servers.values()].map((server) => server.create()));
        const failure = results.find((result) => result.status === 'rejected');
        if (failure !== undefined) throw failure.reason;
      } else {
        const results = await Promise.allSettled(
          databases.map(async (spec) => {
            const directory = join(workDir, databaseDirectoryName(spec.id));
            await mkdir(directory, { recursive: true, mode: 0o700 });
            const database = await RedisDatabase.create({
              spec,
              directory,
              host,
              redisServerPath,
              ca: options.ca,
              startTimeoutInMs,
            });
            started.set(lookupKey(spec.id), database);
          }),
        );
        const failure = results.find((result) => result.status === 'rejected');
        if (failure !== undefined) throw failure.reason;
      }
      const upstreamOf = (spec: DatabaseSpec): Upstream => {
        const backend = started.get(lookupKey(spec.id)) as Backend;
        return backend instanceof RedisDatabase
          ? backend.address
          : (client, track): void => backend.accept(client, track);
      };
      for (const spec of databases) {
        if (shape === 'shared')
          direct.set(lookupKey(spec.id), await Forwarder.listen(host, upstreamOf(spec), { onError: options.onError }));
        for (const applicationRegion of applicationRegions) {
          const forwarder = await Forwarder.listen(host, upstreamOf(spec), forwarderOptions);
          endpoints.set(endpointKey(applicationRegion, spec.id), { applicationRegion, databaseId: spec.id, forwarder });
        }
      }
    } catch (error) {
      await Promise.all([
        ...[...started.values()].map((database) => database.close()),
        ...[...endpoints.values()].map((entry) => entry.forwarder.close()),
        ...[...direct.values()].map((forwarder) => forwarder.close()),
      ]);
      throw error;
    }
    // Keep the caller's order for listings.
    const ordered = new Map(databases.map((spec) => [lookupKey(spec.id), started.get(lookupKey(spec.id)) as Backend]));
    return new DataPlane(shape, ordered, endpoints, direct, [...servers.values()]);
  }

  /** The redis-server itself. Throws DataPlaneError DatabaseNotFound. */
  endpoint(databaseId: string): Address {
    const database = this.#database(databaseId);
    // Shared: the server is plaintext and holds every database; the database's own endpoint selects it.
    return this.#direct.get(lookupKey(database.id))?.address ?? database.address;
  }

  /** The private endpoint of `databaseId` in `applicationRegion`. Throws DataPlaneError PrivateEndpointNotFound. */
  privateEndpoint(applicationRegion: string, databaseId: string): Address {
    return this.#endpoint(applicationRegion, databaseId).forwarder.address;
  }

  /** Every private endpoint, by application region then database, with its firewall mode. */
  listPrivateEndpoints(): PrivateEndpoint[] {
    return [...this.#endpoints.values()].map(({ applicationRegion, databaseId, forwarder }) => ({
      applicationRegion,
      databaseId,
      address: forwarder.address,
      firewall: forwarder.mode,
    }));
  }

  /**
   * Region outage: SHUTDOWN SAVE, then the process is gone. Forwarders then reset client connections at once.
   * Idempotent. Throws DataPlaneError StopFailed if redis refuses or does not exit.
   */
  async stopDatabase(databaseId: string): Promise<void> {
    const database = this.#database(databaseId);
    await database.stop();
    // Shared: the server may run on for other databases, so this one's connections are reset here.
    if (this.shape === 'shared') this.#forwardersOf(database.id).forEach((forwarder) => forwarder.dropConnections());
  }

  /** Restore: same port, same (current) password, the data saved at stop. Idempotent. Throws StartFailed. */
  startDatabase(databaseId: string): Promise<void> {
    return this.#database(databaseId).start();
  }

  isRunning(databaseId: string): boolean {
    return this.#database(databaseId).running;
  }

  /**
   * Discards all data (rejoin / force-link), although clients cannot FLUSHALL (renamed, as a geo-replicated
   * cache refuses it). On a stopped database the saved data is deleted, so it restarts empty.
   */
  flush(databaseId: string): Promise<void> {
    return this.#database(databaseId).flush();
  }

  /**
   * Key regeneration: CONFIG SET requirepass now and in the config used by later starts. Connections already
   * authenticated stay open, as they do on Azure.
   */
  setPassword(databaseId: string, password: string): Promise<void> {
    return this.#database(databaseId).setPassword(password);
  }

  /**
   * Entra ID: every database accepts `token` as a password of the ACL user `username` (the principal's object id)
   * until `expiresAtMs`, also after restarts (see RedisDatabase.addEntraPassword).
   */
  async addEntraPassword(username: string, token: string, expiresAtMs: number): Promise<void> {
    if (this.shape === 'shared') {
      await Promise.all(this.#servers.map((server) => server.addEntraPassword(username, token, expiresAtMs)));
      return;
    }
    await Promise.all([...this.#databases.values()].map((d) => d.addEntraPassword(username, token, expiresAtMs)));
  }

  /**
   * Applies a firewall mode to one private endpoint at once (the listener is closed or re-bound within this
   * tick); connections made under the previous mode are destroyed. Throws PrivateEndpointNotFound.
   */
  setFirewall(applicationRegion: string, databaseId: string, mode: FirewallMode): void {
    this.#endpoint(applicationRegion, databaseId).forwarder.setMode(mode);
  }

  /** INFO memory used_memory and maxmemory. Throws DataPlaneError DatabaseStopped when stopped. */
  memory(databaseId: string): Promise<MemoryUsage> {
    return this.#database(databaseId).memory();
  }

  /**
   * Geo-replication metadata build-up: writes filler keys (prefix `__geo:metadata:`) until used_memory has
   * grown by about `bytes` (within 64 KiB), never past `capBytes`. Returns used_memory; 0 when stopped (no-op).
   */
  growMetadata(databaseId: string, bytes: number, capBytes: number): Promise<number> {
    return this.#database(databaseId).growMetadata(bytes, capBytes);
  }

  /**
   * The emulated geo-replication (src/emulator/replication.ts): every string key of the database but the metadata
   * filler. Per-database shape only: the shared shape reads nothing (its databases do not replicate).
   */
  async readStrings(databaseId: string): Promise<Map<string, string>> {
    const database = this.#database(databaseId);
    return database instanceof RedisDatabase ? database.readStrings() : new Map<string, string>();
  }

  /** Copies `keys` (value and remaining TTL) from one database to others. Per-database shape only. */
  async copyStrings(fromId: string, toIds: readonly string[], keys: readonly string[]): Promise<void> {
    const from = this.#database(fromId);
    if (!(from instanceof RedisDatabase) || keys.length === 0) return;
    const entries = await from.readForCopy(keys);
    await Promise.all(
      toIds.map(async (id) => {
        const to = this.#database(id);
        if (to instanceof RedisDatabase) await to.writeStrings(entries);
      }),
    );
  }

  /** Deletes the filler keys, so used_memory falls. No-op when stopped. */
  clearMetadata(databaseId: string): Promise<void> {
    return this.#database(databaseId).clearMetadata();
  }

  /** Kills every redis-server (nothing saved) and closes every forwarder. Idempotent; later calls throw Closed. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([
        ...[...this.#endpoints.values()].map((entry) => entry.forwarder.close()),
        ...[...this.#direct.values()].map((forwarder) => forwarder.close()),
        ...[...this.#databases.values()].map((database) => database.close()),
      ]);
    })();
    return this.#closing;
  }

  #forwardersOf(databaseId: string): Forwarder[] {
    const key = lookupKey(databaseId);
    return [
      ...[...this.#endpoints.values()].filter((e) => lookupKey(e.databaseId) === key).map((e) => e.forwarder),
      ...(this.#direct.has(key) ? [this.#direct.get(key) as Forwarder] : []),
    ];
  }

  #database(databaseId: string): Backend {
    const database = this.#databases.get(lookupKey(databaseId));
    if (database === undefined) throw new DataPlaneError('DatabaseNotFound', `no database ${databaseId}`);
    return database;
  }

  #endpoint(applicationRegion: string, databaseId: string): PrivateEndpointEntry {
    const entry = this.#endpoints.get(endpointKey(applicationRegion, databaseId));
    if (entry === undefined) {
      throw new DataPlaneError(
        'PrivateEndpointNotFound',
        `no private endpoint for database ${databaseId} in application region ${applicationRegion}`,
      );
    }
    return entry;
  }
}

/** ARM resource ids and region names compare case-insensitively. */
function lookupKey(name: string): string {
  return name.toLowerCase();
}

function endpointKey(applicationRegion: string, databaseId: string): string {
  // A newline appears in neither a region name nor an ARM id.
  return `${lookupKey(applicationRegion)}\n${lookupKey(databaseId)}`;
}

function assertUnique(values: string[], what: string): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(lookupKey(value))) throw new DataPlaneError('InvalidArgument', `duplicate ${what} ${value}`);
    seen.add(lookupKey(value));
  }
}
