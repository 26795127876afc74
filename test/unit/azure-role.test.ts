// The custom role in deploy/azure/geofailover-role.json must grant exactly the ARM actions the code calls. The
// calls are found in the source (every method of the official SDK clients' operation groups, every `begin…`
// operation of src/azure/operation-specs.ts, Azure Monitor metrics), each mapped to its ARM action below: a new
// ARM call without a mapping fails here, and so does a role that lacks an action or grants one nobody calls.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { RedisEnterpriseManagementClient } from '@azure/arm-redisenterprisecache';
import { TrafficManagerManagementClient } from '@azure/arm-trafficmanager';
import type { TokenCredential } from '@azure/core-auth';
import * as operationSpecs from '../../src/azure/operation-specs';

const ROOT = path.resolve(__dirname, '../..');
const ROLE_FILE = path.join(ROOT, 'deploy/azure/geofailover-role.json');
const REDIS = 'Microsoft.Cache/redisEnterprise';
const TM = 'Microsoft.Network/trafficManagerProfiles';
/** Polling any Microsoft.Cache long-running operation reads its Azure-AsyncOperation status. */
const LRO_STATUS = 'Microsoft.Cache/locations/operationsStatus/read';
const METRICS = 'Microsoft.Insights/metrics/read';
/** The endpoint types the configuration (EndpointRef) allows; the switch writes whichever the group names. */
const ENDPOINT_TYPES = ['externalEndpoints', 'azureEndpoints', 'nestedEndpoints'];
const endpointActions = (verb: string): string[] => ENDPOINT_TYPES.map((t) => `${TM}/${t}/${verb}`);

/** `client.group.method` → ARM actions; `lro`: a long-running operation (its status is polled). */
const SDK_ACTIONS: Record<string, { actions: string[]; lro?: boolean }> = {
  'redis.redisEnterprise.get': { actions: [`${REDIS}/read`] },
  'redis.redisEnterprise.list': { actions: [`${REDIS}/read`] },
  'redis.redisEnterprise.listByResourceGroup': { actions: [`${REDIS}/read`] },
  'redis.databases.get': { actions: [`${REDIS}/databases/read`] },
  'redis.databases.listByCluster': { actions: [`${REDIS}/databases/read`] },
  'redis.databases.listKeys': { actions: [`${REDIS}/databases/listKeys/action`] },
  'redis.databases.beginCreate': { actions: [`${REDIS}/databases/write`], lro: true },
  'redis.databases.beginCreateAndWait': { actions: [`${REDIS}/databases/write`], lro: true },
  'redis.databases.beginUpdate': { actions: [`${REDIS}/databases/write`], lro: true },
  'redis.databases.beginUpdateAndWait': { actions: [`${REDIS}/databases/write`], lro: true },
  'redis.databases.beginDelete': { actions: [`${REDIS}/databases/delete`], lro: true },
  'redis.databases.beginDeleteAndWait': { actions: [`${REDIS}/databases/delete`], lro: true },
  'redis.databases.beginForceUnlink': { actions: [`${REDIS}/databases/forceUnlink/action`], lro: true },
  'redis.databases.beginForceUnlinkAndWait': { actions: [`${REDIS}/databases/forceUnlink/action`], lro: true },
  'redis.databases.beginRegenerateKey': { actions: [`${REDIS}/databases/regenerateKey/action`], lro: true },
  'redis.operationsStatus.get': { actions: [LRO_STATUS] },
  'tm.profiles.get': { actions: [`${TM}/read`] },
  'tm.profiles.listByResourceGroup': { actions: [`${TM}/read`] },
  'tm.profiles.listBySubscription': { actions: [`${TM}/read`] },
  'tm.endpoints.get': { actions: [`${TM}/read`] },
  'tm.endpoints.update': { actions: endpointActions('write') },
  'tm.endpoints.createOrUpdate': { actions: endpointActions('write') },
  'tm.endpoints.delete': { actions: endpointActions('delete') },
};

/** The operations src/azure/operation-specs.ts adds to the Redis client (SDK 2.2.0 lacks them). */
const SPEC_ACTIONS: Record<string, string> = {
  beginForceLinkToReplicationGroup: `${REDIS}/databases/forceLinkToReplicationGroup/action`,
  beginForceLinkToReplicationGroupAndWait: `${REDIS}/databases/forceLinkToReplicationGroup/action`,
  beginFlush: `${REDIS}/databases/flush/action`,
  beginFlushAndWait: `${REDIS}/databases/flush/action`,
};

/** Method names of each operation group of the official clients, read from the SDK classes themselves. */
function sdkOperationGroups(): Map<string, { client: string; methods: Set<string> }> {
  const credential: TokenCredential = { getToken: async () => null };
  const groups = new Map<string, { client: string; methods: Set<string> }>();
  const clients = {
    redis: new RedisEnterpriseManagementClient(credential, '00000000-0000-0000-0000-000000000000'),
    tm: new TrafficManagerManagementClient(credential, '00000000-0000-0000-0000-000000000000'),
  };
  for (const [client, instance] of Object.entries(clients)) {
    for (const [name, value] of Object.entries(instance)) {
      if (name === 'pipeline' || !value || typeof value !== 'object') continue;
      const proto = Object.getPrototypeOf(value) as object;
      if (proto === Object.prototype) continue;
      const methods = Object.getOwnPropertyNames(proto).filter(
        (m) => m !== 'constructor' && !m.startsWith('_') && typeof (value as Record<string, unknown>)[m] === 'function',
      );
      if (methods.length > 0) groups.set(name, { client, methods: new Set(methods) });
    }
  }
  return groups;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'emulator' ? [] : sourceFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

interface Call {
  call: string;
  where: string;
}

/** Every ARM call in src/ (the emulator, which serves ARM, excluded). */
function armCalls(): { calls: Call[]; metrics: string[] } {
  const groups = sdkOperationGroups();
  const specOps = Object.keys(operationSpecs).filter(
    (k) => k.startsWith('begin') && typeof (operationSpecs as Record<string, unknown>)[k] === 'function',
  );
  const calls: Call[] = [];
  const metrics: string[] = [];
  for (const file of sourceFiles(path.join(ROOT, 'src'))) {
    const rel = path.relative(ROOT, file);
    const text = readFileSync(file, 'utf8');
    const lineOf = (index: number): string => `${rel}:${text.slice(0, index).split('\n').length}`;
    for (const m of text.matchAll(/\b([A-Za-z]+)\s*\.\s*([A-Za-z]+)\s*\(/g)) {
      const group = groups.get(m[1] as string);
      if (group?.methods.has(m[2] as string)) {
        calls.push({ call: `${group.client}.${m[1]}.${m[2]}`, where: lineOf(m.index) });
      }
    }
    for (const op of specOps) {
      for (const m of text.matchAll(new RegExp(`(?<!function\\s)\\b${op}\\s*\\(`, 'g'))) {
        // Calls inside operation-specs.ts itself (…AndWait calling begin…) count only when someone calls them.
        if (rel !== path.join('src', 'azure', 'operation-specs.ts')) calls.push({ call: op, where: lineOf(m.index) });
      }
    }
    if (/from '@azure\/monitor-query-metrics'|Microsoft\.Insights\/metrics/.test(text)) metrics.push(rel);
  }
  return { calls, metrics };
}

function actionsOf({ calls, metrics }: ReturnType<typeof armCalls>): Set<string> {
  const actions = new Set<string>();
  const unmapped: string[] = [];
  for (const { call, where } of calls) {
    const spec = SPEC_ACTIONS[call];
    if (spec) {
      actions.add(spec);
      actions.add(LRO_STATUS);
      continue;
    }
    const sdk = SDK_ACTIONS[call];
    if (!sdk) {
      unmapped.push(`${call} (${where})`);
      continue;
    }
    for (const a of sdk.actions) actions.add(a);
    if (sdk.lro) actions.add(LRO_STATUS);
  }
  assert.deepEqual(
    unmapped,
    [],
    'ARM calls without a mapping to their RBAC action: add them to SDK_ACTIONS or SPEC_ACTIONS in this test ' +
      'and the action to deploy/azure/geofailover-role.json',
  );
  // Azure Monitor: the worker's memory reads depend on @azure/monitor-query-metrics (package.json) or query it.
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  if (metrics.length > 0 || pkg.dependencies?.['@azure/monitor-query-metrics']) actions.add(METRICS);
  return actions;
}

describe('least privilege: the custom role equals the ARM actions the code calls', () => {
  const role = JSON.parse(readFileSync(ROLE_FILE, 'utf8')) as Record<string, unknown>;

  it('is an Azure custom role definition with a placeholder scope and no data actions', () => {
    assert.equal(role.IsCustom, true);
    assert.equal(typeof role.Name, 'string');
    assert.deepEqual(role.NotActions, []);
    assert.deepEqual(role.DataActions, []);
    const scopes = role.AssignableScopes as string[];
    assert.equal(scopes.length, 1);
    assert.match(scopes[0] as string, /^\/subscriptions\/0{8}-0{4}-0{4}-0{4}-0{12}\/resourceGroups\/REPLACE-/);
  });

  it('finds the calls the runbook makes (the scan itself works)', () => {
    const { calls } = armCalls();
    const names = new Set(calls.map((c) => c.call));
    for (const expected of [
      'redis.databases.get',
      'redis.databases.beginForceUnlink',
      'beginForceLinkToReplicationGroup',
      'tm.endpoints.update',
      'tm.profiles.get',
    ]) {
      assert.ok(names.has(expected), `the scan finds ${expected}`);
    }
  });

  it('grants exactly those actions, sorted', () => {
    const expected = [...actionsOf(armCalls())].sort();
    const actions = role.Actions as string[];
    assert.deepEqual(actions, [...actions].sort(), 'Actions are sorted');
    assert.deepEqual(actions, expected);
  });
});
