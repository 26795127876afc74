// The whole stack for one failover test, as a user runs it: the shared Temporal dev server, a main worker
// (in this process, or `geofailover worker` spawned as a process), one probe worker per application region,
// the emulator (official Azure SDK over HTTPS) with its redis-servers, a configuration file in a temp dir
// (people with the tests' public keys, commanders and approvers), everyone's private key file, and the two
// command lines people answer gates with (ours, signing with --key, and the plain Temporal CLI).
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { z } from 'zod';
import { createActivities, createProbeActivities, type ActivityDependencies } from '../../src/activities';
import { createArmClients } from '../../src/azure/clients';
import { main } from '../../src/cli/main';
import { buildFailoverInput, loadCliConfig, resolveGroup } from '../../src/cli/resolve';
import { loadConfig } from '../../src/config/load';
import type { configSchema, groupSchema } from '../../src/config/schema';
import { WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type { Proof } from '../../src/contract/policy';
import type { FailoverRunbookInput, GroupDefinition, RunbookTuning } from '../../src/contract/runbook';
import { defaultScenario, type Emulator, type EmulatorOptions } from '../../src/emulator';
import type { Scenario } from '../../src/emulator/scenario';
import { DRILL_SDK_RETRIES, DRILL_TUNING } from '../../src/drill/settings';
import { createCertificateAuthority, issueServerCertificate } from '../../src/emulator/certificates';
import { configForEmulator, writeIdentitySecret } from '../../src/emulator/config';
import { policyFromConfig } from '../../src/policy/from-config';
import { startRequest } from '../../src/signing/payloads';
import { startFailover } from '../../src/starter';
import { activityDependenciesFromConfig, createProbeWorker, createWorker } from '../../src/worker';
import { WORKFLOW_BUNDLE_ENV } from '../../src/workflow-bundle';
import type { failoverRunbook } from '../../src/workflows';
import { emulatorCredential, startTestEmulator } from './emulator';
import { APPROVERS, COMMANDERS, OUTSIDER, peopleConfig, personKey, writeKeyFiles } from './people';
import { getWorkflowBundle, getWorkflowBundleFile, uniqueName, uniqueTaskQueue } from './temporal';

/** Who starts every incident in these tests (the group's commander); never an approver of it (four-eyes). */
export const REQUESTER = COMMANDERS[0]!;

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'geofailover.js');
const SHORT_STICKY_QUEUE = path.join(__dirname, 'short-sticky-queue.js');

/** Replication metadata build-up that takes a survivor to the critical grade within a few seconds. */
export const FAST_METADATA_BUILDUP = 16 * 1024 * 1024;

/**
 * Second-scale runbook tuning, the drill's (src/drill/settings.ts): short activity timeouts, fast retries and LRO
 * polls, a bounded wait for probe workers, and a heartbeat timeout short enough that a killed worker's activity is
 * retried quickly.
 */
export const REAL_STACK_TUNING: RunbookTuning = DRILL_TUNING;

/** The SDK's own 3 retries (so a 429 storm can outlast them), with short waits where no Retry-After says otherwise. */
const SDK_RETRIES = { ...DRILL_SDK_RETRIES };

type GroupConfigInput = z.input<typeof groupSchema>;
type ConfigInput = z.input<typeof configSchema>;
export type RunbookHandle = WorkflowHandle<typeof failoverRunbook>;

export interface RealStackOptions {
  /** replication metadata each survivor accumulates per second while a member is down; default 2 MiB/s */
  metadataBytesPerSecond?: number;
  /** changes to the configuration's group (durations, quorum, ...) before it is written */
  group?: (group: GroupConfigInput) => void;
  /**
   * The group escalates to this receiver: the configuration names an environment variable of the workers
   * (`{ env: NAME }`) that holds its https: URL, and the workers trust its CA (azure.caFile bundles it).
   */
  webhook?: WebhookReceiver;
  /** run the main worker in this process (default); false leaves it to `spawnWorker()` */
  mainWorker?: boolean;
  /** the in-process workers' per-request ARM timeout (createArmClients `requestTimeoutMs`); default the SDK glue's */
  requestTimeoutMs?: number;
  /** changes to the emulator's scenario before it starts (more clusters, another geo-replication group) */
  scenario?: (scenario: Scenario) => void;
  /**
   * The emulator's data plane (EmulatorOptions.dataPlane): `shared` runs one redis-server per region instead of one
   * per database (and one TLS certificate per region): much less CPU for a scenario of many groups.
   */
  dataPlane?: EmulatorOptions['dataPlane'];
  /**
   * Other geo-replication groups of the emulator's scenario (by nickname) that the configuration names too, beside
   * the main group, with the same people, quorum and durations (`group` changes them as well): `stack.otherGroups`.
   */
  otherGroups?: string[];
  /**
   * The Temporal server spawned workers and the CLIs connect to; default TEMPORAL_TEST_ADDRESS (the shared server).
   * A test on a private server (test/helpers/restartable-dev-server.ts) names it here and passes its env to start().
   */
  temporalAddress?: string;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function showRun(run: CliRun): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

/** A `geofailover worker` process; `kill` sends a signal and resolves once it has exited. */
export interface SpawnedWorker {
  pid: number;
  kill(signal: NodeJS.Signals): Promise<void>;
  /** whether the process has exited (by itself or killed) */
  hasExited(): boolean;
  /** everything it wrote to stderr so far */
  stderr(): string;
}

export { step, stepStatuses, waitForStatus } from './runbook-status';

/** Polls `predicate` (emulator state, a counter) until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * The same environment a user's shell gives the CLIs: the test server (or `address`), no Temporal profile of the
 * user, no key of the user (each command names its --key), plus `extra` (a worker's webhook variable).
 */
function cliEnv(
  dir: string,
  extra: Record<string, string> = {},
  address = process.env.TEMPORAL_TEST_ADDRESS,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('TEMPORAL_') && !k.startsWith('GEOFAILOVER_')) env[k] = v;
  }
  return {
    ...env,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_CONFIG_FILE: path.join(dir, 'no-temporal-profile.toml'),
    ...extra,
  };
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: 45_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      if (error && code === null) reject(new Error(`${path.basename(file)} ${args.join(' ')}: ${error.message}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

let temporalCli: Promise<string> | undefined;

/** The Temporal CLI the dev server runs from: TEMPORAL_CLI_PATH, PATH or the tool cache (scripts/tools.mjs). */
function temporalCliPath(): Promise<string> {
  temporalCli ??= (async () => {
    if (process.env.TEMPORAL_CLI_PATH) return process.env.TEMPORAL_CLI_PATH;
    const tools = await import('../../scripts/tools.mjs');
    return (await tools.ensureTemporalCli({ log: () => undefined })).path;
  })();
  return temporalCli;
}

/** name → public key lines of the people with a role (the keys are this test process's own). */
function peopleKeys(): Record<string, string[]> {
  return Object.fromEntries(APPROVERS.map((n) => [n, [personKey(n).publicKeyLine]]));
}

/** The configuration file's group for the emulator's default scenario, at the emulator's dynamic addresses. */
function groupFromEmulator(emulator: Emulator, nickname = 'leaderboard'): GroupConfigInput {
  const group = configForEmulator(emulator.state(), emulator.caPath, peopleKeys()).groups[nickname];
  assert.ok(group, `the scenario has the group ${nickname}`);
  return {
    ...group,
    commanders: [...COMMANDERS],
    approvers: [...APPROVERS],
    quorum: { unlink: 1, rejoin: 1, intervention: 1 },
    // With the default build-up (2 MiB/s into 64 MiB) critical is ~25 s away; with FAST_METADATA_BUILDUP ~3 s.
    memoryThresholds: { elevatedPercent: 50, criticalPercent: 75 },
    rejoinMethod: 'force-link',
    durations: {
      approvalTimeout: '30s',
      escalationTimeout: '30s',
      recoveryPollInterval: '300ms',
      maxOutageBeforeUnlink: '1h',
      resyncTimeout: '15s',
      probeTimeout: '2s',
    },
  };
}

interface RunningWorker {
  worker: Worker;
  running: Promise<void>;
}

export class RealStack {
  /** the main worker's task queue (unique to this stack) */
  readonly taskQueue = uniqueTaskQueue('real-stack');
  private readonly workers: RunningWorker[] = [];
  private readonly handles: WorkflowHandle[] = [];
  private readonly children: ChildProcess[] = [];
  /** environment variables every worker of this stack has (the webhook's URL); set in this process too */
  private readonly workerEnv: Record<string, string> = {};
  /** private key file of each person (the people of the configuration, and OUTSIDER) */
  private readonly keyFiles: Record<string, string>;
  /** RealStackOptions.otherGroups: nickname → the group as the CLI resolves it from the configuration file */
  readonly otherGroups: Record<string, GroupDefinition> = {};
  /** RealStackOptions.requestTimeoutMs */
  private requestTimeoutMs?: number;
  /** RealStackOptions.temporalAddress */
  private temporalAddress?: string;

  private constructor(
    readonly env: TestWorkflowEnvironment,
    readonly emulator: Emulator,
    /** temp dir holding the configuration file and the key files */
    readonly dir: string,
    readonly configFile: string,
    /** the group exactly as the CLI resolves it from the configuration file */
    readonly group: GroupDefinition,
  ) {
    this.keyFiles = writeKeyFiles(path.join(dir, 'keys'), [...APPROVERS, OUTSIDER]);
  }

  /**
   * Starts an emulator (default scenario), writes the configuration for it, resolves the group as the CLI
   * does, and starts one probe worker per application region plus, unless `mainWorker: false`, the main worker.
   */
  static async start(env: TestWorkflowEnvironment, options: RealStackOptions = {}): Promise<RealStack> {
    const scenario = defaultScenario();
    if (options.metadataBytesPerSecond !== undefined) {
      scenario.metadataBuildup = { ...scenario.metadataBuildup, bytesPerSecond: options.metadataBytesPerSecond };
    }
    options.scenario?.(scenario);
    const emulator = await startTestEmulator({
      scenario,
      ...(options.dataPlane !== undefined ? { dataPlane: options.dataPlane } : {}),
    });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-real-stack-'));
    let stack: RealStack | undefined;
    try {
      const name = uniqueName('leaderboard');
      const group = groupFromEmulator(emulator);
      let caFile = emulator.caPath;
      let webhookVariable: string | undefined;
      if (options.webhook) {
        // The URL stays out of the configuration: the workers read it from this variable.
        webhookVariable = `GEOFAILOVER_WEBHOOK_${randomBytes(6).toString('hex').toUpperCase()}`;
        group.escalationWebhook = { env: webhookVariable };
        caFile = path.join(dir, 'ca-bundle.pem');
        writeFileSync(caFile, `${emulator.caPem.trim()}\n${options.webhook.caPem.trim()}\n`);
      }
      options.group?.(group);
      const others = (options.otherGroups ?? []).map((nickname): [string, string, GroupConfigInput] => {
        const other = groupFromEmulator(emulator, nickname);
        options.group?.(other);
        return [nickname, uniqueName(nickname), other];
      });
      const configFile = path.join(dir, 'geofailover.config.json');
      // The workers authenticate as the emulator's principal (ClientSecretCredential), its secret in a file.
      const { endpoint: identity, secretFile } = writeIdentitySecret(emulator.identity, configFile);
      const config: ConfigInput = {
        people: peopleConfig(),
        azure: {
          endpoint: emulator.arm,
          caFile,
          identity: {
            authorityHost: identity.authorityHost,
            tenantId: identity.tenantId,
            clientId: identity.clientId,
            clientSecret: { file: secretFile },
          },
        },
        groups: { [name]: group, ...Object.fromEntries(others.map(([, n, g]) => [n, g])) },
      };
      writeFileSync(configFile, JSON.stringify(config, null, 2));
      stack = new RealStack(env, emulator, dir, configFile, resolveGroup(loadCliConfig(configFile), name));
      for (const [nickname, n] of others) stack.otherGroups[nickname] = resolveGroup(loadCliConfig(configFile), n);
      if (webhookVariable && options.webhook) stack.setWorkerEnv(webhookVariable, options.webhook.url);
      stack.requestTimeoutMs = options.requestTimeoutMs;
      stack.temporalAddress = options.temporalAddress;
      await stack.startWorkers(options.mainWorker ?? true);
      return stack;
    } catch (e) {
      if (stack) await stack.close();
      else {
        await emulator.close();
        rmSync(dir, { recursive: true, force: true });
      }
      throw e;
    }
  }

  get client(): Client {
    return this.env.client;
  }

  /** Sets a variable of every worker's environment: spawned workers get it, and so does this process. */
  private setWorkerEnv(name: string, value: string): void {
    this.workerEnv[name] = value;
    process.env[name] = value;
  }

  /**
   * What `geofailover worker --config FILE` builds from the configuration (its policy, its webhook, the CAs it
   * trusts), with ARM clients that keep no connection alive and second-scale data-plane bounds.
   */
  private activityDependencies(): ActivityDependencies {
    const fromConfig = activityDependenciesFromConfig(loadConfig(this.configFile), { configDir: this.dir });
    const arm = createArmClients({
      subscriptionId: this.emulator.state().subscriptionId,
      endpoint: this.emulator.arm,
      credential: emulatorCredential(this.emulator),
      ...(fromConfig.caPem !== undefined ? { caPem: fromConfig.caPem } : {}),
      keepAlive: false,
      retryOptions: SDK_RETRIES,
      ...(this.requestTimeoutMs !== undefined ? { requestTimeoutMs: this.requestTimeoutMs } : {}),
    });
    return {
      arm,
      ...(fromConfig.caPem !== undefined ? { caPem: fromConfig.caPem } : {}),
      redisTimeoutMs: 3000,
      verifyTimeoutMs: 10_000,
      ...(fromConfig.escalationWebhooks ? { escalationWebhooks: fromConfig.escalationWebhooks } : {}),
      // the configuration's notification targets (Slack, Teams, JSON), as geofailover worker delivers them
      ...(fromConfig.notificationTargets ? { notificationTargets: fromConfig.notificationTargets } : {}),
      ...(fromConfig.policies ? { policies: fromConfig.policies } : {}),
      ...(fromConfig.groupNames ? { groupNames: fromConfig.groupNames } : {}),
      ...(fromConfig.evacuation ? { evacuation: fromConfig.evacuation } : {}),
      // memory pressure from the emulator's Azure Monitor metrics, as the configuration says
      ...(fromConfig.metrics ? { metrics: fromConfig.metrics } : {}),
    };
  }

  /** The policy the workers hold for this stack's group (its digest is what a start may be signed against). */
  policyDigest(group: GroupDefinition = this.group): string {
    const lookup = policyFromConfig(loadConfig(this.configFile), group.name);
    assert.ok(lookup.found, lookup.found ? '' : lookup.reason);
    return lookup.policy.digest;
  }

  /** `signer`'s signed start of this group's failover, as `geofailover start --key` makes it. */
  signedStart(
    failedRegion: string,
    reason: string,
    signer: string = REQUESTER,
    group: GroupDefinition = this.group,
  ): Proof {
    return startRequest(personKey(signer), {
      actor: signer,
      workflowId: workflowIds.failover(group.name),
      databaseId: group.members[failedRegion] ?? '',
      region: failedRegion,
      reason,
      policyDigest: this.policyDigest(group),
    });
  }

  /** Starts failoverRunbook for another group of this stack (RealStackOptions.otherGroups), as startFailover does. */
  async startFailoverOf(
    group: GroupDefinition,
    failedRegion: string,
    signer: string = REQUESTER,
  ): Promise<RunbookHandle> {
    const reason = `${failedRegion} outage (real-stack test, ${group.name})`;
    const input: FailoverRunbookInput = {
      ...buildFailoverInput({
        group,
        failedRegion,
        reason,
        requestedBy: signer,
        request: this.signedStart(failedRegion, reason, signer, group),
      }),
      tuning: REAL_STACK_TUNING,
    };
    const started = await startFailover(this.client, input, { taskQueue: this.taskQueue, requestedBy: signer });
    return this.track(started.workflowId, started.firstExecutionRunId);
  }

  private async startWorkers(withMain: boolean): Promise<void> {
    const deps = this.activityDependencies();
    const { nativeConnection: connection, namespace } = this.env;
    const workers = await Promise.all([
      ...(withMain
        ? [
            getWorkflowBundle().then((workflowBundle) =>
              createWorker({
                connection,
                namespace,
                taskQueue: this.taskQueue,
                activities: createActivities(deps),
                workflowBundle,
              }),
            ),
          ]
        : []),
      // Probe task queues are fixed by the contract (geofailover-probe-<region>): these workers stop in close().
      ...Object.keys(this.group.applicationRegions).map((applicationRegion) =>
        createProbeWorker({ connection, namespace, applicationRegion, activities: createProbeActivities(deps) }),
      ),
    ]);
    for (const worker of workers) this.workers.push({ worker, running: worker.run() });
  }

  /**
   * Starts failoverRunbook as `geofailover start --key` does (same input: names and the commander's signed start,
   * bound to the workers' policy digest), plus second-scale tuning (default REAL_STACK_TUNING). `signer` signs the
   * start (default REQUESTER).
   */
  async startFailover(
    failedRegion: string,
    signer: string = REQUESTER,
    tuning: RunbookTuning = REAL_STACK_TUNING,
  ): Promise<RunbookHandle> {
    const reason = `${failedRegion} outage (real-stack test)`;
    const input: FailoverRunbookInput = {
      ...buildFailoverInput({
        group: this.group,
        failedRegion,
        reason,
        requestedBy: signer,
        request: this.signedStart(failedRegion, reason, signer),
      }),
      tuning,
    };
    const started = await startFailover(this.client, input, { taskQueue: this.taskQueue, requestedBy: signer });
    return this.track(started.workflowId, started.firstExecutionRunId);
  }

  /** Starts failoverRunbook (id failover/GROUP) on this stack's queue with any input at all, as anyone could. */
  async startFailoverWithInput(input: unknown): Promise<RunbookHandle> {
    const started = await this.client.workflow.start(WORKFLOW_TYPES.failoverRunbook, {
      taskQueue: this.taskQueue,
      workflowId: workflowIds.failover(this.group.name),
      args: [input],
    });
    return this.track(started.workflowId, started.firstExecutionRunId);
  }

  /** A handle of a runbook of this stack, terminated by close() if still open. */
  track(workflowId: string, runId?: string): RunbookHandle {
    const handle = this.client.workflow.getHandle<typeof failoverRunbook>(workflowId, runId);
    this.handles.push(handle);
    return handle;
  }

  // ---- what the emulator shows -----------------------------------------------------------------

  /** Accepted mutating ARM calls of one operation, on resources whose id contains `resource`. */
  count(operation: string, resource = ''): number {
    return this.emulator
      .counters()
      .filter((c) => c.operation === operation && c.resourceId.toLowerCase().includes(resource.toLowerCase()))
      .reduce((n, c) => n + c.count, 0);
  }

  /** Who lists whom, as ARM shows it: region → sorted [listed region, link state]. */
  links(): Record<string, [string, string][]> {
    const { databases } = this.emulator.state();
    const regionOf = (id: string): string =>
      databases.find((d) => d.id.toLowerCase() === id.toLowerCase())?.location ?? id;
    return Object.fromEntries(
      databases.map((d) => [
        d.location,
        d.linkedDatabases.map((l): [string, string] => [regionOf(l.id), l.state]).sort(),
      ]),
    );
  }

  /** Every member lists every member (itself included, as ARM does) as Linked; nothing is in outage. */
  assertFullyLinked(): void {
    const regions = Object.keys(this.group.members).sort();
    assert.deepEqual(
      this.links(),
      Object.fromEntries(
        Object.keys(this.group.members).map((r) => [r, regions.map((o): [string, string] => [o, 'Linked'])]),
      ),
      'every member lists every other as Linked',
    );
    assert.deepEqual(this.emulator.state().regionsInOutage, []);
  }

  /** Traffic Manager endpoint name → endpointStatus. */
  endpointStatuses(): Record<string, string> {
    const [profile] = this.emulator.state().trafficManagerProfiles as {
      properties: { endpoints: { name: string; properties: { endpointStatus: string } }[] };
    }[];
    return Object.fromEntries((profile?.properties.endpoints ?? []).map((e) => [e.name, e.properties.endpointStatus]));
  }

  /** Whether a long-running operation of this name is in progress in the emulator. */
  operationInProgress(name: string): boolean {
    return this.emulator.state().operations.some((o) => o.name === name && o.status === 'InProgress');
  }

  // ---- people at their terminals ---------------------------------------------------------------

  /**
   * `geofailover ARGS --config FILE` against the test server: main() of src/cli/main.ts, what the bin runs, in this
   * process with the environment a user's shell gives it (test/e2e/cli.test.ts spawns the bin itself). Acting
   * commands sign: pass `--key`, stack.keyFile(NAME) among the args.
   */
  async cli(args: string[]): Promise<CliRun> {
    let stdout = '';
    let stderr = '';
    const code = await main(
      [...args, '--config', this.configFile],
      { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) },
      { env: cliEnv(this.dir, {}, this.temporalAddress), stderrIsTTY: false, stdoutIsTTY: false },
    );
    return { code, stdout, stderr };
  }

  /** The private key file of a person (one of the configuration's people, or OUTSIDER), for `--key`. */
  keyFile(name: string): string {
    const file = this.keyFiles[name];
    assert.ok(file, `no key file for ${name}`);
    return file;
  }

  /** `geofailover ARGS --key <name's key file>`: what `name` types at their terminal. */
  cliAs(name: string, args: string[]): Promise<CliRun> {
    return this.cli([...args, '--key', this.keyFile(name)]);
  }

  /**
   * `name` runs `geofailover ARGS --key <their key> --print-payload` and saves what it prints, for the plain
   * Temporal CLI's `--input-file`; returns the file.
   */
  async signedPayloadFile(name: string, args: string[]): Promise<string> {
    const printed = await this.cliAs(name, [...args, '--print-payload']);
    assert.equal(printed.code, 0, showRun(printed));
    const file = path.join(this.dir, `${name}-${args[0]}-${randomBytes(4).toString('hex')}.json`);
    writeFileSync(file, printed.stdout);
    return file;
  }

  /** Every accepted mutating ARM call the emulator counted, of any operation. */
  armWrites(): number {
    return this.emulator.counters().reduce((n, c) => n + c.count, 0);
  }

  /** The plain Temporal CLI against the test server, ignoring any profile of the user. */
  async temporal(args: string[]): Promise<CliRun> {
    const address = this.temporalAddress ?? process.env.TEMPORAL_TEST_ADDRESS ?? '';
    return run(
      await temporalCliPath(),
      [...args, '--address', address, '--namespace', 'default', '--disable-config-file', '--disable-config-env'],
      cliEnv(this.dir, {}, address),
    );
  }

  /**
   * `geofailover worker --config FILE` as a process on this stack's task queue; resolves once it polls.
   * Only for stacks started with `mainWorker: false`, so it is the only worker on the queue.
   */
  async spawnWorker(): Promise<SpawnedWorker> {
    // The test run's bundle: the worker starts without bundling the workflows again; a task on the sticky queue of a
    // worker the test killed moves on after 2 s, not 10 (test/helpers/short-sticky-queue.js).
    const bundle = {
      [WORKFLOW_BUNDLE_ENV]: await getWorkflowBundleFile(),
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${SHORT_STICKY_QUEUE}`.trim(),
    };
    const child = spawn(
      process.execPath,
      [BIN, 'worker', '--config', this.configFile, '--task-queue', this.taskQueue],
      {
        env: cliEnv(this.dir, { ...this.workerEnv, ...bundle }, this.temporalAddress),
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.children.push(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`geofailover worker did not start polling within 60 s; stderr:\n${stderr}`));
      }, 60_000);
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/polling task queue/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`geofailover worker exited (${signal ?? code}) before polling; stderr:\n${stderr}`));
      });
    });
    return {
      pid: child.pid as number,
      kill: async (signal) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        await exited;
      },
      hasExited: () => child.exitCode !== null || child.signalCode !== null,
      stderr: () => stderr,
    };
  }

  /** Terminates this stack's open runbooks, stops its workers and processes, closes the emulator. */
  async close(): Promise<void> {
    for (const handle of this.handles.splice(0)) await handle.terminate('test ended').catch(() => undefined);
    await Promise.all(
      this.children.splice(0).map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    for (const { worker } of this.workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    const results = await Promise.allSettled(this.workers.splice(0).map((w) => w.running));
    await this.emulator.close();
    for (const name of Object.keys(this.workerEnv)) delete process.env[name];
    rmSync(this.dir, { recursive: true, force: true });
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/** A local HTTPS server that records every POST, as an escalation webhook receiver (https: only). */
export interface WebhookReceiver {
  url: string;
  /** the CA its certificate is signed by (workers must trust it) */
  caPem: string;
  received: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts a webhook receiver on 127.0.0.1 with a certificate from its own throwaway CA. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const ca = await createCertificateAuthority('geofailover test webhook CA');
  const certificate = await issueServerCertificate(ca, { ips: ['127.0.0.1'] });
  const received: Record<string, unknown>[] = [];
  const server: Server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      try {
        received.push(JSON.parse(body) as Record<string, unknown>);
      } catch {
        received.push({ unparsed: body });
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/escalations/${randomBytes(8).toString('hex')}`,
    caPem: ca.cert,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
