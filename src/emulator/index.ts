/**
 * The ARM emulator, in-process: `startEmulator()` builds the state from a scenario, starts one real
 * redis-server per database (the data plane, with a private endpoint per application region), the
 * ARM HTTPS server, the control API and the metadata build-up ticker.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createCertificateAuthority, issueServerCertificate } from './certificates';
import { createControlServer } from './control';
import { Counters, type MutationCount } from './counters';
import { DataPlane, type PrivateEndpoint } from './data-plane';
import { Faults, type FaultHost, type FaultState, type FirewallMode } from './faults';
import { createIdentityServer, TokenIssuer, type IdentityEndpoint, type IdentityOptions } from './identity';
import { Latencies, type LatencySettings } from './latencies';
import { Operations } from './lro';
import { MetadataBuildup, type MemorySample } from './metadata';
import { Replication } from './replication';
import { renderProfile, type ArmServices } from './routes';
import { defaultScenario, parseScenario, type Scenario } from './scenario';
import { closeServer, createArmServer, listen } from './server';
import { storeFromScenario, type AccessKeys, type Store } from './store';

export type { Scenario } from './scenario';
export type { MutationCount } from './counters';
export type {
  DegradeInput,
  Faults,
  FaultState,
  FirewallInput,
  FirewallRule,
  LatencyInput,
  LroFault,
  LroFaultInput,
  ThrottleFault,
  ThrottleInput,
} from './faults';
export { FaultInputError } from './faults';
export {
  Latencies,
  LatencySettingError,
  LATENCY_KINDS,
  parseLatencySpec,
  type LatencyKind,
  type LatencySettings,
} from './latencies';
export { LRO_OPERATIONS, OPERATION_NAMES, type LroOperationName, type OperationName } from './operations';
export { defaultScenario, loadScenario, parseScenario, scenarioFromSpec, ScenarioError } from './scenario';
export { generateEstate, estateGroupName, estateClusterName, type EstateOptions } from './scenarios/estate';
export {
  ARM_AUDIENCE,
  REDIS_AUDIENCE,
  TokenIssuer,
  type IdentityEndpoint,
  type IdentityOptions,
  type Principal,
} from './identity';

export interface EmulatorOptions {
  /** default: the default scenario (README: The ARM emulator) */
  scenario?: Scenario;
  /** ARM HTTPS port on 127.0.0.1; default 0 (a free port) */
  port?: number;
  /** control API port (plain HTTP on 127.0.0.1); default 0 */
  controlPort?: number;
  /** redis-server binary; default env REDIS_SERVER_PATH, then redis-server on PATH */
  redisServerPath?: string;
  /** where the CA and the redis-servers' files go; default a fresh temp dir, removed at close */
  workDir?: string;
  /** long-running operations: how long they take and the Retry-After they advertise; default 1000 ms and 1 s */
  lro?: { durationMs?: number; retryAfterSeconds?: number };
  /** metadata build-up tick; default 1000 ms */
  metadataTickMs?: number;
  /** Traffic Manager: how long an endpoint shows CheckingEndpoint after it was enabled; default 1000 ms */
  trafficManagerCheckingMs?: number;
  /** diagnostics (lifecycle, operations, faults, errors); default silent */
  log?: (line: string) => void;
  /** one line per ARM request to `log`; default false */
  accessLog?: boolean;
  /**
   * The data plane's shape: `per-database` (one redis-server per database), `shared` (one per region, each
   * database a logical database behind TLS-terminating private endpoints), or `auto` (default): shared above
   * {@link SHARED_DATA_PLANE_ABOVE} databases.
   */
  dataPlane?: 'per-database' | 'shared' | 'auto';
  /** emulated latencies in ms (default zero): ARM read, ARM write, LRO, data-plane connection */
  latencies?: Partial<LatencySettings>;
  /**
   * The emulated tenant (its own HTTPS port): principals it grants (default one worker principal) and the
   * lifetime of the tokens it issues (default one hour; short in tests to prove refresh).
   */
  identity?: IdentityOptions;
}

export interface EmulatorState {
  arm: string;
  control: string;
  subscriptionId: string;
  regions: string[];
  regionsInOutage: string[];
  /** how the data plane runs the databases (README: A generated estate, and the shared data plane) */
  dataPlane: { shape: 'per-database' | 'shared'; redisServers: number };
  /** emulated latencies in ms */
  latencies: LatencySettings;
  clusters: {
    id: string;
    name: string;
    resourceGroup: string;
    location: string;
    inOutage: boolean;
    hostName: string;
    sku: string;
  }[];
  databases: {
    id: string;
    name: string;
    clusterName: string;
    location: string;
    /** the database's region is in an emulated outage */
    inOutage: boolean;
    /** its redis-server runs */
    running: boolean;
    hostName: string;
    port: number;
    provisioningState: string;
    resourceState: string;
    /** Disabled: ARM refuses listKeys, clients use Entra ID */
    accessKeysAuthentication: 'Enabled' | 'Disabled';
    activeOperation?: { id: string; name: string };
    groupNickname?: string;
    /** the links as this database sees them; `inOutage` marks a member that is down although `state` says Linked */
    linkedDatabases: { id: string; state: string; inOutage: boolean; listsBack: boolean }[];
    /** linked members that are down and not unlinked: the reason for metadata build-up */
    missingMembers: string[];
    accruingMetadata: boolean;
    memory?: MemorySample;
  }[];
  trafficManagerProfiles: unknown[];
  operations: {
    id: string;
    name: string;
    resourceId: string;
    status: string;
    startTime: string;
    endTime?: string;
    error?: { code: string; message: string };
  }[];
  faults: FaultState;
  privateEndpoints: PrivateEndpoint[];
}

export interface Emulator {
  /** https://127.0.0.1:PORT */
  arm: string;
  /** path of the CA certificate (PEM) in the work dir */
  caPath: string;
  caPem: string;
  /** http://127.0.0.1:PORT */
  control: string;
  /**
   * How to get a token from the emulated tenant (the first principal's test-only credentials): the ready line's
   * `identity`. ARM accepts only tokens this tenant issued.
   */
  identity: IdentityEndpoint;
  /** the tenant itself, in-process: every principal, minting tokens, counting issued ones (tests) */
  issuer: TokenIssuer;
  scenario: Scenario;
  /** in-process fault injection: the same operations as the control API */
  faults: Faults;
  /** emulated latencies (the control API's /latencies) */
  latencies: Latencies;
  /** how the data plane runs its databases */
  dataPlane: { shape: 'per-database' | 'shared'; redisServers: number };
  /** accepted mutating ARM calls per resource and operation */
  counters(): MutationCount[];
  /** listKeys calls per database, refused ones included (reads: not in `counters`); reset with the counters */
  listKeysCalls(): MutationCount[];
  resetCounters(): void;
  /** the state dump; memory is the last sample (taken every metadata tick) */
  state(): EmulatorState;
  /** the state dump with memory sampled now */
  freshState(): Promise<EmulatorState>;
  /** the private endpoint an application region uses for a database (id, any casing) */
  privateEndpoint(applicationRegion: string, databaseId: string): { host: string; port: number };
  /** stops everything (servers, timers, redis-servers); idempotent */
  close(): Promise<void>;
}

const DEFAULT_LRO_MS = 1000;
/** Up to a 10-group estate (30 databases) each database gets its own redis-server. */
export const SHARED_DATA_PLANE_ABOVE = 30;
const DEFAULT_RETRY_AFTER_S = 1;
const DEFAULT_TICK_MS = 1000;
/** How often the emulated geo-replication copies new writes between linked members. */
const REPLICATION_TICK_MS = 500;
const LOOPBACK = '127.0.0.1';

function newKeys(): AccessKeys {
  return { primaryKey: randomBytes(32).toString('base64url'), secondaryKey: randomBytes(32).toString('base64url') };
}

/** A DNS name for the data plane's certificate, shaped like Azure's (the same names the scenario's TM targets use). */
function azureHostName(clusterName: string, location: string): string {
  return `${clusterName}.${location}.redis.azure.net`.toLowerCase();
}

/**
 * Starts the emulator. Throws ScenarioError for an invalid scenario, and the data plane's error when a
 * redis-server does not start; nothing is left running then.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const log = options.log ?? ((): void => {});
  const scenario = options.scenario ? parseScenario(options.scenario, 'options.scenario') : defaultScenario();
  const ownsWorkDir = options.workDir === undefined;
  const workDir = options.workDir ?? (await mkdtemp(path.join(os.tmpdir(), 'geofailover-emulator-')));
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.reverse()) {
      await c().catch((e: unknown) => log(`close: ${(e as Error).message}`));
    }
    cleanups.length = 0;
  };
  if (ownsWorkDir) cleanups.push(() => rm(workDir, { recursive: true, force: true }));
  try {
    const ca = await createCertificateAuthority();
    const serverCert = await issueServerCertificate(ca, { dns: ['localhost'], ips: [LOOPBACK] });
    const caPath = path.join(workDir, 'ca.pem');
    await writeFile(caPath, ca.cert, { mode: 0o644 });

    const store = storeFromScenario(scenario, { keysFor: () => newKeys(), hostName: LOOPBACK });
    if (options.trafficManagerCheckingMs !== undefined)
      store.trafficManagerCheckingMs = options.trafficManagerCheckingMs;
    const latencies = new Latencies(options.latencies);
    const requested = options.dataPlane ?? 'auto';
    const shape =
      requested === 'auto' ? (store.slots().length > SHARED_DATA_PLANE_ABOVE ? 'shared' : 'per-database') : requested;
    const dataPlane = await startDataPlane(store, scenario, {
      ca,
      workDir,
      redisServerPath: options.redisServerPath,
      shape,
      latencyMs: () => latencies.probeMs(),
    });
    cleanups.push(() => dataPlane.close());
    for (const db of store.databases()) db.port = dataPlane.endpoint(db.id).port;
    log(
      `data plane (${shape}): ${dataPlane.serverCount} redis-server(s) for ${store.slots().length} database(s), ` +
        `${scenario.applicationRegions.length} application region(s)`,
    );

    const operations = new Operations(log);
    cleanups.push(() => operations.close());
    const counters = new Counters();
    // The fault host reconciles metadata only after start-up, so it may refer to `metadata` declared below.
    const faults: Faults = new Faults(
      faultHost(store, dataPlane, (): Promise<void> => metadata.reconcile(), scenario, log),
    );
    const metadata: MetadataBuildup = new MetadataBuildup({
      store,
      dataPlane,
      isDown: (databaseId: string): boolean => {
        const db = store.database(databaseId);
        return db !== undefined && (faults.isRegionDown(db.location) || faults.isDataPlaneDown(db.location));
      },
      bytesPerSecond: scenario.metadataBuildup.bytesPerSecond,
      maxPercentOfMaxMemory: scenario.metadataBuildup.maxPercentOfMaxMemory,
      tickMs: options.metadataTickMs ?? DEFAULT_TICK_MS,
      log,
    });
    cleanups.push(() => metadata.stop());
    const replication = new Replication({
      store,
      dataPlane,
      isDown: (databaseId: string): boolean => {
        const db = store.database(databaseId);
        return db !== undefined && (faults.isRegionDown(db.location) || faults.isDataPlaneDown(db.location));
      },
      tickMs: REPLICATION_TICK_MS,
      log,
    });
    cleanups.push(() => replication.stop());
    const activeFaults = faults;

    const services: ArmServices = {
      store,
      operations,
      faults: activeFaults,
      counters,
      dataPlane,
      metadata,
      lro: {
        durationMs: options.lro?.durationMs ?? DEFAULT_LRO_MS,
        retryAfterSeconds: options.lro?.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_S,
      },
      latencies,
      newKeys,
      log,
    };
    const issuer = new TokenIssuer(options.identity);
    // Entra ID for Redis: username = the principal's object id, password = any unexpired token it was issued.
    issuer.onRedisToken = (principal, token, expiresAtMs) =>
      dataPlane.addEntraPassword(principal.objectId, token, expiresAtMs);
    const identityServer = createIdentityServer({
      cert: serverCert.cert,
      key: serverCert.key,
      issuer,
      log,
      accessLog: options.accessLog ? log : undefined,
    });
    const identityPort = await listen(identityServer, 0);
    cleanups.push(() => closeServer(identityServer));
    issuer.authorityHost = `https://${LOOPBACK}:${identityPort}`;

    const armServer = createArmServer({
      cert: serverCert.cert,
      key: serverCert.key,
      services,
      identity: issuer,
      log,
      accessLog: options.accessLog ? log : undefined,
    });
    const armPort = await listen(armServer, options.port ?? 0);
    cleanups.push(() => closeServer(armServer));
    const arm = `https://${LOOPBACK}:${armPort}`;

    let control = '';
    const state = (): EmulatorState =>
      dumpState({ arm, control, store, dataPlane, faults: activeFaults, metadata, operations, scenario, latencies });
    const freshState = async (): Promise<EmulatorState> => {
      await metadata.refreshMemory();
      return state();
    };
    const controlServer = createControlServer({
      faults: activeFaults,
      latencies,
      counters: () => counters.list(),
      resetCounters: () => counters.reset(),
      freshState,
      log,
    });
    const controlPort = await listen(controlServer, options.controlPort ?? 0);
    cleanups.push(() => closeServer(controlServer));
    control = `http://${LOOPBACK}:${controlPort}`;

    metadata.start();
    replication.start();
    await metadata.refreshMemory();
    log(`emulator ready: arm ${arm}, control ${control}, ca ${caPath}, identity ${issuer.authorityHost}`);

    let closing: Promise<void> | undefined;
    const emulator: Emulator = {
      arm,
      caPath,
      caPem: ca.cert,
      control,
      identity: issuer.endpoint(),
      issuer,
      scenario,
      faults: activeFaults,
      latencies,
      dataPlane: { shape: dataPlane.shape, redisServers: dataPlane.serverCount },
      counters: () => counters.list(),
      listKeysCalls: () => counters.listKeysCalls(),
      resetCounters: () => counters.reset(),
      state,
      freshState,
      privateEndpoint: (applicationRegion, databaseId) => {
        const slot = store.slot(databaseId);
        return dataPlane.privateEndpoint(applicationRegion, slot?.id ?? databaseId);
      },
      close: () => {
        closing ??= cleanup().then(() => log('emulator closed'));
        return closing;
      },
    };
    return emulator;
  } catch (e) {
    await cleanup();
    throw e;
  }
}

async function startDataPlane(
  store: Store,
  scenario: Scenario,
  options: {
    ca: Awaited<ReturnType<typeof createCertificateAuthority>>;
    workDir: string;
    redisServerPath?: string;
    shape: 'per-database' | 'shared';
    latencyMs: () => number;
  },
): Promise<DataPlane> {
  const specs = store.slots().map((slot) => {
    const cluster = store.cluster(slot.clusterId);
    const db = store.database(slot.id);
    return {
      id: slot.id,
      hostName: azureHostName(cluster?.name ?? slot.name, cluster?.location ?? 'local'),
      password: db?.keys.primaryKey ?? newKeys().primaryKey,
      tls: slot.clientProtocol === 'Encrypted',
      maxMemoryBytes: slot.maxMemoryBytes,
      region: cluster?.location,
    };
  });
  const dataPlane = await DataPlane.start(
    {
      ca: options.ca,
      workDir: path.join(options.workDir, 'data-plane'),
      redisServerPath: options.redisServerPath,
      host: LOOPBACK,
      shape: options.shape,
      latencyMs: options.latencyMs,
    },
    specs,
    [...scenario.applicationRegions],
  );
  // Slots without a database (a cluster that starts empty) wait, stopped, for a create.
  for (const slot of store.slots()) {
    if (!store.database(slot.id)) await dataPlane.stopDatabase(slot.id);
  }
  return dataPlane;
}

function faultHost(
  store: Store,
  dataPlane: DataPlane,
  reconcileMetadata: () => Promise<void>,
  scenario: Scenario,
  log: (line: string) => void,
): FaultHost {
  return {
    regions: scenario.regions,
    applicationRegions: scenario.applicationRegions,
    stopRegion: async (region) => {
      const dbs = store.databasesIn(region).filter((d) => dataPlane.isRunning(d.id));
      await Promise.all(dbs.map((d) => dataPlane.stopDatabase(d.id)));
      log(`outage: ${region} (${dbs.length} redis-server(s) stopped)`);
    },
    startRegion: async (region) => {
      // A database still being created is started by its create operation.
      const dbs = store
        .databasesIn(region)
        .filter((d) => d.provisioningState !== 'Creating' && !dataPlane.isRunning(d.id));
      await Promise.all(dbs.map((d) => dataPlane.startDatabase(d.id)));
      log(`restore: ${region} (${dbs.length} redis-server(s) started)`);
    },
    regionRestored: async () => {
      // Members that were not force-unlinked resynchronise by themselves: survivors drop their metadata.
      await reconcileMetadata();
    },
    resolveDatabases: (ref) => {
      const byRegion = store
        .slots()
        .filter((s) => store.cluster(s.clusterId)?.location.toLowerCase() === ref.toLowerCase())
        .map((s) => s.id);
      if (byRegion.length > 0) return byRegion;
      const slot = store.slot(ref);
      return slot ? [slot.id] : undefined;
    },
    resolveEndpoints: (ref) =>
      store
        .profiles()
        .flatMap((p) => p.endpoints)
        .filter((e) => e.id.toLowerCase() === ref.toLowerCase() || e.name.toLowerCase() === ref.toLowerCase())
        .map((e) => e.id),
    setFirewall: (applicationRegion: string, databaseId: string, mode: FirewallMode) => {
      dataPlane.setFirewall(applicationRegion, databaseId, mode);
      log(`firewall: ${applicationRegion} → ${databaseId}: ${mode}`);
    },
  };
}

function dumpState(ctx: {
  arm: string;
  control: string;
  store: Store;
  dataPlane: DataPlane;
  faults: Faults;
  metadata: MetadataBuildup;
  operations: Operations;
  scenario: Scenario;
  latencies: Latencies;
}): EmulatorState {
  const { store, dataPlane, faults, metadata } = ctx;
  const memory = metadata.memory();
  const accruing = new Set(metadata.accruingIds());
  const down = (location: string): boolean => faults.isRegionDown(location);
  return {
    arm: ctx.arm,
    control: ctx.control,
    subscriptionId: store.subscriptionId,
    regions: [...ctx.scenario.regions],
    regionsInOutage: faults.regionsInOutage(),
    dataPlane: { shape: dataPlane.shape, redisServers: dataPlane.serverCount },
    latencies: ctx.latencies.get(),
    clusters: store.clusters().map((c) => ({
      id: c.id,
      name: c.name,
      resourceGroup: c.resourceGroup,
      location: c.location,
      inOutage: down(c.location),
      hostName: c.hostName,
      sku: c.sku.name,
    })),
    databases: store.databases().map((d) => ({
      id: d.id,
      name: d.name,
      clusterName: d.clusterName,
      location: d.location,
      inOutage: down(d.location),
      running: dataPlane.isRunning(d.id),
      hostName: store.cluster(d.clusterId)?.hostName ?? LOOPBACK,
      port: d.port,
      provisioningState: d.provisioningState,
      resourceState: d.resourceState,
      accessKeysAuthentication: d.settings.accessKeysAuthentication,
      activeOperation: d.activeOperation ? { id: d.activeOperation.id, name: d.activeOperation.name } : undefined,
      groupNickname: d.geoReplication?.groupNickname,
      linkedDatabases: (d.geoReplication?.linkedDatabases ?? []).map((l) => {
        const other = store.database(l.id);
        return {
          id: l.id,
          state: l.state,
          inOutage: other !== undefined && down(other.location),
          listsBack: other !== undefined && store.lists(other, d.id),
        };
      }),
      missingMembers: metadata.missingMembers(d.id),
      accruingMetadata: accruing.has(d.id.toLowerCase()),
      memory: memory[d.id],
    })),
    trafficManagerProfiles: store.profiles().map((p) => renderProfile(p, { faults })),
    operations: ctx.operations.list().map((o) => ({
      id: o.id,
      name: o.name,
      resourceId: o.resourceId,
      status: o.status,
      startTime: o.startTime.toISOString(),
      endTime: o.endTime?.toISOString(),
      error: o.error,
    })),
    faults: faults.list(),
    privateEndpoints: dataPlane.listPrivateEndpoints(),
  };
}
