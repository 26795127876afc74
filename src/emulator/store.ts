/**
 * In-memory ARM state: clusters, databases (with their geo-replication views) and Traffic Manager
 * profiles. Pure: no I/O, no timers, no randomness (keys and ports are handed in). Lookups are
 * case-insensitive, as ARM's are; records keep the casing they were created with.
 */
import type { Scenario } from './scenario';

export type ProvisioningState = 'Succeeded' | 'Failed' | 'Canceled' | 'Creating' | 'Updating' | 'Deleting';
export type ResourceState =
  'Running' | 'Creating' | 'CreateFailed' | 'Updating' | 'UpdateFailed' | 'Deleting' | 'DeleteFailed' | 'Disabled';
export type LinkState = 'Linked' | 'Linking' | 'Unlinking' | 'LinkFailed' | 'UnlinkFailed';
export type EndpointType = 'ExternalEndpoints' | 'AzureEndpoints' | 'NestedEndpoints';
export const ENDPOINT_TYPES: readonly EndpointType[] = ['ExternalEndpoints', 'AzureEndpoints', 'NestedEndpoints'];

export interface AccessKeys {
  primaryKey: string;
  secondaryKey: string;
}

export interface ClusterRecord {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  sku: { name: string; capacity?: number };
  highAvailability: 'Enabled' | 'Disabled';
  minimumTlsVersion: string;
  zones?: string[];
  tags: Record<string, string>;
  hostName: string;
}

export interface LinkedDatabase {
  id: string;
  state: LinkState;
}

export interface DatabaseSettings {
  clientProtocol: 'Encrypted' | 'Plaintext';
  clusteringPolicy: string;
  evictionPolicy: string;
  modules: { name: string; args?: string; version?: string }[];
  persistence: { aofEnabled: boolean; rdbEnabled: boolean; aofFrequency?: string; rdbFrequency?: string };
  accessKeysAuthentication: 'Enabled' | 'Disabled';
  deferUpgrade: 'Deferred' | 'NotDeferred';
  notifyKeyspaceEvents: string;
}

/** How a database looks while an operation runs (rendered, not yet applied). */
export interface ActiveOperation {
  id: string;
  name: string;
  geoView?: { groupNickname: string; linkedDatabases: LinkedDatabase[] };
}

export interface DatabaseRecord {
  id: string;
  clusterId: string;
  clusterName: string;
  name: string;
  location: string;
  settings: DatabaseSettings;
  port: number;
  maxMemoryBytes: number;
  provisioningState: ProvisioningState;
  resourceState: ResourceState;
  geoReplication?: { groupNickname: string; linkedDatabases: LinkedDatabase[] };
  keys: AccessKeys;
  activeOperation?: ActiveOperation;
}

/**
 * A database the data plane can serve: every scenario database, plus `default` for clusters that
 * start without one, so a database can be deleted and created again under the same cluster.
 */
export interface DatabaseSlot {
  id: string;
  clusterId: string;
  name: string;
  maxMemoryBytes: number;
  /** the data plane serves TLS (Encrypted) or plain text; fixed for the emulator's lifetime */
  clientProtocol: 'Encrypted' | 'Plaintext';
}

export interface EndpointProperties {
  target?: string;
  targetResourceId?: string;
  endpointStatus: 'Enabled' | 'Disabled';
  weight?: number;
  priority?: number;
  endpointLocation?: string;
  minChildEndpoints?: number;
  minChildEndpointsIPv4?: number;
  minChildEndpointsIPv6?: number;
  geoMapping?: string[];
  subnets?: { first?: string; last?: string; scope?: number }[];
  customHeaders?: { name?: string; value?: string }[];
  alwaysServe?: 'Enabled' | 'Disabled';
}

export interface EndpointRecord {
  id: string;
  name: string;
  type: EndpointType;
  properties: EndpointProperties;
  /**
   * Until when (epoch ms) the endpoint shows `CheckingEndpoint` after it was enabled or created enabled: Azure
   * reports that until the first health probe answers. Undefined: probed long ago.
   */
  checkingUntilMs?: number;
}

export interface ProfileRecord {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  tags: Record<string, string>;
  profileStatus: 'Enabled' | 'Disabled';
  trafficRoutingMethod: string;
  dnsConfig: { relativeName: string; ttl: number };
  monitorConfig: {
    protocol: string;
    port: number;
    path?: string;
    intervalInSeconds: number;
    timeoutInSeconds: number;
    toleratedNumberOfFailures: number;
  };
  endpoints: EndpointRecord[];
}

export const REDIS_PROVIDER = 'Microsoft.Cache';
export const CLUSTER_TYPE = 'Microsoft.Cache/redisEnterprise';
export const DATABASE_TYPE = 'Microsoft.Cache/redisEnterprise/databases';
export const PROFILE_TYPE = 'Microsoft.Network/trafficManagerProfiles';

export function clusterResourceId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Cache/redisEnterprise/${name}`;
}

export function databaseResourceId(clusterId: string, name: string): string {
  return `${clusterId}/databases/${name}`;
}

export function profileResourceId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/trafficManagerProfiles/${name}`;
}

/** `ExternalEndpoints` → `externalEndpoints`, the casing ids and types use. */
export function endpointTypeSegment(type: EndpointType): string {
  return type.charAt(0).toLowerCase() + type.slice(1);
}

export function endpointResourceId(profileId: string, type: EndpointType, name: string): string {
  return `${profileId}/${endpointTypeSegment(type)}/${name}`;
}

const DATABASE_ID_PATTERN =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Cache\/redisEnterprise\/([^/]+)\/databases\/([^/]+)$/i;
const NAME_PATTERN = /^(?=.{1,60}$)[A-Za-z0-9]+(-[A-Za-z0-9]+)*$/;

export interface ParsedDatabaseId {
  subscriptionId: string;
  resourceGroup: string;
  clusterName: string;
  databaseName: string;
}

/** Parses a database resource id; undefined when it is not one. */
export function parseDatabaseId(id: string): ParsedDatabaseId | undefined {
  const m = DATABASE_ID_PATTERN.exec(id);
  if (!m) return undefined;
  const [, subscriptionId, resourceGroup, clusterName, databaseName] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (!NAME_PATTERN.test(clusterName) || !NAME_PATTERN.test(databaseName)) return undefined;
  return { subscriptionId, resourceGroup, clusterName, databaseName };
}

export function isValidResourceName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

const key = (id: string): string => id.toLowerCase();

/** Default time an enabled endpoint shows CheckingEndpoint (short, for tests and drills; Azure: 10–30 s). */
export const DEFAULT_TRAFFIC_MANAGER_CHECKING_MS = 1000;

export interface StoreInit {
  /** the scenario's (default) subscription */
  subscriptionId: string;
  /** resource groups: a name (in the default subscription) or `{ subscriptionId, name }` */
  resourceGroups: (string | { subscriptionId: string; name: string })[];
  clusters: ClusterRecord[];
  databases: DatabaseRecord[];
  slots: DatabaseSlot[];
  profiles: ProfileRecord[];
}

export class Store {
  /** the scenario's (default) subscription; {@link subscriptionIds} lists every one */
  readonly subscriptionId: string;
  private readonly subscriptions = new Map<string, string>();
  /** `subscription/resource group` (lower case) → the group's casing */
  private readonly resourceGroups = new Map<string, string>();
  private readonly clusterMap = new Map<string, ClusterRecord>();
  private readonly databaseMap = new Map<string, DatabaseRecord>();
  private readonly slotMap = new Map<string, DatabaseSlot>();
  private readonly profileMap = new Map<string, ProfileRecord>();
  /** how long an endpoint shows CheckingEndpoint after it was enabled (Azure: about one probing interval) */
  trafficManagerCheckingMs = DEFAULT_TRAFFIC_MANAGER_CHECKING_MS;

  constructor(init: StoreInit) {
    this.subscriptionId = init.subscriptionId;
    this.subscriptions.set(key(init.subscriptionId), init.subscriptionId);
    for (const rg of init.resourceGroups) {
      const { subscriptionId, name } = typeof rg === 'string' ? { subscriptionId: init.subscriptionId, name: rg } : rg;
      this.subscriptions.set(key(subscriptionId), subscriptionId);
      this.resourceGroups.set(key(`${subscriptionId}/${name}`), name);
    }
    for (const c of init.clusters) this.clusterMap.set(key(c.id), c);
    for (const d of init.databases) this.databaseMap.set(key(d.id), d);
    for (const s of init.slots) this.slotMap.set(key(s.id), s);
    for (const p of init.profiles) this.profileMap.set(key(p.id), p);
  }

  // ---- lookups -------------------------------------------------------------------------------

  hasSubscription(subscriptionId: string): boolean {
    return this.subscriptions.has(key(subscriptionId));
  }

  /** Every subscription the scenario has resources in, the default one first. */
  subscriptionIds(): string[] {
    return [...this.subscriptions.values()];
  }

  /** The subscription a resource id names (`/subscriptions/{id}/…`); the default one when it names none. */
  subscriptionOf(resourceId: string): string {
    const named = /^\/subscriptions\/([^/]+)/i.exec(resourceId)?.[1];
    return (named && this.subscriptions.get(key(named))) ?? named ?? this.subscriptionId;
  }

  /**
   * The resource group's stored casing, or undefined when it does not exist in `subscriptionId` (default: the
   * scenario's subscription).
   */
  resourceGroup(name: string, subscriptionId: string = this.subscriptionId): string | undefined {
    return this.resourceGroups.get(key(`${subscriptionId}/${name}`));
  }

  clusters(): ClusterRecord[] {
    return [...this.clusterMap.values()];
  }

  cluster(id: string): ClusterRecord | undefined {
    return this.clusterMap.get(key(id));
  }

  databases(): DatabaseRecord[] {
    return [...this.databaseMap.values()];
  }

  database(id: string): DatabaseRecord | undefined {
    return this.databaseMap.get(key(id));
  }

  databasesOf(clusterId: string): DatabaseRecord[] {
    return this.databases().filter((d) => key(d.clusterId) === key(clusterId));
  }

  databasesIn(region: string): DatabaseRecord[] {
    return this.databases().filter((d) => key(d.location) === key(region));
  }

  slot(id: string): DatabaseSlot | undefined {
    return this.slotMap.get(key(id));
  }

  slots(): DatabaseSlot[] {
    return [...this.slotMap.values()];
  }

  profiles(): ProfileRecord[] {
    return [...this.profileMap.values()];
  }

  profile(id: string): ProfileRecord | undefined {
    return this.profileMap.get(key(id));
  }

  // ---- geo-replication -----------------------------------------------------------------------

  /** The ids this database lists as linked, other than itself. */
  linkedIds(db: DatabaseRecord): string[] {
    return (db.geoReplication?.linkedDatabases ?? []).map((l) => l.id).filter((id) => key(id) !== key(db.id));
  }

  lists(db: DatabaseRecord, id: string): boolean {
    return (db.geoReplication?.linkedDatabases ?? []).some((l) => key(l.id) === key(id));
  }

  /**
   * The parts of a replication group: databases with this nickname, grouped by mutual links (A lists
   * B and B lists A). After a force-unlink the unlinked member keeps its stale view, but nobody
   * lists it back, so it forms its own part.
   */
  groupParts(groupNickname: string): DatabaseRecord[][] {
    const members = this.databases().filter(
      (d) => d.geoReplication && key(d.geoReplication.groupNickname) === key(groupNickname),
    );
    const parent = new Map<string, string>(members.map((m) => [key(m.id), key(m.id)]));
    const find = (k: string): string => {
      let root = k;
      while (parent.get(root) !== root) root = parent.get(root) ?? root;
      parent.set(k, root);
      return root;
    };
    for (const a of members) {
      for (const b of members) {
        if (a !== b && this.lists(a, b.id) && this.lists(b, a.id)) parent.set(find(key(a.id)), find(key(b.id)));
      }
    }
    const parts = new Map<string, DatabaseRecord[]>();
    for (const m of members) {
      const root = find(key(m.id));
      parts.set(root, [...(parts.get(root) ?? []), m]);
    }
    return [...parts.values()];
  }

  // ---- mutations -----------------------------------------------------------------------------

  addDatabase(record: DatabaseRecord): void {
    this.databaseMap.set(key(record.id), record);
  }

  /** Removes a database; every other member drops it from its linkedDatabases. */
  removeDatabase(id: string): void {
    this.databaseMap.delete(key(id));
    this.dropLinks([id], []);
  }

  /**
   * Force-unlink: removes `ids` from the linkedDatabases of every remaining database. The unlinked
   * databases themselves keep their (stale) view.
   */
  unlink(ids: readonly string[]): void {
    this.dropLinks(ids, ids);
  }

  private dropLinks(ids: readonly string[], keepViewOf: readonly string[]): void {
    const drop = new Set(ids.map(key));
    const keep = new Set(keepViewOf.map(key));
    for (const d of this.databaseMap.values()) {
      if (!d.geoReplication || keep.has(key(d.id))) continue;
      d.geoReplication.linkedDatabases = d.geoReplication.linkedDatabases.filter((l) => !drop.has(key(l.id)));
    }
  }

  /**
   * Joins `targetId` to the group part `memberIds` (force-link or create): the target lists itself
   * and every member, and every member lists the target, all `Linked`.
   */
  link(targetId: string, groupNickname: string, memberIds: readonly string[]): void {
    const target = this.database(targetId);
    if (!target) return;
    // Linked ids are listed in the exact case they were given (Azure compares them case-sensitively).
    const self = key(targetId) === key(target.id) ? targetId : target.id;
    const members = memberIds.filter((id) => key(id) !== key(target.id));
    target.geoReplication = {
      groupNickname,
      linkedDatabases: [self, ...members].map((id) => ({ id, state: 'Linked' as const })),
    };
    for (const id of members) {
      const m = this.database(id);
      if (!m?.geoReplication) continue;
      if (!this.lists(m, target.id)) m.geoReplication.linkedDatabases.push({ id: self, state: 'Linked' });
    }
  }

  /** The id as `db` lists it (its exact case), or undefined when it does not list it in any case. */
  listedAs(db: DatabaseRecord, id: string): string | undefined {
    return (db.geoReplication?.linkedDatabases ?? []).find((l) => key(l.id) === key(id))?.id;
  }

  setStates(id: string, provisioningState: ProvisioningState, resourceState: ResourceState): void {
    const d = this.database(id);
    if (!d) return;
    d.provisioningState = provisioningState;
    d.resourceState = resourceState;
  }

  setActiveOperation(id: string, op: ActiveOperation | undefined): void {
    const d = this.database(id);
    if (d) d.activeOperation = op;
  }

  replaceEndpoint(profileId: string, endpoint: EndpointRecord): { created: boolean } {
    const p = this.profile(profileId);
    if (!p) throw new Error(`no profile ${profileId}`);
    const i = p.endpoints.findIndex((e) => key(e.name) === key(endpoint.name));
    if (i >= 0) {
      p.endpoints[i] = endpoint;
      return { created: false };
    }
    p.endpoints.push(endpoint);
    return { created: true };
  }

  removeEndpoint(profileId: string, name: string): boolean {
    const p = this.profile(profileId);
    if (!p) return false;
    const before = p.endpoints.length;
    p.endpoints = p.endpoints.filter((e) => key(e.name) !== key(name));
    return p.endpoints.length !== before;
  }
}

/** Builds the start state from a validated scenario; keys are handed in so the store stays pure. */
export function storeFromScenario(
  scenario: Scenario,
  options: { keysFor: (databaseId: string) => AccessKeys; hostName: string },
): Store {
  const resourceGroups = new Map<string, { subscriptionId: string; name: string }>();
  const addGroup = (subscriptionId: string, name: string): void => {
    resourceGroups.set(key(`${subscriptionId}/${name}`), { subscriptionId, name });
  };
  addGroup(scenario.subscriptionId, scenario.resourceGroup);
  const clusters: ClusterRecord[] = [];
  const databases: DatabaseRecord[] = [];
  const slots: DatabaseSlot[] = [];
  for (const c of scenario.clusters) {
    const rg = c.resourceGroup ?? scenario.resourceGroup;
    const sub = c.subscriptionId ?? scenario.subscriptionId;
    addGroup(sub, rg);
    const id = clusterResourceId(sub, rg, c.name);
    clusters.push({
      id,
      subscriptionId: sub,
      resourceGroup: rg,
      name: c.name,
      location: c.location,
      sku: { ...c.sku },
      highAvailability: c.highAvailability,
      minimumTlsVersion: c.minimumTlsVersion,
      zones: c.zones,
      tags: { ...c.tags },
      hostName: options.hostName,
    });
    for (const db of c.databases) {
      const dbId = databaseResourceId(id, db.name);
      const maxMemoryBytes = db.maxMemoryMb * 1024 * 1024;
      slots.push({ id: dbId, clusterId: id, name: db.name, maxMemoryBytes, clientProtocol: db.clientProtocol });
      databases.push({
        id: dbId,
        clusterId: id,
        clusterName: c.name,
        name: db.name,
        location: c.location,
        settings: {
          clientProtocol: db.clientProtocol,
          clusteringPolicy: db.clusteringPolicy,
          evictionPolicy: db.evictionPolicy,
          modules: db.modules.map((m) => ({ ...m })),
          persistence: { aofEnabled: false, rdbEnabled: false },
          accessKeysAuthentication: db.accessKeysAuthentication,
          deferUpgrade: 'NotDeferred',
          notifyKeyspaceEvents: '',
        },
        port: 0,
        maxMemoryBytes,
        provisioningState: 'Succeeded',
        resourceState: 'Running',
        geoReplication: db.geoReplication
          ? { groupNickname: db.geoReplication.groupNickname, linkedDatabases: [] }
          : undefined,
        keys: options.keysFor(dbId),
      });
    }
    if (c.databases.length === 0) {
      slots.push({
        id: databaseResourceId(id, 'default'),
        clusterId: id,
        name: 'default',
        maxMemoryBytes: 64 * 1024 * 1024,
        clientProtocol: 'Encrypted',
      });
    }
  }
  // Every database of a group starts linked to every member, itself included (docs/ARCHITECTURE.md:
  // Geo-replication groups).
  for (const d of databases) {
    if (!d.geoReplication) continue;
    const nickname = d.geoReplication.groupNickname.toLowerCase();
    d.geoReplication.linkedDatabases = databases
      .filter((m) => m.geoReplication?.groupNickname.toLowerCase() === nickname)
      .map((m) => ({ id: m.id, state: 'Linked' as const }));
  }
  const profiles: ProfileRecord[] = scenario.trafficManagerProfiles.map((p) => {
    const rg = p.resourceGroup ?? scenario.resourceGroup;
    const sub = p.subscriptionId ?? scenario.subscriptionId;
    addGroup(sub, rg);
    const id = profileResourceId(sub, rg, p.name);
    return {
      id,
      subscriptionId: sub,
      resourceGroup: rg,
      name: p.name,
      tags: {},
      profileStatus: p.profileStatus,
      trafficRoutingMethod: p.routingMethod,
      dnsConfig: { relativeName: p.relativeName, ttl: p.ttl },
      monitorConfig: { ...p.monitor },
      endpoints: p.endpoints.map((e) => ({
        id: endpointResourceId(id, e.type, e.name),
        name: e.name,
        type: e.type,
        properties: {
          target: e.target,
          targetResourceId: e.targetResourceId,
          endpointStatus: e.endpointStatus,
          weight: e.weight,
          priority: e.priority,
          endpointLocation: e.endpointLocation,
        },
      })),
    };
  });
  return new Store({
    subscriptionId: scenario.subscriptionId,
    resourceGroups: [...resourceGroups.values()],
    clusters,
    databases,
    slots,
    profiles,
  });
}
