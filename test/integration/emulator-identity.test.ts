import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientSecretCredential } from '@azure/identity';
import { createArmClients } from '../../src/azure/clients';
import { classifyAzureError } from '../../src/azure/errors';
import { createClientSecretCredential, credentialFromConfig, IdentitySecretError } from '../../src/azure/credentials';
import { createAzureMonitorMetrics } from '../../src/azure/metrics';
import { parseConfig } from '../../src/config/load';
import { FAILURE_TYPES } from '../../src/contract/failures';
import { ARM_AUDIENCE, REDIS_AUDIENCE, type Emulator } from '../../src/emulator';
import { configForEmulator, writeIdentitySecret } from '../../src/emulator/config';
import { signJwt } from '../../src/emulator/identity';
import { activityDependenciesFromConfig, WorkerSetupError } from '../../src/worker';
import { emulatorCredential, startTestEmulator } from '../helpers/emulator';
import { APPROVERS, peopleConfig } from '../helpers/people';

/*
 * The emulator is the tenant's token issuer: @azure/identity's ClientSecretCredential obtains its tokens unchanged,
 * and ARM (metrics routes included) accepts only those — signed by its key, for ARM's audience, not expired.
 */

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const dbId = (region: string): string =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-${region}/databases/default`;
const GET_DB = `${dbId('eastus')}?api-version=2026-08-01`;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: { error?: { code?: string; message?: string } } & Record<string, unknown>;
}

function get(emulator: Emulator, url: string, token?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(url, emulator.arm),
      {
        method: 'GET',
        ca: emulator.caPem,
        agent: false,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString('utf8')));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
          resolve({ status: res.statusCode ?? 0, headers, body: data ? (JSON.parse(data) as Answer['body']) : {} });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function tokenOf(emulator: Emulator, scope: string): Promise<string> {
  const token = await emulatorCredential(emulator).getToken(scope);
  assert.ok(token, 'a token');
  return token.token;
}

describe('emulated identity: the tenant’s token issuer, and ARM accepting only its tokens', function () {
  this.timeout(60_000);
  let emulator: Emulator;

  before(async () => {
    emulator = await startTestEmulator({ identity: { principals: ['geofailover-worker', 'auditor'] } });
  });
  after(async () => {
    await emulator?.close();
  });

  it('ClientSecretCredential, unchanged, obtains a signed JWT with the principal’s claims; JWKS verifies it', async () => {
    const { authorityHost, tenantId, clientId, clientSecret } = emulator.identity;
    const credential = new ClientSecretCredential(tenantId, clientId, clientSecret, {
      authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: emulator.caPem },
    });
    const token = await credential.getToken(`${ARM_AUDIENCE}/.default`);
    assert.ok(token);
    assert.ok(token.expiresOnTimestamp > Date.now() + 50 * 60_000, 'an hour by default');
    const claims = claimsOf(token.token);
    const principal = emulator.issuer.principals[0];
    assert.ok(principal);
    assert.equal(claims.aud, ARM_AUDIENCE);
    assert.equal(claims.tid, tenantId);
    assert.equal(claims.iss, `${authorityHost}/${tenantId}/v2.0`);
    assert.equal(claims.appid, clientId);
    assert.equal(claims.oid, principal.objectId);
    assert.equal(typeof claims.iat, 'number');
    assert.equal(claims.nbf, claims.iat);
    assert.equal(claims.exp, (claims.iat as number) + 3600);

    // The OpenID metadata names the JWKS; its key verifies the token's signature.
    const ca = emulator.caPem;
    const fetchJson = (url: string): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        https
          .get(url, { ca, agent: false }, (res) => {
            let data = '';
            res.on('data', (c: Buffer) => (data += c.toString('utf8')));
            res.on('end', () => resolve(JSON.parse(data) as Record<string, unknown>));
          })
          .on('error', reject);
      });
    const metadata = await fetchJson(`${authorityHost}/${tenantId}/v2.0/.well-known/openid-configuration`);
    assert.equal(metadata.issuer, claims.iss);
    assert.equal(metadata.token_endpoint, `${authorityHost}/${tenantId}/oauth2/v2.0/token`);
    const jwks = (await fetchJson(String(metadata.jwks_uri))) as { keys: Record<string, unknown>[] };
    const [h, p, s] = token.token.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg: string; kid: string };
    assert.equal(header.alg, 'RS256');
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    assert.ok(jwk, 'the token’s kid is in the JWKS');
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')));
  });

  it('the token endpoint refuses a wrong secret and a resource it does not know, as Entra ID does', async () => {
    const { authorityHost, tenantId, clientId } = emulator.identity;
    const wrong = createClientSecretCredential({
      authorityHost,
      tenantId,
      clientId,
      clientSecret: 'nope',
      caPem: emulator.caPem,
    });
    await assert.rejects(wrong.getToken(`${ARM_AUDIENCE}/.default`), (e: Error) => {
      assert.match(e.message, /AADSTS7000215|invalid_client/);
      return true;
    });
    await assert.rejects(emulatorCredential(emulator).getToken('https://vault.azure.net/.default'), (e: Error) => {
      assert.match(e.message, /AADSTS500011|invalid_resource/);
      return true;
    });
  });

  it('ARM accepts the issued token and refuses none, another key, a wrong audience, an expiry (401, ARM codes)', async () => {
    assert.equal((await get(emulator, GET_DB, await tokenOf(emulator, `${ARM_AUDIENCE}/.default`))).status, 200);

    const expectRefusal = async (token: string | undefined, code: string): Promise<void> => {
      const answer = await get(emulator, GET_DB, token);
      assert.equal(answer.status, 401, JSON.stringify(answer.body));
      assert.equal(answer.body.error?.code, code, JSON.stringify(answer.body));
      const challenge = answer.headers['www-authenticate'] ?? '';
      assert.match(challenge, /^Bearer authorization_uri="https:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+"/);
      assert.ok(challenge.includes(emulator.identity.tenantId), challenge);
      assert.ok(answer.headers['x-ms-request-id'], 'ARM request id');
    };
    await expectRefusal(undefined, 'AuthenticationFailed');
    await expectRefusal('not-a-jwt', 'InvalidAuthenticationToken');

    // Same claims, signed by a key that is not the tenant's (same kid even).
    const good = claimsOf(emulator.issuer.mint(ARM_AUDIENCE));
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await expectRefusal(signJwt(good, privateKey, emulator.issuer.kid), 'InvalidAuthenticationToken');
    // An unsigned token, as the old static test credential made.
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.`;
    await expectRefusal(unsigned, 'InvalidAuthenticationToken');

    // The data plane's audience (a token the tenant did issue) is not ARM's.
    await expectRefusal(await tokenOf(emulator, `${REDIS_AUDIENCE}/.default`), 'InvalidAuthenticationTokenAudience');

    const now = Math.floor(Date.now() / 1000);
    await expectRefusal(
      emulator.issuer.mint(ARM_AUDIENCE, undefined, { iat: now - 7200, nbf: now - 7200, exp: now - 10 }),
      'ExpiredAuthenticationToken',
    );
  });

  it('the SDK clients and MetricsClient work end to end with issued tokens; a refused token is not retried', async () => {
    const arm = createArmClients({
      subscriptionId: SUB,
      endpoint: emulator.arm,
      caPem: emulator.caPem,
      credential: emulatorCredential(emulator),
      keepAlive: false,
      retryOptions: { maxRetries: 0 },
    });
    const db = await arm.redis.databases.get(RG, 'redis-leaderboard-eastus', 'default');
    assert.equal(db.id?.toLowerCase(), dbId('eastus').toLowerCase());
    const profiles = [];
    for await (const p of arm.trafficManager.profiles.listBySubscription()) profiles.push(p);
    assert.ok(profiles.length >= 1);

    const metrics = createAzureMonitorMetrics({
      endpoint: emulator.arm,
      caPem: emulator.caPem,
      credential: emulatorCredential(emulator),
      keepAlive: false,
      retryOptions: { maxRetries: 0 },
    });
    const [memory] = await metrics.readDatabaseMemory('eastus', [dbId('eastus')]);
    assert.equal(typeof memory?.usedPercent, 'number', JSON.stringify(memory));

    // A credential whose tokens ARM refuses: a non-retryable authentication finding, not a hang.
    const refused = createArmClients({
      subscriptionId: SUB,
      endpoint: emulator.arm,
      caPem: emulator.caPem,
      credential: { getToken: async () => ({ token: 'forged', expiresOnTimestamp: Date.now() + 3600_000 }) },
      keepAlive: false,
      retryOptions: { maxRetries: 0 },
    });
    const error = await refused.redis.databases.get(RG, 'redis-leaderboard-eastus', 'default').then(
      () => assert.fail('expected 401'),
      (e: unknown) => e,
    );
    assert.equal((error as { statusCode?: number }).statusCode, 401);
    assert.equal((error as { code?: string }).code, 'InvalidAuthenticationToken');
    const failure = classifyAzureError(error);
    assert.equal(failure.retryable, false, JSON.stringify(failure));
    assert.ok(Object.values(FAILURE_TYPES).includes(failure.type as never), failure.type);
  });

  it('a second principal the scenario grants gets its own oid', async () => {
    const auditor = emulator.issuer.principals.find((p) => p.name === 'auditor');
    assert.ok(auditor);
    const token = await emulatorCredential(emulator, auditor).getToken(`${ARM_AUDIENCE}/.default`);
    assert.ok(token);
    const claims = claimsOf(token.token);
    assert.equal(claims.oid, auditor.objectId);
    assert.equal(claims.appid, auditor.clientId);
    assert.notEqual(auditor.objectId, emulator.issuer.principals[0]?.objectId);
    assert.equal((await get(emulator, GET_DB, token.token)).status, 200);
  });

  it('the worker’s configuration: azure.identity with the secret in a file (mode 600) or an env variable', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-identity-'));
    try {
      const configFile = path.join(dir, 'geofailover.config.json');
      const identity = writeIdentitySecret(emulator.identity, configFile);
      assert.equal(statSync(identity.secretFile).mode & 0o777, 0o600);
      const written = configForEmulator(emulator.state(), emulator.caPath, {}, identity);
      assert.ok(!JSON.stringify(written).includes(emulator.identity.clientSecret), 'no secret in the configuration');
      const config = parseConfig(JSON.stringify({ ...written, people: peopleConfig(APPROVERS) }), configFile);
      const deps = activityDependenciesFromConfig(config, { configDir: dir, retryOptions: { maxRetries: 0 } });
      const db = await deps.arm.redis.databases.get(RG, 'redis-leaderboard-westeurope', 'default');
      assert.equal(db.id?.toLowerCase(), dbId('westeurope').toLowerCase());
      assert.ok(deps.metrics);
      const [memory] = await deps.metrics.readDatabaseMemory('westeurope', [dbId('westeurope')]);
      assert.equal(typeof memory?.usedPercent, 'number');

      // The secret inline is refused by the schema; an env variable works; a missing one fails the start.
      const inline = { ...written, people: peopleConfig(APPROVERS) } as {
        azure: { identity: Record<string, unknown> };
      };
      inline.azure.identity = { ...inline.azure.identity, clientSecret: emulator.identity.clientSecret };
      assert.throws(() => parseConfig(JSON.stringify(inline), configFile));
      const env = { GEOFAILOVER_TEST_SECRET: emulator.identity.clientSecret };
      const viaEnv = credentialFromConfig(
        { ...emulator.identity, clientSecret: { env: 'GEOFAILOVER_TEST_SECRET' } },
        { caPem: emulator.caPem, env },
      );
      assert.ok(await viaEnv.getToken(`${ARM_AUDIENCE}/.default`));
      assert.throws(
        () => credentialFromConfig({ ...emulator.identity, clientSecret: { env: 'GEOFAILOVER_UNSET' } }, { env: {} }),
        IdentitySecretError,
      );
      writeFileSync(identity.secretFile, '');
      assert.throws(() => activityDependenciesFromConfig(config, { configDir: dir }), WorkerSetupError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('emulated identity: short-lived tokens are refreshed by the credential', function () {
  this.timeout(60_000);
  let emulator: Emulator;

  before(async () => {
    emulator = await startTestEmulator({ identity: { tokenLifetimeSeconds: 2 } });
  });
  after(async () => {
    await emulator?.close();
  });

  it('a token that expires during the test is replaced: the calls after its expiry still succeed', async () => {
    const credential = emulatorCredential(emulator);
    const first = await credential.getToken(`${ARM_AUDIENCE}/.default`);
    assert.ok(first);
    assert.ok(first.expiresOnTimestamp <= Date.now() + 2500);
    const arm = createArmClients({
      subscriptionId: SUB,
      endpoint: emulator.arm,
      caPem: emulator.caPem,
      credential,
      keepAlive: false,
      retryOptions: { maxRetries: 0 },
    });
    const issuedBefore = emulator.issuer.issuedCount;
    await arm.redis.databases.get(RG, 'redis-leaderboard-eastus', 'default');
    await sleep(2500);
    // the first token is expired now: ARM refuses it …
    const stale = await get(emulator, GET_DB, first.token);
    assert.equal(stale.status, 401);
    assert.equal(stale.body.error?.code, 'ExpiredAuthenticationToken');
    // … and the clients, through the same credential, get a new one
    await arm.redis.databases.get(RG, 'redis-leaderboard-westeurope', 'default');
    assert.ok(emulator.issuer.issuedCount > issuedBefore, 'the credential went back to the token endpoint');
    const second = await credential.getToken(`${ARM_AUDIENCE}/.default`);
    assert.ok(second);
    assert.notEqual(second.token, first.token);
    assert.ok(second.expiresOnTimestamp > first.expiresOnTimestamp);
  });
});
