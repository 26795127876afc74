import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config/load';
import type { GeofailoverConfig } from '../../src/config/schema';
import { activityDependenciesFromConfig, applicationRegionsOf, runWorker, WorkerSetupError } from '../../src/worker';
import { peopleConfig, personKey } from '../helpers/people';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const dbId = (region: string): string =>
  `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Cache/redisEnterprise/c-${region}/databases/default`;

function config(azure: Record<string, unknown>): GeofailoverConfig {
  const group = {
    members: { eastus: dbId('eastus'), westeurope: dbId('westeurope') },
    trafficManager: {
      profileId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Network/trafficManagerProfiles/tm`,
      endpoints: { eastus: { name: 'eastus' }, westeurope: { name: 'westeurope' } },
    },
    applicationRegions: {
      eastus: { eastus: '127.0.0.1:1', westeurope: '127.0.0.1:2' },
      brazilsouth: { eastus: '127.0.0.1:3', westeurope: '127.0.0.1:4' },
    },
    commanders: ['sre-lead'],
    approvers: ['sre-lead', 'sre-manager'],
  };
  // data-owner is one of the people but holds no role in g.
  const people = peopleConfig(['sre-lead', 'sre-manager', 'data-owner']);
  return parseConfig(JSON.stringify({ people, azure, groups: { g: group } }), 'test.json');
}

describe('worker wiring from the configuration', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'geofailover-worker-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('builds ARM clients for the configured endpoint, taking the subscription from the member ids', () => {
    const deps = activityDependenciesFromConfig(config({ endpoint: 'https://127.0.0.1:8443' }));
    assert.equal(deps.arm.subscriptionId, SUB);
    assert.equal(deps.arm.endpoint, 'https://127.0.0.1:8443');
    assert.equal(deps.arm.redisApiVersion, '2026-08-01');
    assert.equal(deps.caPem, undefined);
    const explicit = activityDependenciesFromConfig(config({ subscriptionId: 'other-sub' }));
    assert.equal(explicit.arm.subscriptionId, 'other-sub');
    assert.equal(explicit.arm.endpoint, 'https://management.azure.com');
  });

  it("holds the configuration's policy per group: its definition and the keys of the people with a role in it", () => {
    const { policies } = activityDependenciesFromConfig(config({}));
    assert.ok(policies, 'a worker built from a configuration holds a policy');
    const lookup = policies('g');
    assert.ok(lookup.found);
    assert.equal(lookup.policy.group.name, 'g');
    assert.deepEqual(lookup.policy.group.commanders, ['sre-lead']);
    assert.deepEqual(lookup.policy.group.approvers, ['sre-lead', 'sre-manager']);
    assert.deepEqual(lookup.policy.people, {
      'sre-lead': [personKey('sre-lead').publicKeyLine],
      'sre-manager': [personKey('sre-manager').publicKeyLine],
    });
    assert.match(lookup.policy.digest, /^sha256:[0-9a-f]{64}$/);
    const again = policies('g');
    assert.equal(again.found ? again.policy.digest : '', lookup.policy.digest, 'the same digest each time');
    const other = policies('payments');
    assert.equal(other.found, false);
    assert.match(other.found ? '' : other.reason, /no group "payments" \(groups: g\)/);
  });

  it('trusts azure.caFile, relative to the configuration directory, for ARM and the data plane', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    await writeFile(path.join(dir, 'ca.pem'), pem);
    const deps = activityDependenciesFromConfig(config({ endpoint: 'https://127.0.0.1:8443', caFile: 'ca.pem' }), {
      configDir: dir,
    });
    assert.equal(deps.caPem, pem);
  });

  it('names the field and the file when the CA cannot be read', () => {
    assert.throws(
      () => activityDependenciesFromConfig(config({ caFile: 'missing.pem' }), { configDir: dir }),
      (e: unknown) =>
        e instanceof WorkerSetupError &&
        e.message.startsWith('azure.caFile:') &&
        e.message.includes(path.join(dir, 'missing.pem')),
    );
  });

  it('refuses a probe region that no group probes from, naming the ones that exist, before connecting', async () => {
    const c = config({});
    assert.deepEqual(applicationRegionsOf(c), ['brazilsouth', 'eastus']);
    await assert.rejects(
      runWorker({ config: c, probeRegion: 'westeurope' }),
      (e: unknown) => e instanceof WorkerSetupError && /westeurope.*brazilsouth, eastus/.test(e.message),
    );
    await assert.rejects(runWorker({}), TypeError);
  });
});
