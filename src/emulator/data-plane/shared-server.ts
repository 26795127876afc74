import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect, isIP, type Socket } from 'node:net';
import { join } from 'node:path';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorReply } from 'redis';
import type { CertificateAuthority } from '../certificates';
import { issueServerCertificate } from '../certificates';
import type { AdminClient } from './admin-client';
import { connectAdminClient, discardClient } from './admin-client';
import { DataPlaneError } from './data-plane-error';
import { findFreePort } from './free-port';
import { parseInfo } from './memory-info';
import { quoteConfigValue } from './redis-config';
import { SerialQueue } from './serial-queue';
import type { SupervisedProcess } from './supervised-process';
import { settlesWithin, spawnSupervised } from './supervised-process';
import type { Address, DatabaseSpec, MemoryUsage } from './types';

/*
 * The shared data-plane shape, for estates of hundreds of databases: one redis-server per region serves every
 * database of that region, each in its own logical database (SELECT n). The private endpoints terminate TLS
 * with the region's certificate (every cluster hostName as a SAN), open a plaintext loopback connection to the
 * server, authenticate it as the database's own selector user (allowed `SELECT n` and nothing else), select n,
 * and from then on pipe bytes. Clients then AUTH as usual (access key or Entra ID) as users that may not
 * SELECT, SWAPDB, MOVE, FLUSHALL, FLUSHDB or run admin commands: a database sees only its own keys.
 */

const CONFIG_FILE = 'redis.conf';
const LOG_FILE = 'redis.log';
const DB_FILE = 'dump.rdb';
const ADMIN_USER = 'geofailover-admin';
const FRESH_PORT_ATTEMPTS = 5;
const SAME_PORT_ATTEMPTS = 20;
const SAME_PORT_RETRY_DELAY_IN_MS = 100;
const READY_POLL_INTERVAL_IN_MS = 20;
const SHUTDOWN_TIMEOUT_IN_MS = 15_000;
/** What an empty redis-server reports as used_memory: every emulated database reads this much at rest. */
export const EMPTY_DATABASE_BYTES = 1024 * 1024;
/**
 * A database's key bytes are measured again after this long, or at once when its key count changed: sampling
 * every database each second measured the same canary keys hundreds of times a second in a large estate.
 */
const KEY_BYTES_REUSE_MS = 5_000;
/** Above this many keys a database's memory is extrapolated from a sample of them. */
const MEMORY_SAMPLE_KEYS = 200;
/** What a client user may never do on a shared server: leave its database, or touch the server. */
const CLIENT_RESTRICTIONS = ['-@admin', '-select', '-swapdb', '-move', '-flushall', '-flushdb'];

class AddressInUseError extends Error {}

/** One database served by a shared server: its logical database, key, state and emulated metadata. */
export class SharedDatabase {
  readonly id: string;
  readonly index: number;
  readonly spec: DatabaseSpec;
  readonly server: SharedRedisServer;
  password: string;
  /** stopped on its own (deleted, or its region's outage) although the server may still run for others */
  stoppedHere = false;
  /** emulated geo-replication metadata (bytes); no keys are written for it at this scale */
  metadataBytes = 0;
  /** a flush asked for while the server was down: applied before anything reads it again */
  pendingFlush = false;
  /** what its keys took when last measured (MEMORY USAGE), and how many there were */
  keyBytesMeasured: { keys: number; keyBytes: number; atMs: number } | undefined;
  readonly #selectorSecret = randomBytes(18).toString('base64url');

  constructor(server: SharedRedisServer, spec: DatabaseSpec, index: number) {
    this.server = server;
    this.spec = spec;
    this.id = spec.id;
    this.index = index;
    this.password = spec.password;
  }

  get selectorUser(): string {
    return `geofailover-db-${this.index}`;
  }

  get selectorSecret(): string {
    return this.#selectorSecret;
  }

  get running(): boolean {
    return !this.stoppedHere && this.server.running;
  }

  /** The redis-server's own address (plaintext, shared): only private endpoints connect to it. */
  get address(): Address {
    return this.server.address;
  }

  start(): Promise<void> {
    return this.server.startDatabase(this);
  }

  stop(): Promise<void> {
    return this.server.stopDatabase(this);
  }

  flush(): Promise<void> {
    return this.server.flushDatabase(this);
  }

  setPassword(password: string): Promise<void> {
    return this.server.setDatabasePassword(this, password);
  }

  addEntraPassword(username: string, token: string, expiresAtMs: number): Promise<void> {
    return this.server.addEntraPassword(username, token, expiresAtMs);
  }

  memory(): Promise<MemoryUsage> {
    return this.server.memory(this);
  }

  /** Emulated: the reading grows by about `bytes`, never past `capBytes`. Returns the new reading; 0 when stopped. */
  async growMetadata(bytes: number, capBytes: number): Promise<number> {
    if (!this.running) return 0;
    const used = (await this.memory()).usedBytes;
    const target = Math.min(used + Math.max(0, bytes), capBytes);
    if (target > used) this.metadataBytes += target - used;
    return used + Math.max(0, target - used);
  }

  clearMetadata(): Promise<void> {
    if (this.running) this.metadataBytes = 0;
    return Promise.resolve();
  }

  /** The server closes with its last database. */
  close(): Promise<void> {
    return this.server.close();
  }

  /**
   * A private endpoint's connection: TLS terminated here (the region's certificate), then a loopback connection
   * to the server that selects this database before the client's first byte reaches it. A stopped database
   * resets the client at once, as a dead server behind a private endpoint does.
   */
  accept(client: Socket, track: (socket: Socket) => void): void {
    if (!this.running) {
      resetSocket(client);
      return;
    }
    const front: Socket = this.spec.tls
      ? new TLSSocket(client, { isServer: true, secureContext: this.server.secureContext })
      : client;
    front.on('error', () => resetSocket(client));
    const upstream = connect(this.server.address);
    upstream.setNoDelay(true);
    track(upstream);
    upstream.on('error', () => resetSocket(client));
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.write(`AUTH ${this.selectorUser} ${this.#selectorSecret}\r\nSELECT ${this.index}\r\n`);
    // Two replies (+OK, +OK) belong to the prelude; anything else means the database is not reachable.
    let prelude = Buffer.alloc(0);
    const onPrelude = (chunk: Buffer): void => {
      prelude = Buffer.concat([prelude, chunk]);
      const lines: number[] = [];
      for (let i = prelude.indexOf('\r\n'); i >= 0 && lines.length < 2; i = prelude.indexOf('\r\n', i + 2)) {
        lines.push(i);
      }
      if (lines.length < 2) return;
      upstream.off('data', onPrelude);
      if (!prelude.subarray(0, lines[1]).toString('latin1').startsWith('+OK\r\n+OK')) {
        resetSocket(client);
        upstream.destroy();
        return;
      }
      const rest = prelude.subarray((lines[1] as number) + 2);
      if (rest.length > 0) front.write(rest);
      upstream.pipe(front);
    };
    upstream.on('data', onPrelude);
    front.pipe(upstream);
  }
}

export interface SharedServerOptions {
  /** a label for errors and the directory, e.g. the region */
  name: string;
  directory: string;
  host: string;
  redisServerPath: string;
  ca: CertificateAuthority;
  startTimeoutInMs: number;
}

/** One redis-server shared by many databases (one logical database each). Operations are queued. */
export class SharedRedisServer {
  readonly name: string;
  readonly #options: SharedServerOptions;
  readonly #queue = new SerialQueue();
  readonly #databases: SharedDatabase[] = [];
  readonly #adminSecret = randomBytes(24).toString('base64url');
  /** Entra ID principals' live tokens: ACL user → sha256 of each token → its expiry (epoch ms). */
  readonly #entraPasswords = new Map<string, Map<string, number>>();
  #secureContext: SecureContext | undefined;
  #port = 0;
  #process: SupervisedProcess | undefined;
  #admin: AdminClient | undefined;
  #closed = false;
  /** memory readings asked for so far, and the last key counts (INFO keyspace) with how many had been asked then */
  #memoryAsks = 0;
  #keyspace: { asOf: number; keys: Map<number, number> } | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: SharedServerOptions) {
    this.name = options.name;
    this.#options = options;
  }

  /** Adds a database (before start). Its logical database is its position. */
  add(spec: DatabaseSpec): SharedDatabase {
    const database = new SharedDatabase(this, spec, this.#databases.length);
    this.#databases.push(database);
    return database;
  }

  get address(): Address {
    return { host: this.#options.host, port: this.#port };
  }

  get running(): boolean {
    return this.#process !== undefined && !this.#process.hasExited();
  }

  get secureContext(): SecureContext {
    if (this.#secureContext === undefined) throw new DataPlaneError('Closed', `${this.name} has no certificate`);
    return this.#secureContext;
  }

  /** Issues the region's certificate (every database's hostName), starts the server and sets its users. */
  async create(): Promise<void> {
    await mkdir(this.#options.directory, { recursive: true, mode: 0o700 });
    await rm(join(this.#options.directory, DB_FILE), { force: true });
    if (this.#databases.some((d) => d.spec.tls)) {
      const { ca, host } = this.#options;
      const ips = ['127.0.0.1', ...(isIP(host) !== 0 && host !== '127.0.0.1' ? [host] : [])];
      const names = [...new Set(this.#databases.map((d) => d.spec.hostName.toLowerCase()))];
      const certificate = await issueServerCertificate(ca, { dns: [...names, 'localhost'], ips });
      this.#secureContext = createSecureContext({ cert: certificate.cert, key: certificate.key });
    }
    await this.#queue.run(() => this.#launchOnFreshPort());
  }

  startDatabase(database: SharedDatabase): Promise<void> {
    return this.#queue.run(async () => {
      this.#assertOpen();
      if (!this.running) await this.#launchOnSamePort();
      database.stoppedHere = false;
    });
  }

  /** A database stops on its own: its connections drop; the server saves and exits with its last database. */
  stopDatabase(database: SharedDatabase): Promise<void> {
    return this.#queue.run(async () => {
      this.#assertOpen();
      database.stoppedHere = true;
      if (this.running && this.#databases.every((d) => d.stoppedHere)) await this.#shutdownSave();
    });
  }

  flushDatabase(database: SharedDatabase): Promise<void> {
    return this.#queue.run(async () => {
      this.#assertOpen();
      database.metadataBytes = 0;
      if (!this.running) {
        database.pendingFlush = true;
        return;
      }
      await this.#flush(database);
    });
  }

  setDatabasePassword(database: SharedDatabase, password: string): Promise<void> {
    return this.#queue.run(async () => {
      this.#assertOpen();
      database.password = password;
      if (this.running) await this.#setDefaultUser(await this.#adminClient());
    });
  }

  addEntraPassword(username: string, token: string, expiresAtMs: number): Promise<void> {
    const hash = createHash('sha256').update(token).digest('hex');
    return this.#queue.run(async () => {
      this.#assertOpen();
      const delayMs = expiresAtMs - Date.now();
      if (delayMs <= 0) return;
      const hashes = this.#entraPasswords.get(username) ?? new Map<string, number>();
      if (hashes.has(hash)) return;
      this.#entraPasswords.set(username, hashes);
      hashes.set(hash, expiresAtMs);
      setTimeout(() => void this.#removeEntraPassword(username, hash).catch(() => undefined), delayMs).unref();
      if (this.running)
        await (await this.#adminClient()).sendCommand(['ACL', 'SETUSER', ...clientRule(username, [hash])]);
    });
  }

  /**
   * INFO memory is the server's, not a database's: a database's reading is emulated as an empty server's
   * used_memory, plus its emulated metadata, plus what its own keys take (MEMORY USAGE, sampled when many),
   * against the database's own maxmemory.
   */
  memory(database: SharedDatabase): Promise<MemoryUsage> {
    const asked = ++this.#memoryAsks;
    return this.#queue.run(async () => {
      this.#assertOpen();
      if (!database.running) throw new DataPlaneError('DatabaseStopped', `database ${database.id} is stopped`);
      const client = await this.#adminClient();
      // Every database's key count in one INFO keyspace, shared by the readings asked for before it was taken: a
      // large estate's memory sampling (every database, every second) then costs one command, not two per database.
      let keyspace = this.#keyspace;
      if (!keyspace || keyspace.asOf < asked) {
        const asOf = this.#memoryAsks;
        keyspace = { asOf, keys: keyCounts(String(await client.info('keyspace'))) };
        this.#keyspace = keyspace;
      }
      const keys = keyspace.keys.get(database.index) ?? 0;
      let keyBytes = 0;
      const measured = database.keyBytesMeasured;
      if (keys > 0 && measured?.keys === keys && Date.now() - measured.atMs < KEY_BYTES_REUSE_MS) {
        keyBytes = measured.keyBytes;
      } else if (keys > 0) {
        await client.sendCommand(['SELECT', String(database.index)]);
        const sample: string[] = [];
        for (let cursor = '0'; ;) {
          const reply = (await client.sendCommand(['SCAN', cursor, 'COUNT', '100'])) as [string, string[]];
          cursor = String(reply[0]);
          sample.push(...reply[1]);
          if (cursor === '0' || sample.length >= MEMORY_SAMPLE_KEYS) break;
        }
        const sizes = await Promise.all(
          sample.map((key) => client.sendCommand(['MEMORY', 'USAGE', key]) as Promise<number | null>),
        );
        const sampled = sizes.reduce<number>((sum, n) => sum + (n ?? 0), 0);
        keyBytes = sample.length === 0 ? 0 : Math.round((sampled * keys) / sample.length);
        database.keyBytesMeasured = { keys, keyBytes, atMs: Date.now() };
      }
      return {
        usedBytes: EMPTY_DATABASE_BYTES + database.metadataBytes + keyBytes,
        maxBytes: database.spec.maxMemoryBytes,
      };
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#dropAdmin();
      await this.#process?.terminate();
      await this.#queue.run(async () => undefined);
    })();
    return this.#closing;
  }

  #removeEntraPassword(username: string, hash: string): Promise<void> {
    return this.#queue.run(async () => {
      if (this.#closed) return;
      const hashes = this.#entraPasswords.get(username);
      if (!hashes?.delete(hash)) return;
      if (this.running) await (await this.#adminClient()).sendCommand(['ACL', 'SETUSER', username, `!${hash}`]);
    });
  }

  async #flush(database: SharedDatabase): Promise<void> {
    const client = await this.#adminClient();
    await client.sendCommand(['SELECT', String(database.index)]);
    await client.sendCommand(['FLUSHDB', 'SYNC']);
    database.pendingFlush = false;
  }

  async #shutdownSave(): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.hasExited()) return;
    const client = await this.#adminClient();
    try {
      await client.sendCommand(['SHUTDOWN', 'SAVE']);
    } catch (error) {
      if (error instanceof ErrorReply) {
        throw new DataPlaneError('StopFailed', `redis-server ${this.name} refused SHUTDOWN SAVE: ${error.message}`);
      }
    }
    if (!(await settlesWithin(child.exited, SHUTDOWN_TIMEOUT_IN_MS))) {
      await child.terminate();
      throw new DataPlaneError(
        'StopFailed',
        `redis-server ${this.name} did not exit within ${SHUTDOWN_TIMEOUT_IN_MS} ms`,
      );
    }
    this.#dropAdmin();
  }

  async #writeConfig(): Promise<void> {
    const total = this.#databases.reduce((sum, d) => sum + d.spec.maxMemoryBytes, 0);
    const lines: [string, ...string[]][] = [
      ['bind', this.#options.host],
      ['protected-mode', 'yes'],
      ['daemonize', 'no'],
      ['logfile', ''],
      ['loglevel', 'notice'],
      ['dir', this.#options.directory],
      ['dbfilename', DB_FILE],
      ['save', ''],
      ['appendonly', 'no'],
      ['port', String(this.#port)],
      ['databases', String(Math.max(16, this.#databases.length))],
      // The databases' limits together; each database's own limit is applied to its emulated reading.
      ['maxmemory', String(total)],
      ['maxmemory-policy', 'noeviction'],
      ['maxclients', '10000'],
      ['user', 'default', 'off'],
      ['user', ADMIN_USER, 'on', `>${this.#adminSecret}`, '~*', '&*', '+@all'],
    ];
    const config = lines.map(([name, ...values]) => [name, ...values.map(quoteConfigValue)].join(' ')).join('\n');
    await writeFile(
      join(this.#options.directory, CONFIG_FILE),
      `# Generated by the geofailover emulator.\n${config}\n`,
      {
        mode: 0o600,
      },
    );
  }

  /** After a (re)start: the selector users, the access keys, the Entra users, then pending flushes. */
  async #applyUsers(client: AdminClient): Promise<void> {
    await Promise.all(
      this.#databases.map((d) =>
        client.sendCommand([
          'ACL',
          'SETUSER',
          d.selectorUser,
          'on',
          `>${d.selectorSecret}`,
          '-@all',
          `+select|${d.index}`,
        ]),
      ),
    );
    await this.#setDefaultUser(client);
    const now = Date.now();
    for (const [username, hashes] of this.#entraPasswords) {
      const live = [...hashes].filter(([, expiresAtMs]) => expiresAtMs > now).map(([hash]) => hash);
      if (live.length > 0) await client.sendCommand(['ACL', 'SETUSER', ...clientRule(username, live)]);
    }
    for (const d of this.#databases) if (d.pendingFlush) await this.#flush(d);
  }

  /** The default user takes every database's access key (one user for all the server's databases). */
  async #setDefaultUser(client: AdminClient): Promise<void> {
    const keys = [...new Set(this.#databases.map((d) => d.password))];
    await client.sendCommand([
      'ACL',
      'SETUSER',
      'default',
      'reset',
      ...(keys.length > 0 ? ['on', ...keys.map((k) => `>${k}`)] : ['off']),
      '~*',
      '&*',
      '+@all',
      ...CLIENT_RESTRICTIONS,
    ]);
  }

  async #launchOnFreshPort(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.#port = await findFreePort(this.#options.host, { stable: true });
      try {
        await this.#launch();
        return;
      } catch (error) {
        if (!(error instanceof AddressInUseError) || attempt >= FRESH_PORT_ATTEMPTS) throw this.#startFailed(error);
      }
    }
  }

  async #launchOnSamePort(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#launch();
        return;
      } catch (error) {
        if (!(error instanceof AddressInUseError) || attempt >= SAME_PORT_ATTEMPTS) throw this.#startFailed(error);
        await delay(SAME_PORT_RETRY_DELAY_IN_MS);
      }
    }
  }

  #startFailed(error: unknown): DataPlaneError {
    if (error instanceof DataPlaneError) return error;
    const reason = error instanceof Error ? error.message : String(error);
    return new DataPlaneError('StartFailed', `redis-server ${this.name} did not start: ${reason}`, { cause: error });
  }

  async #launch(): Promise<void> {
    this.#assertOpen();
    await this.#writeConfig();
    const directory = this.#options.directory;
    const logFile = join(directory, LOG_FILE);
    const logOffset = await fileSize(logFile);
    const configFile = join(directory, CONFIG_FILE);
    const child = spawnSupervised(this.#options.redisServerPath, [configFile], { cwd: directory, logFile });
    this.#process = child;
    void child.exited.then(() => {
      if (this.#process === child) this.#dropAdmin();
    });
    try {
      this.#admin = await this.#waitUntilReady(child, configFile);
      await this.#applyUsers(this.#admin);
    } catch (error) {
      await child.terminate();
      if (this.#process === child) this.#process = undefined;
      const log = await readLogSince(logFile, logOffset);
      if (/Address already in use/i.test(log)) throw new AddressInUseError(log);
      if (this.#closed) throw new DataPlaneError('Closed', `the data plane closed while ${this.name} was starting`);
      const detail = log.trim().split('\n').slice(-5).join('\n');
      const reason = error instanceof Error ? error.message : String(error);
      throw new DataPlaneError('StartFailed', `redis-server ${this.name} did not start: ${reason}\n${detail}`, {
        cause: error,
      });
    }
  }

  async #waitUntilReady(child: SupervisedProcess, configFile: string): Promise<AdminClient> {
    const deadline = Date.now() + this.#options.startTimeoutInMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (child.hasExited()) {
        const exit = await child.exited;
        throw new Error(exit.error !== undefined ? exit.error.message : `exited with ${exit.code ?? exit.signal}`);
      }
      if (this.#closed) throw new Error('closed');
      try {
        const client = await this.#connectAdmin(2_000);
        try {
          await client.ping();
          const server = parseInfo(await client.info('server'));
          if (server.get('config_file') !== configFile) throw new Error('another server answers on this port');
          return client;
        } catch (error) {
          discardClient(client);
          throw error;
        }
      } catch (error) {
        lastError = error;
      }
      await delay(READY_POLL_INTERVAL_IN_MS);
    }
    const reason = lastError instanceof Error ? lastError.message : String(lastError);
    throw new Error(`no authenticated PING within ${this.#options.startTimeoutInMs} ms (${reason})`);
  }

  #connectAdmin(connectTimeoutInMs: number): Promise<AdminClient> {
    return connectAdminClient(
      { host: this.#options.host, port: this.#port, password: this.#adminSecret, username: ADMIN_USER },
      { connectTimeoutInMs, onLost: (lost) => this.#dropAdmin(lost) },
    );
  }

  async #adminClient(): Promise<AdminClient> {
    if (this.#admin?.isReady === true) return this.#admin;
    this.#dropAdmin();
    this.#admin = await this.#connectAdmin(5_000);
    return this.#admin;
  }

  #dropAdmin(which?: AdminClient): void {
    const client = this.#admin;
    if (client === undefined || (which !== undefined && which !== client)) return;
    this.#admin = undefined;
    discardClient(client);
  }

  #assertOpen(): void {
    if (this.#closed) throw new DataPlaneError('Closed', 'the data plane is closed');
  }
}

/** Keys per logical database from INFO keyspace (`db3:keys=2,expires=1,…`); databases without keys are absent. */
function keyCounts(info: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const [name, value] of parseInfo(info)) {
    const db = /^db(\d+)$/.exec(name);
    const keys = /(?:^|,)keys=(\d+)/.exec(value);
    if (db && keys) counts.set(Number(db[1]), Number(keys[1]));
  }
  return counts;
}

/** A client user of a shared server: its database's keys only (the private endpoint selected it). */
function clientRule(username: string, hashes: string[]): string[] {
  return [username, 'on', ...hashes.map((hash) => `#${hash}`), '~*', '&*', '+@all', ...CLIENT_RESTRICTIONS];
}

function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting) {
    socket.destroy();
    return;
  }
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function readLogSince(path: string, offset: number): Promise<string> {
  try {
    return (await readFile(path)).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}
