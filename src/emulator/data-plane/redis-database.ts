import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorReply } from 'redis';
import type { CertificateAuthority } from '../certificates';
import { issueServerCertificate } from '../certificates';
import type { AdminClient, RedisTarget } from './admin-client';
import { connectAdminClient, discardClient } from './admin-client';
import { DataPlaneError } from './data-plane-error';
import { findFreePort } from './free-port';
import { clearMetadata, growMetadata } from './metadata-filler';
import { readForCopy, readStrings, writeStrings } from './string-keys';
import { parseInfo, readMemoryUsage } from './memory-info';
import { renderRedisConfig } from './redis-config';
import { SerialQueue } from './serial-queue';
import type { SupervisedProcess } from './supervised-process';
import { settlesWithin, spawnSupervised } from './supervised-process';
import type { Address, DatabaseSpec, MemoryUsage } from './types';

const CONFIG_FILE = 'redis.conf';
const LOG_FILE = 'redis.log';
const DB_FILE = 'dump.rdb';
const CERT_FILE = 'tls.crt';
const KEY_FILE = 'tls.key';
const CA_FILE = 'ca.crt';
const FRESH_PORT_ATTEMPTS = 5;
const SAME_PORT_ATTEMPTS = 20;
const SAME_PORT_RETRY_DELAY_IN_MS = 100;
const READY_POLL_INTERVAL_IN_MS = 20;
const SHUTDOWN_TIMEOUT_IN_MS = 15_000;
const KILL_TIMEOUT_IN_MS = 5_000;

export interface RedisDatabaseOptions {
  spec: DatabaseSpec;
  /** The database's own directory (exists, owned by the data plane). */
  directory: string;
  host: string;
  redisServerPath: string;
  ca: CertificateAuthority;
  startTimeoutInMs: number;
}

/** Thrown inside a start attempt when redis-server exits because another process holds its port. */
class AddressInUseError extends Error {}

/**
 * One database's redis-server: its files (config, certificate, rdb, log), its port for life, its process
 * and the one admin connection the data plane uses. Every operation is queued behind the previous one.
 */
export class RedisDatabase {
  readonly id: string;
  readonly directory: string;
  readonly #options: RedisDatabaseOptions;
  readonly #queue = new SerialQueue();
  // Clients see FLUSHALL as an unknown command, as on a geo-replicated cache; the data plane knows this name.
  readonly #flushCommand = `FLUSHALL_${randomBytes(16).toString('hex')}`;
  #password: string;
  /** Entra ID principals' live tokens: ACL user (object id) → sha256 of each token → its expiry (epoch ms). */
  readonly #entraPasswords = new Map<string, Map<string, number>>();
  #port = 0;
  #process: SupervisedProcess | undefined;
  #admin: AdminClient | undefined;
  #closed = false;

  private constructor(options: RedisDatabaseOptions) {
    this.#options = options;
    this.id = options.spec.id;
    this.directory = options.directory;
    this.#password = options.spec.password;
  }

  /** Writes the database's files, starts an empty redis-server on a fresh port and waits until it answers. */
  static async create(options: RedisDatabaseOptions): Promise<RedisDatabase> {
    const database = new RedisDatabase(options);
    await database.#prepareFiles();
    await database.#queue.run(() => database.#launchOnFreshPort());
    return database;
  }

  get address(): Address {
    return { host: this.#options.host, port: this.#port };
  }

  get running(): boolean {
    return this.#process !== undefined && !this.#process.hasExited();
  }

  /** Starts redis-server again on the same port, with the current password and the data saved at stop. */
  start(): Promise<void> {
    return this.#queue.run(async () => {
      this.#assertOpen();
      if (this.running) return;
      await this.#launchOnSamePort();
    });
  }

  /** SHUTDOWN SAVE: data reaches the rdb file, then the process is gone. Idempotent. */
  stop(): Promise<void> {
    return this.#queue.run(async () => {
      this.#assertOpen();
      const child = this.#process;
      if (child === undefined || child.hasExited()) return;
      const client = await this.#adminClient();
      try {
        await client.sendCommand(['SHUTDOWN', 'SAVE']);
      } catch (error) {
        // A successful SHUTDOWN never replies: the connection just closes. A reply means redis refused.
        if (error instanceof ErrorReply) {
          throw new DataPlaneError('StopFailed', `redis-server for ${this.id} refused SHUTDOWN SAVE: ${error.message}`);
        }
      }
      await this.#awaitExit(child, SHUTDOWN_TIMEOUT_IN_MS);
      this.#dropAdmin();
    });
  }

  /** Discards every key. On a stopped database the rdb file is removed, so it restarts empty. */
  flush(): Promise<void> {
    return this.#queue.run(async () => {
      this.#assertOpen();
      if (!this.running) {
        await rm(join(this.directory, DB_FILE), { force: true });
        return;
      }
      const client = await this.#adminClient();
      await client.sendCommand([this.#flushCommand, 'SYNC']);
    });
  }

  /** New requirepass at once (connections already authenticated stay so) and for every later start. */
  setPassword(password: string): Promise<void> {
    return this.#queue.run(async () => {
      this.#assertOpen();
      if (this.running) {
        const client = await this.#adminClient();
        await client.configSet('requirepass', password);
        // The admin connection was authenticated with the old key; the next one uses the new key.
        this.#dropAdmin();
      }
      this.#password = password;
      await this.#writeConfig();
    });
  }

  /**
   * Entra ID: the ACL user `username` (a principal's object id) accepts `token` as a password until `expiresAtMs`
   * (then it is removed), now and after every restart. Stored as a SHA-256 hash, never in clear.
   */
  addEntraPassword(username: string, token: string, expiresAtMs: number): Promise<void> {
    const hash = createHash('sha256').update(token).digest('hex');
    return this.#queue.run(async () => {
      this.#assertOpen();
      const delayMs = expiresAtMs - Date.now();
      if (delayMs <= 0) return;
      const hashes = this.#entraPasswords.get(username) ?? new Map<string, number>();
      this.#entraPasswords.set(username, hashes);
      hashes.set(hash, expiresAtMs);
      setTimeout(() => void this.#removeEntraPassword(username, hash).catch(() => undefined), delayMs).unref();
      if (this.running) await (await this.#adminClient()).sendCommand(['ACL', 'SETUSER', ...aclRule(username, [hash])]);
    });
  }

  #removeEntraPassword(username: string, hash: string): Promise<void> {
    return this.#queue.run(async () => {
      if (this.#closed) return;
      const hashes = this.#entraPasswords.get(username);
      if (!hashes?.delete(hash)) return;
      if (this.running) await (await this.#adminClient()).sendCommand(['ACL', 'SETUSER', username, `!${hash}`]);
    });
  }

  /** After a (re)start: the ACL users of every unexpired Entra token (redis-server keeps no ACL file). */
  async #applyEntraPasswords(client: AdminClient): Promise<void> {
    const now = Date.now();
    for (const [username, hashes] of this.#entraPasswords) {
      const live = [...hashes].filter(([, expiresAtMs]) => expiresAtMs > now).map(([hash]) => hash);
      if (live.length > 0) await client.sendCommand(['ACL', 'SETUSER', ...aclRule(username, live)]);
    }
  }

  /** INFO memory; throws DataPlaneError DatabaseStopped when the database is stopped. */
  memory(): Promise<MemoryUsage> {
    return this.#queue.run(async () => readMemoryUsage(await this.#runningAdminClient()));
  }

  /** See DataPlane.growMetadata. Returns 0 when stopped. */
  growMetadata(bytes: number, capBytes: number): Promise<number> {
    return this.#queue.run(async () => {
      this.#assertOpen();
      if (!this.running) return 0;
      return growMetadata(await this.#adminClient(), bytes, capBytes);
    });
  }

  /** See DataPlane.readStrings. Empty when stopped. */
  readStrings(): Promise<Map<string, string>> {
    return this.#queue.run(async () => {
      this.#assertOpen();
      return this.running ? readStrings(await this.#adminClient()) : new Map<string, string>();
    });
  }

  /** Values and TTLs of `keys`, for a copy to another member. Empty when stopped. */
  readForCopy(keys: readonly string[]): ReturnType<typeof readForCopy> {
    return this.#queue.run(async () => {
      this.#assertOpen();
      return this.running ? readForCopy(await this.#adminClient(), keys) : [];
    });
  }

  /** Writes copied keys. No-op when stopped. */
  writeStrings(entries: Parameters<typeof writeStrings>[1]): Promise<void> {
    return this.#queue.run(async () => {
      this.#assertOpen();
      if (this.running) await writeStrings(await this.#adminClient(), entries);
    });
  }

  /** See DataPlane.clearMetadata. No-op when stopped. */
  clearMetadata(): Promise<void> {
    return this.#queue.run(async () => {
      this.#assertOpen();
      if (!this.running) return;
      await clearMetadata(await this.#adminClient());
    });
  }

  /** Kills the process group at once (nothing is saved) and waits for it. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    // Not queued: a close must not wait behind a slow start, and it makes that start fail fast instead.
    this.#dropAdmin();
    await this.#process?.terminate();
    await this.#queue.run(async () => undefined);
  }

  async #prepareFiles(): Promise<void> {
    // A fresh database holds no data, whatever an earlier run left in the directory.
    await rm(join(this.directory, DB_FILE), { force: true });
    const { spec, ca, host } = this.#options;
    if (!spec.tls) return;
    const ips = ['127.0.0.1', ...(isIP(host) !== 0 && host !== '127.0.0.1' ? [host] : [])];
    const certificate = await issueServerCertificate(ca, { dns: [spec.hostName, 'localhost'], ips });
    await Promise.all([
      writeFile(join(this.directory, CERT_FILE), certificate.cert),
      writeFile(join(this.directory, KEY_FILE), certificate.key, { mode: 0o600 }),
      writeFile(join(this.directory, CA_FILE), ca.cert),
    ]);
  }

  async #writeConfig(): Promise<void> {
    const { spec, host } = this.#options;
    const config = renderRedisConfig({
      host,
      port: this.#port,
      directory: this.directory,
      dbFileName: DB_FILE,
      password: this.#password,
      maxMemoryBytes: spec.maxMemoryBytes,
      flushCommand: this.#flushCommand,
      tls: spec.tls
        ? {
            certFile: join(this.directory, CERT_FILE),
            keyFile: join(this.directory, KEY_FILE),
            caCertFile: join(this.directory, CA_FILE),
          }
        : undefined,
    });
    // Holds the access key.
    await writeFile(join(this.directory, CONFIG_FILE), config, { mode: 0o600 });
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
    // The port is part of the database's identity (forwarders point at it), so wait for it rather than move.
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
    return new DataPlaneError('StartFailed', `redis-server for ${this.id} did not start: ${reason}`, { cause: error });
  }

  async #launch(): Promise<void> {
    this.#assertOpen();
    await this.#writeConfig();
    const logFile = join(this.directory, LOG_FILE);
    const logOffset = await fileSize(logFile);
    const configFile = join(this.directory, CONFIG_FILE);
    const child = spawnSupervised(this.#options.redisServerPath, [configFile], { cwd: this.directory, logFile });
    this.#process = child;
    // A crash or an outside kill: the admin connection is dead too.
    void child.exited.then(() => {
      if (this.#process === child) this.#dropAdmin();
    });
    try {
      this.#admin = await this.#waitUntilReady(child, configFile);
      await this.#applyEntraPasswords(this.#admin);
    } catch (error) {
      await child.terminate();
      if (this.#process === child) this.#process = undefined;
      const log = await readLogSince(logFile, logOffset);
      if (/Address already in use/i.test(log)) throw new AddressInUseError(log);
      if (this.#closed) throw new DataPlaneError('Closed', `the data plane closed while ${this.id} was starting`);
      const detail = log.trim().split('\n').slice(-5).join('\n');
      const reason = error instanceof Error ? error.message : String(error);
      throw new DataPlaneError('StartFailed', `redis-server for ${this.id} did not start: ${reason}\n${detail}`, {
        cause: error,
      });
    }
  }

  /** Polls with an authenticated PING until it succeeds; the server must be ours (same config file). */
  async #waitUntilReady(child: SupervisedProcess, configFile: string): Promise<AdminClient> {
    const deadline = Date.now() + this.#options.startTimeoutInMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (child.hasExited()) {
        const exit = await child.exited;
        throw new Error(
          exit.error !== undefined
            ? exit.error.message
            : `exited with ${exit.code ?? exit.signal} (path: ${this.#options.redisServerPath})`,
        );
      }
      if (this.#closed) throw new Error('closed');
      try {
        const client = await connectAdminClient(this.#target(), {
          connectTimeoutInMs: 2_000,
          onLost: (lost) => this.#dropAdmin(lost),
        });
        try {
          await client.ping();
          // Another process may own the port if redis-server lost the race for it.
          const server = parseInfo(await client.info('server'));
          if (server.get('config_file') !== configFile) throw new Error('another server answers on this port');
          return client;
        } catch (error) {
          discardClient(client);
          throw error;
        }
      } catch (error) {
        // ECONNREFUSED until it listens; LOADING while it reads the rdb file.
        lastError = error;
      }
      await delay(READY_POLL_INTERVAL_IN_MS);
    }
    const reason = lastError instanceof Error ? lastError.message : String(lastError);
    throw new Error(`no authenticated PING within ${this.#options.startTimeoutInMs} ms (${reason})`);
  }

  #target(): RedisTarget {
    const { host, spec, ca } = this.#options;
    return {
      host,
      port: this.#port,
      password: this.#password,
      tls: spec.tls ? { ca: ca.cert, servername: spec.hostName } : undefined,
    };
  }

  async #adminClient(): Promise<AdminClient> {
    if (this.#admin?.isReady === true) return this.#admin;
    this.#dropAdmin();
    const client = await connectAdminClient(this.#target(), {
      connectTimeoutInMs: 5_000,
      onLost: (lost) => this.#dropAdmin(lost),
    });
    this.#admin = client;
    return client;
  }

  async #runningAdminClient(): Promise<AdminClient> {
    this.#assertOpen();
    if (!this.running) throw new DataPlaneError('DatabaseStopped', `database ${this.id} is stopped`);
    return this.#adminClient();
  }

  /** Drops the admin connection (only `which`, if given, so a late event cannot drop its successor). */
  #dropAdmin(which?: AdminClient): void {
    const client = this.#admin;
    if (client === undefined || (which !== undefined && which !== client)) return;
    this.#admin = undefined;
    discardClient(client);
  }

  async #awaitExit(child: SupervisedProcess, timeoutInMs: number): Promise<void> {
    if (await settlesWithin(child.exited, timeoutInMs)) return;
    await child.terminate(KILL_TIMEOUT_IN_MS);
    throw new DataPlaneError('StopFailed', `redis-server for ${this.id} did not exit within ${timeoutInMs} ms`);
  }

  #assertOpen(): void {
    if (this.#closed) throw new DataPlaneError('Closed', 'the data plane is closed');
  }
}

/** An Entra principal's ACL user: every key, channel and command (Data Owner), passwords by SHA-256 hash. */
function aclRule(username: string, hashes: string[]): string[] {
  return [username, 'on', ...hashes.map((hash) => `#${hash}`), '~*', '&*', '+@all'];
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
