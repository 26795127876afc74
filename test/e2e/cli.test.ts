// The `geofailover` command line as a user meets it: `main(argv, io, env)` of src/cli/main.ts called in the test
// process (what bin/geofailover.js runs, minus the process) against the shared dev server, with a configuration
// file in a temp dir (the tests' people and their public keys) and each person's private key file beside it for
// `--key`; assertions on exit code, stdout and stderr. A few smoke tests spawn the bin itself (it starts, exit
// codes, --help/--version).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { main } from '../../src/cli/main';
import { loadCliConfig, resolveGroup } from '../../src/cli/resolve';
import { STEP_NAMES, workflowIds } from '../../src/contract/names';
import { SEARCH_ATTRIBUTE_KEYS } from '../../src/contract/search-attributes';
import { createProbeWorker, createWorker } from '../../src/worker';
import { OUTSIDER, peopleConfig, writeKeyFiles } from '../helpers/people';
import { FakeGroup, testRegions } from '../helpers/runbook-fakes';
import { waitForStatus } from '../helpers/runbook-status';
import { getTestEnv, getWorkflowBundle, uniqueName, uniqueTaskQueue } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'geofailover.js');
const EXAMPLE = path.join(ROOT, 'geofailover.config.example.json');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

let tempDir = '';
/** person → private key file, for `--key` */
let keys: Record<string, string> = {};

/**
 * The environment of the CLI: the test server, no user Temporal profile, no key of the user, USER=alice
 * unless said.
 */
function cliEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('TEMPORAL_') && !k.startsWith('GEOFAILOVER_') && k !== 'USER' && k !== 'LOGNAME') env[k] = v;
  }
  Object.assign(env, {
    TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_CONFIG_FILE: path.join(tempDir, 'no-such-temporal.toml'),
    USER: 'alice',
  });
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** `geofailover ARGS` in this process: main() with its own environment, output captured, never a terminal. */
async function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(
    args,
    { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) },
    { env: cliEnv(env), stderrIsTTY: false, stdoutIsTTY: false },
  );
  return { code, stdout, stderr };
}

/** `geofailover ARGS` as a process: the bin as a user's shell runs it. */
function spawnCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function show(run: CliRun): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

function expectExit(run: CliRun, code: number, stderr?: RegExp): void {
  assert.equal(run.code, code, show(run));
  if (stderr) assert.match(run.stderr, stderr, show(run));
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);

/** Checks a --json output against its published schema (schemas/cli-*.schema.json). */
function assertSchema(schema: 'status' | 'start' | 'decide' | 'signal' | 'error', doc: unknown): void {
  const file = path.join(ROOT, 'schemas', `cli-${schema}.schema.json`);
  const validate =
    ajv.getSchema(file) ?? (ajv.addSchema(JSON.parse(readFileSync(file, 'utf8')), file), ajv.getSchema(file));
  assert.ok(validate);
  assert.ok(
    validate(doc),
    `output matches schemas/cli-${schema}.schema.json: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(doc, null, 1)}`,
  );
}

/** stdout as one JSON document, checked against its schema (an error document when the exit code says so). */
function parseJson<T = any>(run: CliRun, schema?: 'status' | 'start' | 'decide' | 'signal'): T {
  let doc: T;
  try {
    doc = JSON.parse(run.stdout) as T;
  } catch {
    assert.fail(`stdout is not one JSON document\n${show(run)}`);
  }
  if (run.code !== 0 && (doc as { error?: unknown }).error) assertSchema('error', doc);
  else if (schema) assertSchema(schema, doc);
  return doc;
}

/** `--key FILE` of a person (one of the configuration's people, or OUTSIDER). */
function key(name: string): string[] {
  const file = keys[name];
  assert.ok(file, `no key file for ${name}`);
  return ['--key', file];
}

/**
 * The example configuration with its group renamed (and changed), written to the temp dir; its people are the
 * tests' people, with the public keys of the key files in `keys`.
 */
function writeConfig(group: string, change: (g: any, config: any) => void = () => undefined): string {
  const config = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
  delete config.$schema;
  config.people = peopleConfig();
  const g = config.groups.leaderboard;
  config.groups = { [group]: g };
  change(g, config);
  const file = path.join(tempDir, `${group}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

describe('geofailover CLI', () => {
  before(() => {
    tempDir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-cli-'));
    keys = writeKeyFiles(path.join(tempDir, 'keys'));
  });
  after(() => {
    rmSync(tempDir, { recursive: true, force: true });
  });

  describe('the bin, spawned as a process', function () {
    this.timeout(90_000);

    it('starts from the sources and answers --version, --help, bad usage (2) and a refusal (1)', async () => {
      const group = uniqueName('spawned');
      const config = writeConfig(group);
      const start = ['start', '--config', config, '--group', group, '--failed-region', 'eastus'];
      const [version, help, usage, refused] = await Promise.all([
        spawnCli(['--version']),
        spawnCli(['--help']),
        spawnCli(start),
        spawnCli([
          'start',
          '--config',
          config,
          '--group',
          uniqueName('nogroup'),
          '--failed-region',
          'eastus',
          '--reason',
          'r',
        ]),
      ]);
      expectExit(version, 0);
      assert.match(version.stdout, /^\d+\.\d+\.\d+/);
      expectExit(help, 0);
      for (const command of ['start', 'status', 'approve', 'reject', 'worker', 'drill', 'audit']) {
        assert.match(help.stdout, new RegExp(`\\n  ${command}\\b`), `--help lists ${command}`);
      }
      expectExit(usage, 2, /required option '--reason <text>' not specified/);
      expectExit(refused, 1, new RegExp(`no group "nogroup-[0-9a-f]+" in .*; known groups: ${group}`));
    });
  });

  describe('in process (main)', function () {
    this.timeout(90_000);
    let env: TestWorkflowEnvironment;
    const started: string[] = [];

    async function exists(workflowId: string): Promise<boolean> {
      try {
        await env.client.workflow.getHandle(workflowId).describe();
        return true;
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) return false;
        throw e;
      }
    }

    before(async () => {
      env = await getTestEnv();
    });

    after(async () => {
      for (const id of started) {
        await env.client.workflow
          .getHandle(id)
          .terminate('test cleanup')
          .catch(() => undefined);
      }
      await env?.teardown();
    });

    it('answers bad usage with exit code 2 and says what is wrong', async () => {
      const group = uniqueName('usage');
      const config = writeConfig(group);
      const start = ['start', '--config', config, '--group', group];
      const signed = [...start, '--failed-region', 'eastus', '--reason', 'r'];
      const [noReason, blankReason, badAction, noRef, unknownOption, noKey, jsonUsage, dryAndWait, nobody] =
        await Promise.all([
          runCli([...start, '--failed-region', 'eastus']),
          runCli([...start, '--failed-region', 'eastus', '--reason', '   ']),
          runCli(['intervene', group, '--action', 'maybe', ...key('sre-lead')]),
          runCli(['status']),
          runCli([...start, '--failed-region', 'eastus', '--reason', 'r', '--bogus']),
          runCli(['approve', group, '--config', config]),
          runCli([...start, '--reason', 'r', '--json']),
          runCli([...start, '--failed-region', 'eastus', '--reason', 'r', '--dry-run', '--wait']),
          runCli(signed, { USER: undefined, LOGNAME: undefined }),
        ]);
      const [unknownKey, otherKey, missingKey] = await Promise.all([
        runCli([...signed, ...key(OUTSIDER)]),
        runCli([...signed, ...key('sre-lead'), '--by', 'sre-manager']),
        runCli([...signed, '--key', path.join(tempDir, 'no-such.key')]),
      ]);
      expectExit(noReason, 2, /required option '--reason <text>' not specified/);
      expectExit(blankReason, 2, /--reason must not be empty/);
      expectExit(badAction, 2, /Allowed choices are retry, skip, abort/);
      expectExit(noRef, 2, /missing required argument/);
      expectExit(unknownOption, 2, /unknown option '--bogus'/);
      expectExit(noKey, 2, /every action is a signed statement: pass --key FILE \(or set GEOFAILOVER_KEY=FILE\)/);
      expectExit(jsonUsage, 2);
      const report = parseJson(jsonUsage);
      assert.equal(report.error.code, 'usage');
      assert.equal(report.error.exitCode, 2);
      assert.match(report.error.message, /--failed-region/);
      expectExit(dryAndWait, 2, /--dry-run and --wait cannot be combined/);
      expectExit(nobody, 2, /pass --key FILE/);
      expectExit(unknownKey, 2, /belongs to nobody in the configuration’s people/);
      expectExit(otherKey, 2, /--by sre-manager, but the key SHA256:\S+ belongs to sre-lead/);
      expectExit(missingKey, 2, /--key .*no-such\.key: /);
      assert.equal(await exists(workflowIds.failover(group)), false, 'no usage error started a workflow');
    });

    it('refuses bad input with exit code 1 before anything starts, naming the problem', async () => {
      const good = uniqueName('good');
      const goodConfig = writeConfig(good);
      const badId = uniqueName('badid');
      const badIdConfig = writeConfig(badId, (g) => {
        g.members.westeurope = '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Cache/redis/westeurope';
      });
      const badSchema = uniqueName('schema');
      const badSchemaConfig = writeConfig(badSchema, (g) => {
        g.quorum.unlink = 'two';
      });
      const single = uniqueName('single');
      const singleConfig = writeConfig(single, (g) => {
        g.members = { eastus: g.members.eastus };
        g.trafficManager.endpoints = { eastus: g.trafficManager.endpoints.eastus };
        g.applicationRegions = { eastus: { eastus: g.applicationRegions.eastus.eastus } };
      });
      const notJson = path.join(tempDir, 'not-json.json');
      writeFileSync(notJson, '{ "groups": ');
      const unknown = uniqueName('unknown');
      const start = (config: string, group: string, region = 'eastus', ...more: string[]): Promise<CliRun> =>
        runCli(['start', '--config', config, '--group', group, '--failed-region', region, '--reason', 'r', ...more]);

      const [unknownGroup, notMember, notMemberJson, malformedId, schema, onlyMember, missing, invalidJson] =
        await Promise.all([
          start(goodConfig, unknown),
          start(goodConfig, good, 'centralus'),
          start(goodConfig, good, 'EastUS', '--json'),
          start(badIdConfig, badId),
          start(badSchemaConfig, badSchema),
          start(singleConfig, single),
          start(path.join(tempDir, 'missing.json'), good),
          start(notJson, good),
        ]);

      expectExit(unknownGroup, 1, new RegExp(`no group "${unknown}" in .*; known groups: ${good}`));
      expectExit(
        notMember,
        1,
        new RegExp(`centralus is not a member of group ${good}; its members are eastus, westeurope, southeastasia`),
      );
      expectExit(notMemberJson, 1);
      const refusal = parseJson(notMemberJson);
      assert.equal(refusal.error.code, 'not-a-member');
      assert.equal(refusal.error.exitCode, 1);
      assert.deepEqual(refusal.error.details.members, ['eastus', 'westeurope', 'southeastasia']);
      assert.match(refusal.error.hint, /did you mean --failed-region eastus/);
      expectExit(malformedId, 1, new RegExp(`${badId}\\.json: invalid configuration`));
      assert.match(
        malformedId.stderr,
        new RegExp(`groups\\.${badId}\\.members\\.westeurope: expected a database resource id`),
      );
      expectExit(schema, 1, new RegExp(`groups\\.${badSchema}\\.quorum\\.unlink`));
      expectExit(
        onlyMember,
        1,
        new RegExp(`groups\\.${single}\\.members: a geo-replication group needs at least two members`),
      );
      expectExit(missing, 1, /missing\.json: no such file/);
      expectExit(invalidJson, 1, /not-json\.json:\d+:\d+: not valid JSON/);

      for (const group of [good, badId, badSchema, single, unknown]) {
        assert.equal(await exists(workflowIds.failover(group)), false, `nothing started for ${group}`);
      }
    });

    it('--dry-run --offline prints the plan without contacting Temporal and starts nothing', async () => {
      const group = uniqueName('dry');
      const config = writeConfig(group, (g) => {
        g.quorum.unlink = 2;
      });
      // An address nothing listens on: the plan needs no server.
      const offline = { TEMPORAL_ADDRESS: '127.0.0.1:1', USER: 'incident-cmdr' };
      const args = ['start', '--config', config, '--group', group, '--failed-region', 'eastus', '--reason', 'drill'];
      const [text, json, signed] = await Promise.all([
        runCli([...args, '--dry-run', '--offline'], offline),
        runCli([...args, '--dry-run', '--offline', '--json'], offline),
        runCli([...args, '--dry-run', '--offline', '--json', ...key('sre-lead')], offline),
      ]);
      expectExit(text, 0);
      assert.match(text.stdout, /dry run: nothing was started or changed/);
      const positions = STEP_NAMES.map((s) => text.stdout.indexOf(`. ${s}: `));
      assert.ok(
        positions.every((p, i) => p > 0 && (i === 0 || p > (positions[i - 1] ?? 0))),
        `every step, in order:\n${text.stdout}`,
      );
      assert.match(text.stdout, /disable ExternalEndpoints\/eastus in .*trafficManagerProfiles\/tm-leaderboard/);
      assert.match(
        text.stdout,
        /from westeurope \(task queue geofailover-probe-westeurope\) to southeastasia at 127\.0\.0\.1:16012/,
      );
      assert.match(text.stdout, /approval-unlink: quorum 2, approvers sre-lead, sre-manager, data-owner/);
      assert.match(text.stdout, /requested by incident-cmdr/);

      expectExit(json, 0);
      const plan = parseJson(json, 'start');
      assert.equal(plan.dryRun, true);
      assert.equal(plan.workflowId, workflowIds.failover(group));
      assert.deepEqual(
        plan.steps.map((s: { step: string }) => s.step),
        [...STEP_NAMES],
      );
      assert.deepEqual(plan.survivors, ['westeurope', 'southeastasia']);
      assert.equal(plan.requestedBy, 'incident-cmdr');
      // The input names the group; its definition, people and quorum are the worker's own.
      assert.equal(plan.input.group, group);
      assert.deepEqual(Object.keys(plan.input).sort(), ['failedRegion', 'group', 'reason', 'request']);
      assert.equal(plan.input.request.signature, '', 'unsigned without --key');
      assert.equal(plan.gates.find((g: { gate: string }) => g.gate === 'approval-unlink').quorum, 2);

      // With --key the plan shows the very start the run would get, signed; still offline.
      expectExit(signed, 0);
      const signedPlan = parseJson(signed, 'start');
      assert.equal(signedPlan.requestedBy, 'sre-lead', 'the signer, from whose key it is');
      const statement = JSON.parse(signedPlan.input.request.statement);
      assert.deepEqual(
        [statement.action, statement.actor, statement.workflowId, statement.runId, statement.targets],
        [
          'start',
          'sre-lead',
          workflowIds.failover(group),
          null,
          [JSON.parse(readFileSync(config, 'utf8')).groups[group].members.eastus],
        ],
      );
      assert.match(statement.detail.policyDigest, /^sha256:[0-9a-f]{64}$/);
      assert.match(signedPlan.input.request.signature, /^-----BEGIN SSH SIGNATURE-----/);
      assert.equal(await exists(workflowIds.failover(group)), false, 'a dry run starts nothing');
    });

    it('starts one incident per group, refuses a second naming the open one, and signals only open runbooks', async () => {
      const group = uniqueName('open');
      const config = writeConfig(group);
      // No worker polls this queue: the runbook is started and stays open without running a step.
      const taskQueue = uniqueTaskQueue('cli-idle');
      const args = [
        'start',
        '--config',
        config,
        '--task-queue',
        taskQueue,
        '--group',
        group,
        '--failed-region',
        'eastus',
      ];
      const first = await runCli([...args, '--reason', 'eastus is down', ...key('sre-lead'), '--json']);
      expectExit(first, 0, /no worker polls task queue/);
      const result = parseJson(first, 'start');
      const workflowId = workflowIds.failover(group);
      started.push(workflowId);
      assert.equal(result.workflowId, workflowId);
      assert.equal(result.requestedBy, 'sre-lead', 'the signer, from whose key it is');
      assert.deepEqual(result.survivors, ['westeurope', 'southeastasia']);

      const description = await env.client.workflow.getHandle(workflowId).describe();
      assert.equal(description.status.name, 'RUNNING');
      assert.equal(description.runId, result.runId);
      assert.equal(description.typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.group), group);
      assert.equal(description.typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.failedRegion), 'eastus');
      assert.match((await description.staticSummary()) ?? '', /eastus failed; requested by sre-lead: eastus is down/);

      const rejoinArgs = [
        'rejoin',
        '--config',
        config,
        '--task-queue',
        taskQueue,
        '--group',
        group,
        ...key('sre-lead'),
      ];
      const [second, secondJson, status, noneOpen, readiness, probeWorker, rejoinDuring] = await Promise.all([
        runCli([...args, '--reason', 'again', ...key('sre-lead')]),
        runCli([...args, '--reason', 'again', ...key('sre-lead'), '--json']),
        runCli(['status', group, '--json']),
        runCli(['recovered', uniqueName('none'), '--config', config, ...key('sre-lead')]),
        runCli(['readiness', '--config', config, '--task-queue', taskQueue, '--json']),
        runCli(['worker', '--config', config, '--probe-region', 'nowhere']),
        runCli([...rejoinArgs, '--region', 'eastus', '--reason', 'eastus is back']),
      ]);
      expectExit(
        rejoinDuring,
        1,
        new RegExp(`a failover of this group is open: workflow ${workflowId}.*nothing was started`),
      );
      expectExit(readiness, 1, new RegExp(`no worker polls task queue ${taskQueue}, so nobody would run the check`));
      assert.equal(parseJson(readiness).error.code, 'no-worker');
      expectExit(probeWorker, 1, /--probe-region nowhere: no group probes from it/);
      expectExit(
        second,
        1,
        new RegExp(`an incident is already open for group ${group}: workflow ${workflowId} \\(run ${result.runId}`),
      );
      assert.match(second.stderr, new RegExp(`geofailover status ${group}`));
      expectExit(secondJson, 1);
      assert.equal(parseJson(secondJson).error.code, 'already-open');
      assert.equal((await env.client.workflow.getHandle(workflowId).describe()).runId, result.runId, 'same run');

      expectExit(status, 0);
      const view = parseJson(status, 'status');
      assert.equal(view.workflowId, workflowId);
      assert.equal(view.execution, 'running');
      assert.match(view.note, /no worker polls task queue/);
      expectExit(noneOpen, 1, /no open runbook for group .*: failover\/.* and rejoin\/.* do not exist/);

      const abort = await runCli([
        'abort',
        group,
        '--config',
        config,
        ...key('sre-lead'),
        '--reason',
        'false alarm',
        '--json',
      ]);
      expectExit(abort, 0);
      const sent = parseJson(abort, 'signal');
      assert.equal(sent.signal, 'abort');
      assert.equal(sent.payload.by, 'sre-lead');
      assert.equal(
        JSON.parse(sent.payload.proof.statement).action,
        'abort',
        'the payload carries its signed statement',
      );
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      const signals = (history.events ?? []).flatMap((e) =>
        e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes] : [],
      );
      assert.deepEqual(
        signals.map((s) => s.signalName),
        ['abort'],
      );
      assert.match(signals[0]?.identity ?? '', /^geofailover:sre-lead@/, 'history names who signalled');

      await env.client.workflow.getHandle(workflowId).terminate('test: closed');
      const [late, lateStatus] = await Promise.all([
        runCli(['unlink-now', group, '--config', config, ...key('sre-lead'), '--reason', 'too late']),
        runCli(['status', workflowId]),
      ]);
      expectExit(late, 1, new RegExp(`no open runbook for group ${group}: ${workflowId} is terminated`));
      expectExit(lateStatus, 0);
      assert.match(lateStatus.stdout, /outcome: terminated: test: closed/);

      // Once the failover is closed, a rejoin of the region may start — once, and only for a member.
      const [rejoin, notMember] = await Promise.all([
        runCli([...rejoinArgs, '--region', 'eastus', '--reason', 'eastus is back', '--json']),
        runCli([...rejoinArgs, '--region', 'mars', '--reason', 'no such member']),
      ]);
      expectExit(rejoin, 0);
      const rejoinId = workflowIds.rejoin(group);
      started.push(rejoinId);
      assert.equal(parseJson(rejoin).workflowId, rejoinId);
      assert.equal((await env.client.workflow.getHandle(rejoinId).describe()).type, 'rejoinRunbook');
      expectExit(notMember, 1, /mars is not a member of group/);
      expectExit(
        await runCli([...rejoinArgs, '--region', 'eastus', '--reason', 'again']),
        1,
        /a rejoin of group .* is already open/,
      );
    });
  });

  describe('driving a runbook (worker with mocked activities in the test process)', function () {
    this.timeout(90_000);
    let env: TestWorkflowEnvironment;

    before(async () => {
      env = await getTestEnv();
    });
    after(async () => {
      await env?.teardown();
    });

    it('start --wait follows an incident through its gates; approve refuses the requester and accepts an approver', async () => {
      const regions = testRegions();
      const [failed] = regions;
      const group = uniqueName('cli-run');
      const config = writeConfig(group, (g) => {
        const byRegion = <T>(f: (r: string, i: number) => T): Record<string, T> =>
          Object.fromEntries(regions.map((r, i) => [r, f(r, i)]));
        const prefix = String(g.members.eastus).replace(/redis-leaderboard-eastus\/databases\/default$/, '');
        g.members = byRegion((r) => `${prefix}redis-${r}/databases/default`);
        g.trafficManager.endpoints = byRegion((r) => ({ type: 'ExternalEndpoints', name: r }));
        g.applicationRegions = byRegion((_, i) => byRegion((__, j) => `127.0.0.1:${16000 + 10 * i + j}`));
        g.durations = {
          approvalTimeout: '30s',
          escalationTimeout: '30s',
          recoveryPollInterval: '250ms',
          maxOutageBeforeUnlink: '1h',
          resyncTimeout: '5s',
          probeTimeout: '1s',
        };
      });
      // The worker acts on exactly what the CLI resolves from the file.
      const fake = new FakeGroup(resolveGroup(loadCliConfig(config), group), failed);
      const taskQueue = uniqueTaskQueue('cli-runbook');
      const bundle = await getWorkflowBundle();
      const workers: Worker[] = [
        await createWorker({
          connection: env.nativeConnection,
          namespace: env.namespace,
          taskQueue,
          activities: fake.activities(),
          workflowBundle: bundle,
        }),
        ...(await Promise.all(
          regions.map((applicationRegion) =>
            createProbeWorker({
              connection: env.nativeConnection,
              namespace: env.namespace,
              applicationRegion,
              activities: fake.probeActivities(),
            }),
          ),
        )),
      ];
      const workflowId = workflowIds.failover(group);
      const globals = ['--config', config, '--task-queue', taskQueue];

      const body = async (): Promise<void> => {
        const startArgs = [...globals, 'start', '--group', group, '--failed-region', failed];
        // `start --wait` runs the whole time, following the incident; if a check fails, the run is terminated,
        // which ends the wait.
        const waiting = runCli([
          ...startArgs,
          '--reason',
          'region down',
          ...key('sre-lead'),
          '--wait',
          '--json',
          '--interval',
          '200',
        ]);
        try {
          await waitForStatus(
            env.client.workflow.getHandle(workflowId),
            (s) => s.currentStep === 'await-recovery',
            'await-recovery',
          );
          const [second, unlinkNow] = await Promise.all([
            runCli([...startArgs, '--reason', 'again', ...key('sre-lead')]),
            runCli([
              'unlink-now',
              group,
              ...globals,
              ...key('sre-lead'),
              '--reason',
              'the region will be down for days',
            ]),
          ]);
          expectExit(second, 1, new RegExp(`an incident is already open for group ${group}: workflow ${workflowId}`));
          expectExit(unlinkNow, 0);
          await waitForStatus(
            env.client.workflow.getHandle(workflowId),
            (s) => s.openGate?.gate === 'approval-unlink',
            'unlink gate',
          );

          const [statusJson, statusText, byRequester, byStranger] = await Promise.all([
            runCli(['status', group, '--json']),
            runCli(['status', workflowId]),
            runCli(['approve', group, ...globals, ...key('sre-lead')]),
            runCli(['approve', group, ...globals, ...key(OUTSIDER), '--by', OUTSIDER, '--json']),
          ]);
          expectExit(statusJson, 0);
          const view = parseJson(statusJson, 'status');
          assert.equal(view.workflowId, workflowId);
          assert.equal(view.execution, 'running');
          assert.equal(view.source, 'query');
          assert.deepEqual(
            view.status.steps.map((st: { step: string }) => st.step),
            [...STEP_NAMES],
          );
          for (const st of view.status.steps) {
            assert.equal(typeof st.status, 'string');
            assert.equal(typeof st.attempts, 'number');
            assert.equal(typeof st.summary, 'string');
          }
          assert.equal(view.status.group, group);
          assert.equal(view.status.failedRegion, failed);
          assert.equal(view.status.openGate.gate, 'approval-unlink');
          expectExit(statusText, 0);
          assert.match(statusText.stdout, /STEP\s+STATUS\s+ATTEMPTS\s+DURATION\s+ACTOR\s+SUMMARY/);
          assert.match(statusText.stdout, /traffic-reroute\s+succeeded/);
          assert.match(statusText.stdout, /open gate: approval-unlink, 0 of 1 approval/);
          assert.match(statusText.stdout, new RegExp(`approve:\\s+geofailover approve ${group} `));

          expectExit(byRequester, 1);
          assert.match(byRequester.stdout, /refused: approve by sre-lead on approval-unlink of .*four-eyes/);
          expectExit(byStranger, 1);
          const strangerAnswer = parseJson(byStranger, 'decide');
          assert.equal(strangerAnswer.accepted, false);
          assert.match(strangerAnswer.reason, /mallory.* is not a person in the worker's configuration/);
          assert.equal(fake.calls.forceUnlink, 0, 'refused approvals change nothing');

          const approved = await runCli([
            'approve',
            group,
            ...globals,
            ...key('sre-manager'),
            '--comment',
            'memory keeps growing',
            '--json',
          ]);
          expectExit(approved, 0);
          const approval = parseJson(approved, 'decide');
          assert.equal(approval.accepted, true);
          assert.equal(approval.approver, 'sre-manager', 'the signer, from whose key it is');
          assert.match(approval.fingerprint, /^SHA256:/);
          const unlinked = await waitForStatus(
            env.client.workflow.getHandle(workflowId),
            (s) => s.steps.some((st) => st.step === 'force-unlink' && st.status === 'succeeded'),
            'force-unlink',
          );
          const refused = unlinked.steps.find((st) => st.step === 'approval-unlink')?.refusedAttempts ?? [];
          assert.deepEqual(
            refused.map((r) => r.by).sort(),
            ['mallory (unverified)', 'sre-lead'],
            'refusals are in the step log',
          );
          assert.equal(fake.calls.forceUnlink, 1);

          fake.failedAnswers = true;
          expectExit(await runCli(['recovered', group, ...globals, ...key('sre-lead'), '--comment', 'back']), 0);
          await waitForStatus(
            env.client.workflow.getHandle(workflowId),
            (s) => s.openGate?.gate === 'approval-rejoin',
            'rejoin gate',
          );
          expectExit(await runCli(['reject', group, ...globals, ...key(OUTSIDER), '--by', OUTSIDER]), 1);
          expectExit(await runCli(['approve', group, ...globals, ...key('data-owner')]), 0);
        } catch (e) {
          await env.client.workflow
            .getHandle(workflowId)
            .terminate('test failed')
            .catch(() => undefined);
          await waiting;
          throw e;
        }
        {
          const run = await waiting;
          expectExit(run, 0);
          const lines = run.stdout
            .trim()
            .split('\n')
            .map(
              (l) =>
                JSON.parse(l) as {
                  type: string;
                  step?: { step: string; status: string };
                  outcome?: string;
                  gate?: { gate: string } | null;
                  decided?: { gate: string; outcome: string };
                },
            );
          for (const line of lines) assertSchema('start', line);
          assert.equal(lines[0]?.type, 'started');
          assert.ok(
            lines.some((l) => l.type === 'step' && l.step?.step === 'force-unlink' && l.step.status === 'succeeded'),
            'one line per step change, force-unlink included',
          );
          // Every gate is in the stream, even one opened and decided between two polls of a busy machine.
          for (const gate of ['approval-unlink', 'approval-rejoin']) {
            assert.ok(
              lines.some((l) => l.type === 'gate' && (l.gate?.gate === gate || l.decided?.gate === gate)),
              `gate changes are lines too: ${gate}`,
            );
            assert.ok(
              lines.some((l) => l.decided?.gate === gate && l.decided.outcome === 'approved'),
              `how ${gate} was decided is a line`,
            );
          }
          const last = lines[lines.length - 1];
          assert.equal(last?.type, 'closed');
          assert.equal(last?.outcome, 'completed');
        }
        const final = await runCli(['status', group]);
        expectExit(final, 0);
        assert.match(final.stdout, /outcome: completed/);
        assert.match(final.stdout, /complete\s+succeeded/);
      };

      const nest = ([first, ...rest]: Worker[]): Promise<void> => (first ? first.runUntil(() => nest(rest)) : body());
      await nest(workers);
      assert.equal(fake.calls.rejoinMember, 1);
    });
  });
});
