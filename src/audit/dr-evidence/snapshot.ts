/**
 * The group snapshot of the DR evidence: every member's database and cluster as ARM shows them when the package is
 * written, read through the Azure SDK clients the activities use (built from the worker's configuration). What
 * cannot be read is said, member by member, and the package is written all the same.
 */
import { armClientsFor, type ArmClients } from '../../azure/clients';
import { parseDatabaseId } from '../../azure/resource-ids';
import type { GroupDefinition } from '../../contract/runbook';
import type { DrSnapshot, DrSnapshotMember } from './schema';

/** Reads at a time: a snapshot of a large estate must not look like a burst to ARM. */
const CONCURRENCY = 4;

interface RestErrorLike {
  name?: string;
  statusCode?: number;
  code?: string;
  message?: string;
}

function errorText(e: unknown): string {
  const r = e as RestErrorLike;
  const status = r?.statusCode ? `HTTP ${r.statusCode} ` : '';
  return `${status}${r?.code ?? ''}${r?.code && r?.message ? ': ' : ''}${r?.message ?? (r?.code ? '' : String(e))}`
    .trim()
    .slice(0, 500);
}

async function readMember(arm: ArmClients, region: string, databaseId: string): Promise<DrSnapshotMember> {
  const member: DrSnapshotMember = { region, databaseId, readable: false, modules: [] };
  try {
    const id = parseDatabaseId(databaseId);
    const { redis } = armClientsFor(arm, databaseId);
    const [cluster, database] = await Promise.all([
      redis.redisEnterprise.get(id.resourceGroupName, id.clusterName),
      redis.databases.get(id.resourceGroupName, id.clusterName, id.databaseName),
    ]);
    const geo = database.geoReplication;
    Object.assign(member, {
      readable: true,
      ...(geo?.groupNickname ? { groupNickname: geo.groupNickname } : {}),
      linkedDatabases: (geo?.linkedDatabases ?? []).map((l) => ({ id: l.id ?? '', state: l.state ?? 'Unknown' })),
      sku: cluster.sku.name,
      ...(cluster.sku.capacity !== undefined ? { capacity: cluster.sku.capacity } : {}),
      modules: (database.modules ?? [])
        .map((m) => ({
          name: m.name,
          ...(m.args ? { args: m.args } : {}),
          ...(m.version ? { version: m.version } : {}),
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      ...(database.evictionPolicy ? { evictionPolicy: database.evictionPolicy } : {}),
      ...(database.clusteringPolicy ? { clusteringPolicy: database.clusteringPolicy } : {}),
      ...(database.clientProtocol ? { clientProtocol: database.clientProtocol } : {}),
      ...(cluster.minimumTlsVersion ? { minimumTlsVersion: cluster.minimumTlsVersion } : {}),
      ...(database.provisioningState ? { provisioningState: database.provisioningState } : {}),
      ...(database.resourceState ? { resourceState: database.resourceState } : {}),
      ...(cluster.provisioningState ? { clusterProvisioningState: cluster.provisioningState } : {}),
      ...(cluster.resourceState ? { clusterResourceState: cluster.resourceState } : {}),
    });
  } catch (e) {
    member.error = errorText(e);
  }
  return member;
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Every member of every group, as ARM answers now; `status` says whether all, some or none could be read. */
export async function readSnapshot(
  arm: ArmClients,
  groups: readonly GroupDefinition[],
  at: Date = new Date(),
): Promise<DrSnapshot> {
  const members = groups.flatMap((g) =>
    Object.entries(g.members).map(([region, databaseId]) => ({ group: g.name, region, databaseId })),
  );
  const read = await mapLimited(members, CONCURRENCY, (m) => readMember(arm, m.region, m.databaseId));
  const readable = read.filter((m) => m.readable).length;
  const snapshot: DrSnapshot = {
    status: readable === read.length ? 'read' : readable === 0 ? 'unavailable' : 'partial',
    at: at.toISOString(),
    armEndpoint: arm.endpoint,
    groups: groups.map((g) => ({
      group: g.name,
      members: read.filter((_, i) => members[i]?.group === g.name),
    })),
  };
  if (snapshot.status === 'unavailable' && read.length) {
    snapshot.reason = `ARM at ${arm.endpoint} answered no member's read: ${read[0]?.error ?? 'no answer'}`;
  } else if (snapshot.status === 'partial') {
    snapshot.reason = `${read.length - readable} of ${read.length} member(s) could not be read (see each member)`;
  }
  return snapshot;
}

/** The snapshot when ARM cannot be read at all (no configuration, no credential): the package says why. */
export function unavailableSnapshot(reason: string, groups: readonly string[] = [], at: Date = new Date()): DrSnapshot {
  return {
    status: 'unavailable',
    at: at.toISOString(),
    reason,
    groups: groups.map((group) => ({ group, members: [] })),
  };
}
