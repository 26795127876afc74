import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCertificateAuthority, type CertificateAuthority } from '../../src/emulator/certificates';
import { DataPlane, type DatabaseSpec } from '../../src/emulator/data-plane';
import { probeRedisEndpoint, type ProbeResult, type ProbeTarget } from '../../src/redis/probe';

const tlsDb: DatabaseSpec = {
  id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redisEnterprise/probe-tls/databases/default',
  hostName: 'probe-tls.eastus.redis.azure.net',
  password: 'tls-key',
  tls: true,
  maxMemoryBytes: 32 * 1024 * 1024,
};
const plainDb: DatabaseSpec = {
  id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redisEnterprise/probe-plain/databases/default',
  hostName: 'probe-plain.westeurope.redis.azure.net',
  password: 'plain-key',
  tls: false,
  maxMemoryBytes: 32 * 1024 * 1024,
};

describe('probing a Redis endpoint from an application region', function () {
  this.timeout(30_000);
  let workDir: string;
  let ca: CertificateAuthority;
  let plane: DataPlane;

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'geofailover-probe-'));
    ca = await createCertificateAuthority();
    plane = await DataPlane.start({ workDir, ca }, [tlsDb, plainDb], ['eastus']);
  });
  after(async () => {
    await plane?.close();
    await rm(workDir, { recursive: true, force: true });
  });
  afterEach(() => {
    plane.setFirewall('eastus', tlsDb.id, 'open');
    plane.setFirewall('eastus', plainDb.id, 'open');
  });

  const target = (db: DatabaseSpec, overrides: Partial<ProbeTarget> = {}): ProbeTarget => {
    const a = plane.privateEndpoint('eastus', db.id);
    return {
      address: `${a.host}:${a.port}`,
      hostName: db.hostName,
      tls: db.tls,
      password: db.password,
      caPem: ca.cert,
      timeoutMs: 1_000,
      ...overrides,
    };
  };

  it('passes TCP, TLS verified against the host name, AUTH and PING, with latency', async () => {
    for (const db of [tlsDb, plainDb]) {
      const r = await probeRedisEndpoint(target(db));
      assert.equal(r.outcome, 'ok', r.error);
      assert.equal(r.passed, 'ping');
      assert.ok(r.tcpMs! >= 0 && r.totalMs! > 0);
    }
  });

  it('tells a firewall that refuses apart from one that never answers', async () => {
    plane.setFirewall('eastus', tlsDb.id, 'refuse');
    const refused = await probeRedisEndpoint(target(tlsDb));
    assert.equal(refused.outcome, 'refused');
    assert.equal(refused.failedStage, 'tcp');

    plane.setFirewall('eastus', plainDb.id, 'blackhole');
    const started = Date.now();
    const silent = await probeRedisEndpoint(target(plainDb, { timeoutMs: 500 }));
    assert.equal(silent.outcome, 'timeout');
    assert.equal(silent.failedStage, 'auth');
    assert.ok(Date.now() - started < 5_000, 'a black-holed endpoint must not hang the probe');
  });

  it('names a wrong access key as an AUTH failure', async () => {
    const r = await probeRedisEndpoint(target(plainDb, { password: 'stale-key' }));
    assert.equal(r.outcome, 'auth-error');
    assert.equal(r.failedStage, 'auth');
    assert.equal(r.passed, 'tls');
  });

  it('names an untrusted certificate or a wrong host name as a TLS failure', async () => {
    const other = await createCertificateAuthority('someone else');
    const wrongCa = await probeRedisEndpoint(target(tlsDb, { caPem: other.cert }));
    assert.equal(wrongCa.outcome, 'tls-error');
    assert.equal(wrongCa.failedStage, 'tls');
    const wrongName = await probeRedisEndpoint(target(tlsDb, { hostName: 'impostor.redis.azure.net' }));
    assert.equal(wrongName.outcome, 'tls-error');
  });

  it('reports a database that is down behind a reachable endpoint', async () => {
    await plane.stopDatabase(tlsDb.id);
    try {
      const r = await probeRedisEndpoint(target(tlsDb));
      assert.notEqual(r.outcome, 'ok');
      assert.equal(r.failedStage, 'tls');
    } finally {
      await plane.startDatabase(tlsDb.id);
    }
  });

  it('accepts an Entra token as a password of the ACL user until it expires, also after a restart', async () => {
    const user = '0b6f2c1e-entra-object-id';
    const token = 'entra-token-for-the-probe';
    const entra = (password: string): Promise<ProbeResult> =>
      probeRedisEndpoint(target(tlsDb, { username: user, password }));
    await plane.addEntraPassword(user, token, Date.now() + 2_500);
    const ok = await entra(token);
    assert.equal(ok.outcome, 'ok', ok.error);
    const wrong = await entra('another-token');
    assert.equal(wrong.outcome, 'auth-error');
    assert.equal(wrong.failedStage, 'auth');
    // redis-server keeps no ACL file: the data plane applies the live tokens again at start.
    await plane.stopDatabase(tlsDb.id);
    await plane.startDatabase(tlsDb.id);
    const restarted = await entra(token);
    assert.equal(restarted.outcome, 'ok', restarted.error);
    // The access key still works for the default user.
    assert.equal((await probeRedisEndpoint(target(tlsDb))).outcome, 'ok');
    await new Promise((r) => setTimeout(r, 2_800));
    const expired = await entra(token);
    assert.equal(expired.outcome, 'auth-error', 'removed at expiry');
    assert.equal(expired.failedStage, 'auth');
    assert.match(expired.error ?? '', /WRONGPASS/);
  });
});
