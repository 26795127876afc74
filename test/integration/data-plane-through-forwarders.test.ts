import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { createClient } from 'redis';
import { createArmClients, type ArmClients } from '../../src/azure/clients';
import { parseDatabaseId } from '../../src/azure/resource-ids';
import type { Emulator } from '../../src/emulator';
import { createCertificateAuthority } from '../../src/emulator/certificates';
import { emulatorCredential, redisEntraAuth, startTestEmulator } from '../helpers/emulator';

/*
 * Every private endpoint (application region × database) of the emulator's state, reached the way a probe
 * would: node-redis over TLS verified against the emulator's CA (server name: the cluster hostName ARM reports,
 * or its IP SAN), username and password an Entra token of the emulator's tenant (keys are Disabled), then AUTH + PING + INFO memory.
 */

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const CONNECT_TIMEOUT_MS = 3000;

interface Target {
  applicationRegion: string;
  databaseId: string;
  host: string;
  port: number;
}

interface Credentials {
  hostName: string;
  username: string;
  password: string;
}

/** The cluster hostName from ARM; AUTH with Entra ID (access keys are Disabled in the default scenario). */
async function credentialsFor(clients: ArmClients, emulator: Emulator, databaseId: string): Promise<Credentials> {
  const id = parseDatabaseId(databaseId);
  const [cluster, auth] = await Promise.all([
    clients.redis.redisEnterprise.get(id.resourceGroupName, id.clusterName),
    redisEntraAuth(emulator),
  ]);
  assert.ok(cluster.hostName, `${id.clusterName}: ARM reports no hostName`);
  return { hostName: cluster.hostName, ...auth };
}

/** AUTH + PING + INFO memory through one private endpoint; resolves to the INFO memory text. */
async function probe(target: Target, creds: Credentials, caPem: string): Promise<string> {
  const client = createClient({
    socket: {
      host: target.host,
      port: target.port,
      tls: true,
      ca: caPem,
      // SNI cannot carry an IP address; with an IP hostName Node checks the certificate's IP SAN instead.
      ...(isIP(creds.hostName) === 0 ? { servername: creds.hostName } : {}),
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: false,
    },
    username: creds.username,
    password: creds.password,
  });
  // Connection-level failures reach the 'error' listener; keep the first one as the reason.
  let socketError: unknown;
  client.on('error', (e: unknown) => {
    socketError ??= e;
  });
  try {
    await client.connect();
    assert.equal(await client.ping(), 'PONG');
    return await client.info('memory');
  } catch (e) {
    throw e instanceof Error ? e : (socketError ?? e);
  } finally {
    try {
      if (client.isOpen) await client.close();
      else client.destroy();
    } catch {
      // already closed by the failure itself
    }
  }
}

describe('data plane through the private-endpoint forwarders', function () {
  this.timeout(30_000);
  let emulator: Emulator;
  let clients: ArmClients;
  let targets: Target[];
  const creds = new Map<string, Credentials>();

  before(async () => {
    emulator = await startTestEmulator();
    clients = createArmClients({
      subscriptionId: SUB,
      endpoint: emulator.arm,
      caPem: emulator.caPem,
      credential: emulatorCredential(emulator),
      keepAlive: false,
    });
    targets = emulator.state().privateEndpoints.map((pe) => ({
      applicationRegion: pe.applicationRegion,
      databaseId: pe.databaseId,
      host: pe.address.host,
      port: pe.address.port,
    }));
    for (const databaseId of new Set(targets.map((t) => t.databaseId))) {
      creds.set(databaseId.toLowerCase(), await credentialsFor(clients, emulator, databaseId));
    }
  });
  after(async () => {
    await emulator?.close();
  });

  function credsOf(t: Target): Credentials {
    const c = creds.get(t.databaseId.toLowerCase());
    assert.ok(c, `no credentials for ${t.databaseId}`);
    return c;
  }

  it('lists a private endpoint for every application region × database', () => {
    const regions = emulator.scenario.applicationRegions;
    const databases = emulator.state().databases.map((d) => d.id.toLowerCase());
    assert.equal(databases.length, 3);
    assert.equal(targets.length, regions.length * databases.length);
    for (const region of regions) {
      for (const db of databases) {
        assert.ok(
          targets.some((t) => t.applicationRegion === region && t.databaseId.toLowerCase() === db),
          `${region} → ${db}`,
        );
      }
    }
    const ports = new Set(targets.map((t) => `${t.host}:${t.port}`));
    assert.equal(ports.size, targets.length, 'each pair has its own address');
  });

  it('AUTH + PING + INFO memory succeed through every forwarder, TLS verified against the emulator CA', async () => {
    const results = await Promise.allSettled(targets.map((t) => probe(t, credsOf(t), emulator.caPem)));
    const failures = results
      .map((r, i) => ({ r, t: targets[i] as Target }))
      .filter(({ r }) => r.status === 'rejected')
      .map(({ r, t }) => `${t.applicationRegion} → ${t.databaseId}: ${String((r as PromiseRejectedResult).reason)}`);
    assert.deepEqual(failures, []);
    for (const r of results) {
      const info = (r as PromiseFulfilledResult<string>).value;
      assert.match(info, /used_memory:\d+/);
      assert.match(info, /maxmemory:\d+/);
    }
  });

  it('a wrong password is refused (requirepass is the access key)', async () => {
    const t = targets[0] as Target;
    await assert.rejects(
      probe(t, { ...credsOf(t), password: 'not-the-key' }, emulator.caPem),
      /WRONGPASS|invalid|NOAUTH/i,
    );
  });

  it('a certificate from another CA is refused', async () => {
    const t = targets[0] as Target;
    const foreign = (await createCertificateAuthority('some other CA')).cert;
    await assert.rejects(probe(t, credsOf(t), foreign), /certificate|self[- ]signed|verify/i);
  });

  it('a firewall refuse fault makes that one forwarder fail fast while the others still work', async () => {
    const blocked = targets.find((t) => t.applicationRegion === 'westeurope' && /eastus/i.test(t.databaseId));
    assert.ok(blocked, 'westeurope → eastus endpoint');
    emulator.faults.firewall({ applicationRegion: 'westeurope', database: blocked.databaseId, mode: 'refuse' });
    try {
      const started = Date.now();
      await assert.rejects(probe(blocked, credsOf(blocked), emulator.caPem), /ECONNREFUSED/);
      const elapsed = Date.now() - started;
      assert.ok(elapsed < CONNECT_TIMEOUT_MS, `failed fast (${elapsed} ms), not by timeout`);

      const others = targets.filter((t) => t !== blocked);
      const results = await Promise.allSettled(others.map((t) => probe(t, credsOf(t), emulator.caPem)));
      const failures = results
        .filter((r) => r.status === 'rejected')
        .map((r) => String((r as PromiseRejectedResult).reason));
      assert.deepEqual(failures, [], 'every other forwarder still works');
      const pe = emulator
        .state()
        .privateEndpoints.find(
          (p) => p.applicationRegion === blocked.applicationRegion && p.databaseId === blocked.databaseId,
        );
      assert.equal(pe?.firewall, 'refuse');
    } finally {
      emulator.faults.firewall({ applicationRegion: 'westeurope', database: blocked.databaseId, mode: 'open' });
    }
    // reopened: the same address works again
    const info = await probe(blocked, credsOf(blocked), emulator.caPem);
    assert.match(info, /used_memory:\d+/);
  });
});
