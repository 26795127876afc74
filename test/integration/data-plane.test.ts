import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ConnectionTimeoutError, createClient, SocketTimeoutError } from 'redis';
import type { CertificateAuthority } from '../../src/emulator/certificates';
import { createCertificateAuthority } from '../../src/emulator/certificates';
import type { Address, DatabaseSpec } from '../../src/emulator/data-plane';
import { DataPlane, DataPlaneError } from '../../src/emulator/data-plane';

const MiB = 1024 * 1024;
const REPO_ROOT = resolve(__dirname, '..', '..');
const execFileAsync = promisify(execFile);

const tlsDatabase: DatabaseSpec = {
  id: '/subscriptions/6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6/resourceGroups/rg-geofailover-demo/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-eastus/databases/default',
  hostName: 'redis-leaderboard-eastus.eastus.redis.azure.net',
  password: 'eastus-primary-key=',
  tls: true,
  maxMemoryBytes: 64 * MiB,
};
const plainDatabase: DatabaseSpec = {
  id: '/subscriptions/6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6/resourceGroups/rg-geofailover-demo/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-westeurope/databases/default',
  hostName: 'redis-leaderboard-westeurope.westeurope.redis.azure.net',
  password: 'westeurope "primary" key',
  tls: false,
  maxMemoryBytes: 64 * MiB,
};
const applicationRegions = ['eastus', 'westeurope'];

type Client = ReturnType<typeof createClient>;

interface ClientOptions {
  password?: string;
  /** Trusted CA; `null` trusts only the system store. */
  ca?: string | null;
  /** TLS name to verify; `null` verifies the IP address instead. */
  servername?: string | null;
  timeoutInMs?: number;
}

describe('emulator data plane', function () {
  this.timeout(20_000);

  let workDir: string;
  let ca: CertificateAuthority;
  let plane: DataPlane;
  const clients: Client[] = [];

  /** A node-redis client as an application would open it: TLS verified, no retries. */
  async function openClient(address: Address, database: DatabaseSpec, options: ClientOptions = {}): Promise<Client> {
    const timeout = options.timeoutInMs ?? 5_000;
    const common = {
      host: address.host,
      port: address.port,
      connectTimeout: timeout,
      socketTimeout: timeout,
      reconnectStrategy: false as const,
    };
    const tls = {
      tls: true as const,
      ...(options.ca === null ? {} : { ca: options.ca ?? ca.cert }),
      ...(options.servername === null ? {} : { servername: options.servername ?? database.hostName }),
    };
    const client = createClient({
      socket: database.tls ? { ...common, ...tls } : common,
      password: options.password ?? database.password,
      disableClientInfo: true,
    });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    return client;
  }

  /** Connects through TCP only and reports how the attempt ended. */
  function tcpOutcome(address: Address): Promise<{ code: string; elapsedInMs: number }> {
    const started = Date.now();
    return new Promise((settle) => {
      const socket = connectTcp(address.port, address.host);
      socket.setTimeout(2_000, () => {
        socket.destroy();
        settle({ code: 'TIMEOUT', elapsedInMs: Date.now() - started });
      });
      socket.once('error', (error: NodeJS.ErrnoException) =>
        settle({ code: error.code ?? 'ERROR', elapsedInMs: Date.now() - started }),
      );
      socket.once('connect', () => {
        // Accepted: the verdict comes from what happens next.
        socket.once('close', () => settle({ code: 'CLOSED', elapsedInMs: Date.now() - started }));
      });
    });
  }

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'geofailover-data-plane-'));
    ca = await createCertificateAuthority();
    plane = await DataPlane.start({ workDir, ca }, [tlsDatabase, plainDatabase], applicationRegions);
  });

  afterEach(() => {
    for (const client of clients.splice(0)) {
      try {
        client.destroy();
      } catch {
        // Already closed by the server or the forwarder.
      }
    }
  });

  after(async () => {
    await plane?.close();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  it('answers AUTH, PING and INFO memory through every private endpoint', async () => {
    const endpoints = plane.listPrivateEndpoints();
    assert.equal(endpoints.length, 4);
    const ports = new Set(endpoints.map((endpoint) => endpoint.address.port));
    ports.add(plane.endpoint(tlsDatabase.id).port).add(plane.endpoint(plainDatabase.id).port);
    assert.equal(ports.size, 6, 'every forwarder and server has its own port');
    assert.deepEqual(
      plane.endpoint(tlsDatabase.id.toUpperCase()),
      plane.endpoint(tlsDatabase.id),
      'ARM ids ignore case',
    );
    for (const { applicationRegion, databaseId, address, firewall } of endpoints) {
      assert.equal(firewall, 'open');
      assert.deepEqual(address, plane.privateEndpoint(applicationRegion, databaseId));
      const database = databaseId === tlsDatabase.id ? tlsDatabase : plainDatabase;
      const client = await openClient(address, database);
      assert.equal(await client.ping(), 'PONG');
      assert.match(await client.info('memory'), /used_memory:\d+/);
    }
  });

  it('verifies TLS against the CA by host name or by IP address, and refuses untrusted chains', async () => {
    const address = plane.privateEndpoint('westeurope', tlsDatabase.id);
    const byIp = await openClient(address, tlsDatabase, { servername: null });
    assert.equal(await byIp.ping(), 'PONG');
    await assert.rejects(openClient(address, tlsDatabase, { ca: null }), /self[- ]signed|unable to (get|verify)/i);
    await assert.rejects(openClient(address, tlsDatabase, { servername: 'elsewhere.redis.azure.net' }), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    await assert.rejects(openClient(plane.endpoint(tlsDatabase.id), plainDatabase), 'no plaintext on a TLS database');
  });

  it('refuses a wrong password', async () => {
    for (const database of [tlsDatabase, plainDatabase]) {
      const address = plane.privateEndpoint('eastus', database.id);
      await assert.rejects(openClient(address, database, { password: 'not-the-key' }), /WRONGPASS|invalid password/i);
    }
  });

  it('keeps data across an outage, and private endpoints fail fast meanwhile', async () => {
    const writer = await openClient(plane.privateEndpoint('eastus', tlsDatabase.id), tlsDatabase);
    await writer.set('leaderboard:top', 'alice');
    const serverPort = plane.endpoint(tlsDatabase.id).port;

    await plane.stopDatabase(tlsDatabase.id);
    assert.equal(plane.isRunning(tlsDatabase.id), false);
    assert.equal(plane.isRunning(plainDatabase.id), true);
    const started = Date.now();
    await assert.rejects(openClient(plane.privateEndpoint('westeurope', tlsDatabase.id), tlsDatabase));
    assert.ok(Date.now() - started < 1_000, `failed after ${Date.now() - started} ms`);
    await assert.rejects(
      plane.memory(tlsDatabase.id),
      (error) => error instanceof DataPlaneError && error.code === 'DatabaseStopped',
    );
    assert.equal(await plane.growMetadata(tlsDatabase.id, MiB, 60 * MiB), 0);
    await plane.stopDatabase(tlsDatabase.id);

    await plane.startDatabase(tlsDatabase.id);
    assert.equal(plane.isRunning(tlsDatabase.id), true);
    assert.equal(plane.endpoint(tlsDatabase.id).port, serverPort);
    const reader = await openClient(plane.privateEndpoint('westeurope', tlsDatabase.id), tlsDatabase);
    assert.equal(await reader.get('leaderboard:top'), 'alice');
  });

  it('applies firewall modes per application region and database', async () => {
    const blocked = plane.privateEndpoint('westeurope', plainDatabase.id);
    const established = await openClient(blocked, plainDatabase);

    plane.setFirewall('westeurope', plainDatabase.id, 'refuse');
    const refused = await tcpOutcome(blocked);
    assert.ok(['ECONNREFUSED', 'ECONNRESET'].includes(refused.code), `got ${refused.code}`);
    assert.ok(refused.elapsedInMs < 500, `refused after ${refused.elapsedInMs} ms`);
    await assert.rejects(established.ping(), 'an existing connection is cut');
    const other = await openClient(plane.privateEndpoint('eastus', plainDatabase.id), plainDatabase);
    assert.equal(await other.ping(), 'PONG', 'another region is unaffected');
    assert.deepEqual(
      plane.listPrivateEndpoints().map((endpoint) => endpoint.firewall),
      ['open', 'open', 'open', 'refuse'],
    );

    plane.setFirewall('westeurope', plainDatabase.id, 'blackhole');
    plane.setFirewall('eastus', tlsDatabase.id, 'blackhole');
    for (const [address, database] of [
      [blocked, plainDatabase],
      [plane.privateEndpoint('eastus', tlsDatabase.id), tlsDatabase],
    ] as const) {
      const started = Date.now();
      await assert.rejects(
        openClient(address, database, { timeoutInMs: 500 }),
        (error) => error instanceof ConnectionTimeoutError || error instanceof SocketTimeoutError,
      );
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 450 && elapsed < 2_000, `timed out after ${elapsed} ms`);
    }

    plane.setFirewall('westeurope', plainDatabase.id, 'open');
    plane.setFirewall('eastus', tlsDatabase.id, 'open');
    assert.equal(await (await openClient(blocked, plainDatabase)).ping(), 'PONG');
    const tlsAgain = await openClient(plane.privateEndpoint('eastus', tlsDatabase.id), tlsDatabase);
    assert.equal(await tlsAgain.ping(), 'PONG');
  });

  it('grows metadata memory up to the cap and releases it on clear', async () => {
    const capBytes = 0.9 * plainDatabase.maxMemoryBytes;
    const client = await openClient(plane.privateEndpoint('eastus', plainDatabase.id), plainDatabase);
    const usedMemory = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);
    const before = await plane.memory(plainDatabase.id);
    assert.equal(before.maxBytes, 64 * MiB);

    const grown = await plane.growMetadata(plainDatabase.id, 2 * MiB, capBytes);
    const seen = await usedMemory();
    assert.ok(seen - before.usedBytes >= 1.5 * MiB, `grew by ${seen - before.usedBytes} bytes`);
    assert.ok(grown - before.usedBytes <= 2 * MiB + 128 * 1024, `grew by ${grown - before.usedBytes} bytes`);
    assert.ok(Math.abs(seen - grown) < 64 * 1024);

    const capped = await plane.growMetadata(plainDatabase.id, 8 * MiB, grown + MiB);
    // Growth stops at the cap; how close below it depends on allocator and hash-table resizes.
    assert.ok(capped > grown && capped <= grown + MiB, `capped at ${capped}, cap ${grown + MiB}`);
    assert.ok((await plane.growMetadata(plainDatabase.id, MiB, capped)) <= capped);

    await plane.clearMetadata(plainDatabase.id);
    const cleared = await usedMemory();
    assert.ok(cleared < capped - 2.5 * MiB, `${cleared} after clear, ${capped} before`);
    assert.equal(await client.keys('__geo:metadata:*').then((keys) => keys.length), 0);
  });

  it('flushes a database although clients cannot FLUSHALL', async () => {
    const client = await openClient(plane.privateEndpoint('eastus', tlsDatabase.id), tlsDatabase);
    await client.set('leaderboard:top', 'bob');
    await assert.rejects(client.flushAll(), /unknown command/i);
    await assert.rejects(client.flushDb(), /unknown command/i);
    assert.ok((await client.dbSize()) > 0);
    await plane.flush(tlsDatabase.id);
    assert.equal(await client.dbSize(), 0);
  });

  it('regenerates the password, and keeps the new one across a restart', async () => {
    const address = plane.privateEndpoint('eastus', plainDatabase.id);
    const newKey = 'regenerated-key';
    await plane.setPassword(plainDatabase.id, newKey);
    await assert.rejects(openClient(address, plainDatabase), /WRONGPASS|invalid password/i);
    await plane.stopDatabase(plainDatabase.id);
    await plane.startDatabase(plainDatabase.id);
    assert.equal(await (await openClient(address, plainDatabase, { password: newKey })).ping(), 'PONG');
    await plane.setPassword(plainDatabase.id, plainDatabase.password);
  });

  it('close() stops every redis-server and forwarder, and is idempotent', async () => {
    const pids: number[] = [];
    for (const database of [tlsDatabase, plainDatabase]) {
      const client = await openClient(plane.endpoint(database.id), database);
      pids.push(Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1]));
    }
    const forwarder = plane.privateEndpoint('eastus', plainDatabase.id);
    const server = plane.endpoint(plainDatabase.id);

    await Promise.all([plane.close(), plane.close()]);
    await plane.close();

    for (const pid of pids) assert.equal(await isAlive(pid), false, `redis-server ${pid} still runs`);
    assert.deepEqual(await processesMentioning(workDir), []);
    assert.equal((await tcpOutcome(forwarder)).code, 'ECONNREFUSED');
    assert.equal((await tcpOutcome(server)).code, 'ECONNREFUSED');
    await assert.rejects(
      plane.startDatabase(plainDatabase.id),
      (error) => error instanceof DataPlaneError && error.code === 'Closed',
    );
  });

  it('leaves no redis-server behind when its Node process is killed', async () => {
    const childDir = await mkdtemp(join(tmpdir(), 'geofailover-data-plane-orphan-'));
    try {
      // A plaintext database needs no certificate, so the CA here is never used.
      const script = `
        const { DataPlane } = require('./src/emulator/data-plane');
        DataPlane.start({ workDir: ${JSON.stringify(childDir)}, ca: { cert: '', key: '' } },
          [{ id: 'orphan', hostName: 'localhost', password: 'k', tls: false, maxMemoryBytes: 8 * 1024 * 1024 }], ['eastus'])
          .then((plane) => { console.log(JSON.stringify(plane.endpoint('orphan'))); process.kill(process.pid, 'SIGKILL'); });
      `;
      const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const [, signal] = (await new Promise((settle) => child.once('exit', (...exit) => settle(exit)))) as [
        number | null,
        NodeJS.Signals | null,
      ];
      assert.equal(signal, 'SIGKILL');
      const address = JSON.parse(stdout) as Address;
      let outcome = await tcpOutcome(address);
      for (let attempt = 0; attempt < 50 && outcome.code !== 'ECONNREFUSED'; attempt++) {
        await delay(20);
        outcome = await tcpOutcome(address);
      }
      assert.equal(outcome.code, 'ECONNREFUSED', 'the orphaned redis-server still listens');
      assert.deepEqual(await processesMentioning(childDir), []);
    } finally {
      await rm(childDir, { recursive: true, force: true });
    }
  });
});

/** Alive and not a zombie (a zombie no longer runs; its parent may just not have reaped it yet). */
async function isAlive(pid: number): Promise<boolean> {
  try {
    const { stdout } = await execFileAsync('ps', ['-o', 'stat=', '-p', String(pid)]);
    return stdout.trim() !== '' && !stdout.trim().startsWith('Z');
  } catch {
    return false;
  }
}

/** Live processes whose command line mentions `text` (the supervisors carry the config path). */
async function processesMentioning(text: string): Promise<string[]> {
  try {
    const { stdout } = await execFileAsync('pgrep', ['-af', text]);
    return stdout.split('\n').filter((line) => line.trim() !== '');
  } catch {
    // pgrep exits 1 when nothing matches.
    return [];
  }
}
