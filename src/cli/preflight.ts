/**
 * What `start --dry-run` checks in the live world, beyond the plan: that the Temporal server answers, that workers
 * poll every task queue the run needs (the main queue and the probe queue of each application region), and that
 * ARM answers and every member of the group can be read through the same Azure SDK clients the activities use.
 * A dry run that passes these is a start that would run; one that fails says what to do first.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { probeTaskQueue } from '../contract/names';
import type { GroupDefinition } from '../contract/runbook';
import type { LoadedConfig } from './resolve';
import type * as ResourceIdsModule from '../azure/resource-ids';
import type * as ArmClientsModule from '../azure/clients';
import type * as CredentialsModule from '../azure/credentials';

/** One check of the live world, as `start --dry-run` prints it (and lists under `checks` with --json). */
export interface PreflightCheck {
  /** `temporal`, `worker <task queue>`, `arm`, `member <region>` */
  check: string;
  ok: boolean;
  /** what was found */
  detail: string;
  /** what to do about a failed check */
  next?: string;
}

/** How recently a poller must have polled to count: a live worker's long poll is renewed about every minute. */
const POLLER_FRESH_MS = 120_000;
/** One try per request, each bounded by azure.requestTimeoutMs: a check, not a run that must ride out 429s. */
const ARM_RETRIES = 0;

const OFFLINE = 'or pass --offline to see only the plan';

/** The task queues a failover of `group` needs a worker on: the main queue, then each application region's probe queue. */
export function neededTaskQueues(
  group: GroupDefinition,
  taskQueue: string,
): { name: string; kind: 'main' | 'probe'; region?: string }[] {
  return [
    { name: taskQueue, kind: 'main' },
    ...Object.keys(group.applicationRegions)
      .sort()
      .map((region) => ({ name: probeTaskQueue(region), kind: 'probe' as const, region })),
  ];
}

function timestampMs(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined {
  if (!t) return undefined;
  const s = t.seconds as number | { toNumber(): number } | null | undefined;
  const seconds = typeof s === 'number' ? s : s ? s.toNumber() : 0;
  return seconds * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}

/** Pollers seen on a queue lately (workflow tasks for the main queue, activity tasks for a probe queue). */
async function freshPollers(client: Client, name: string, type: 'workflow' | 'activity'): Promise<number> {
  const response = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name, kind: 1 }, // TASK_QUEUE_KIND_NORMAL
    taskQueueType: type === 'workflow' ? 1 : 2,
  });
  const now = Date.now();
  return (response.pollers ?? []).filter((p) => {
    const at = timestampMs(p.lastAccessTime);
    return at === undefined || now - at <= POLLER_FRESH_MS;
  }).length;
}

/**
 * Temporal and its workers: is the server there, and does a worker poll each queue the run needs?
 * `connect` is the CLI's client (it fails fast, naming the address, when nothing answers).
 */
export async function temporalChecks(
  connect: () => Promise<Client>,
  target: () => { address: string; namespace: string },
  group: GroupDefinition,
  taskQueue: string,
): Promise<PreflightCheck[]> {
  let client: Client;
  try {
    client = await connect();
  } catch (e) {
    const hint = (e as { hint?: string }).hint;
    return [
      {
        check: 'temporal',
        ok: false,
        detail: (e as Error)?.message ?? String(e),
        next: `${hint ?? 'start one: temporal server start-dev'}; ${OFFLINE}`,
      },
    ];
  }
  const { address, namespace } = target();
  const checks: PreflightCheck[] = [
    { check: 'temporal', ok: true, detail: `Temporal answers at ${address} (namespace ${namespace})` },
  ];
  const queues = neededTaskQueues(group, taskQueue);
  const counts = await Promise.all(
    queues.map((q) =>
      freshPollers(client, q.name, q.kind === 'main' ? 'workflow' : 'activity').catch((e: unknown) => e as Error),
    ),
  );
  queues.forEach((q, i) => {
    const count = counts[i];
    const check = `worker ${q.name}`;
    if (count instanceof Error) {
      checks.push({ check, ok: false, detail: `cannot describe task queue ${q.name}: ${count.message}` });
    } else if (count === 0) {
      checks.push({
        check,
        ok: false,
        detail: `no worker polls task queue ${q.name}`,
        next:
          q.kind === 'main'
            ? 'start the main worker: geofailover worker'
            : `start a probe worker in application region ${q.region}: geofailover worker --probe-region ${q.region}`,
      });
    } else {
      checks.push({ check, ok: true, detail: `${count} worker(s) poll task queue ${q.name}` });
    }
  });
  return checks;
}

interface RestErrorLike {
  name?: string;
  statusCode?: number;
  code?: string;
  message?: string;
}

/* eslint-disable @typescript-eslint/no-require-imports -- the Azure SDK only for a dry run that checks Azure */
const azureModules = (): {
  ids: typeof ResourceIdsModule;
  clients: typeof ArmClientsModule;
  credentials: typeof CredentialsModule;
} => ({
  ids: require('../azure/resource-ids') as typeof ResourceIdsModule,
  clients: require('../azure/clients') as typeof ArmClientsModule,
  credentials: require('../azure/credentials') as typeof CredentialsModule,
});
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * The ARM clients of the configuration's `azure` section, built as the worker builds the activities' (same
 * endpoint, subscription, CA, credential, api-version and request timeout; src/worker.ts
 * activityDependenciesFromConfig) without loading the worker runtime, and with no retries.
 * @throws Error naming the field when the CA or the identity's secret cannot be read, or no subscription is known.
 */
export function armClientsOf(loaded: LoadedConfig): ArmClientsModule.ArmClients {
  const { ids, clients, credentials } = azureModules();
  const { azure, groups } = loaded.config;
  const configDir = path.dirname(loaded.file);
  const firstMember = Object.values(groups).flatMap((g) => Object.values(g.members))[0];
  let subscriptionId = azure.subscriptionId;
  if (!subscriptionId && firstMember) subscriptionId = ids.parseDatabaseId(firstMember).subscriptionId;
  if (!subscriptionId) throw new Error('azure.subscriptionId: not set, and no member resource id names a subscription');
  let caPem: string | undefined;
  if (azure.caFile) {
    const file = path.resolve(configDir, azure.caFile);
    try {
      caPem = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`azure.caFile: cannot read ${file} (${(e as Error).message})`);
    }
  }
  const credential = azure.identity
    ? credentials.credentialFromConfig(azure.identity, { configDir, ...(caPem !== undefined ? { caPem } : {}) })
    : undefined;
  return clients.createArmClients({
    subscriptionId,
    endpoint: azure.endpoint,
    redisApiVersion: azure.redisApiVersion,
    requestTimeoutMs: azure.requestTimeoutMs,
    ...(credential !== undefined ? { credential } : {}),
    ...(caPem !== undefined ? { caPem } : {}),
    retryOptions: { maxRetries: ARM_RETRIES },
  });
}

/**
 * ARM and the group's members: each member's database read (GET) through the activities' own clients, built from
 * the configuration's `azure` section as the worker builds them.
 */
export async function azureChecks(loaded: LoadedConfig, group: GroupDefinition): Promise<PreflightCheck[]> {
  const configNext = `check the azure section of ${loaded.file}`;
  let arm: ArmClientsModule.ArmClients;
  try {
    arm = armClientsOf(loaded);
  } catch (e) {
    return [{ check: 'arm', ok: false, detail: (e as Error).message, next: configNext }];
  }
  const { parseDatabaseId } = azureModules().ids;
  const { armClientsFor } = azureModules().clients;
  const regions = Object.keys(group.members);
  const reads = await Promise.all(
    regions.map(async (region) => {
      const databaseId = group.members[region]!;
      try {
        const id = parseDatabaseId(databaseId);
        const db = await armClientsFor(arm, databaseId).redis.databases.get(
          id.resourceGroupName,
          id.clusterName,
          id.databaseName,
        );
        return { region, databaseId, state: `${db.provisioningState ?? '?'}/${db.resourceState ?? '?'}` };
      } catch (e) {
        return { region, databaseId, error: e as RestErrorLike };
      }
    }),
  );
  const answered = reads.filter((r) => !r.error || r.error.statusCode !== undefined);
  if (answered.length === 0) {
    const why = reads[0]?.error;
    if (/credential|authentication/i.test(`${why?.name ?? ''}`)) {
      return [
        {
          check: 'arm',
          ok: false,
          detail: `no token for ARM at ${arm.endpoint}: ${why?.message ?? why?.name}`,
          next:
            'sign in as the identity the worker uses (az login, a workload or managed identity), or set ' +
            `azure.identity in ${loaded.file}`,
        },
      ];
    }
    return [
      {
        check: 'arm',
        ok: false,
        detail: `no answer from ARM at ${arm.endpoint}: ${why?.code ?? why?.message ?? 'no response'}`,
        next: `${configNext} (azure.endpoint, azure.caFile); for a drill, start the emulator: geofailover emulator`,
      },
    ];
  }
  const checks: PreflightCheck[] = [{ check: 'arm', ok: true, detail: `ARM answers at ${arm.endpoint}` }];
  for (const r of reads) {
    const check = `member ${r.region}`;
    if (!r.error) {
      checks.push({ check, ok: true, detail: `${r.region}: ${r.databaseId} reads ${r.state}` });
      continue;
    }
    const status = r.error.statusCode;
    checks.push({
      check,
      ok: false,
      detail:
        `${r.region}: cannot read ${r.databaseId}: ${status ? `HTTP ${status} ` : ''}${r.error.message ?? r.error.code ?? ''}`.trim(),
      next:
        status === 401 || status === 403
          ? "give the worker's identity read access to the member (and the runbook's roles for the start)"
          : status === 404
            ? `fix groups.${group.name}.members.${r.region} in ${loaded.file}: no such database`
            : `check that ARM serves ${r.databaseId}`,
    });
  }
  return checks;
}

/** The checks as text: one line each, what to do under a failed one. */
export function renderChecks(checks: readonly PreflightCheck[]): string[] {
  const lines = ['live checks:'];
  for (const c of checks) {
    lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.detail}`);
    if (!c.ok && c.next) lines.push(`       next: ${c.next}`);
  }
  return lines;
}
