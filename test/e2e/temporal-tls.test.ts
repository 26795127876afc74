// Temporal as platform teams run it: the CLI and a worker connect through TLS, mTLS and an API key, configured
// with an envconfig profile file (temporal.toml) or TEMPORAL_* variables. `temporal server start-dev` serves no TLS,
// so the shared dev server sits behind TLS fronts (test/helpers/tls-proxy.ts): one with a server certificate, one that
// also requires a client certificate, one that terminates HTTP/2 to check each call's `authorization` header.
// The CLI runs through its main() with its own environment; the worker through runWorker.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ProbeActivities } from '../../src/activities/types';
import { main } from '../../src/cli/main';
import { probeTaskQueue, workflowIds } from '../../src/contract/names';
import { resolveTemporalSettings } from '../../src/temporal/connection';
import { TemporalConnectError } from '../../src/temporal/diagnose';
import { runWorker } from '../../src/worker';
import { peopleConfig, writeKeyFiles } from '../helpers/people';
import { getTestEnv, uniqueName, uniqueTaskQueue } from '../helpers/temporal';
import {
  issueClientCertificate,
  startGrpcProxy,
  startTlsProxy,
  testCa,
  type GrpcProxy,
  type TlsProxy,
} from '../helpers/tls-proxy';

const ROOT = path.resolve(__dirname, '../..');
const UI = 'http://temporal-ui.example:8233';
const API_KEY = 'test-api-key-0123456789';
// temporal.api.enums.v1: TaskQueueKind.NORMAL, TaskQueueType.ACTIVITY
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
function assertSchema(schema: 'status' | 'start' | 'error', doc: unknown): void {
  const file = path.join(ROOT, 'schemas', `cli-${schema}.schema.json`);
  const validate =
    ajv.getSchema(file) ?? (ajv.addSchema(JSON.parse(readFileSync(file, 'utf8')), file), ajv.getSchema(file));
  assert.ok(validate?.(doc), `matches schemas/cli-${schema}.schema.json: ${ajv.errorsText(validate?.errors)}`);
}

describe('Temporal over TLS, mTLS and API keys (envconfig profiles)', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let dir = '';
  let toml = '';
  let tlsProxy: TlsProxy;
  let mtlsProxy: TlsProxy;
  let keyProxy: GrpcProxy;
  let caFile = '';
  let config = '';
  let keys: Record<string, string> = {};
  const started: string[] = [];

  /** The CLI's environment: only the profile file and what a test adds; no TEMPORAL_ADDRESS of the test run. */
  async function cli(args: string[], extra: Record<string, string> = {}): Promise<CliRun> {
    let stdout = '';
    let stderr = '';
    const code = await main(
      args,
      { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) },
      {
        env: { PATH: process.env.PATH, HOME: dir, USER: 'sre-lead', TEMPORAL_CONFIG_FILE: toml, ...extra },
        stderrIsTTY: false,
        stdoutIsTTY: false,
      },
    );
    return { code, stdout, stderr };
  }
  const show = (run: CliRun): string => `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

  before(async () => {
    env = await getTestEnv();
    const upstream = process.env.TEMPORAL_TEST_ADDRESS!;
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-tls-'));
    const [serverCa, clientCa] = await Promise.all([testCa('temporal server CA'), testCa('temporal client CA')]);
    const client = await issueClientCertificate(clientCa, 'geofailover-worker');
    [tlsProxy, mtlsProxy, keyProxy] = await Promise.all([
      startTlsProxy({ upstream, ca: serverCa }),
      startTlsProxy({ upstream, ca: serverCa, clientCa }),
      startGrpcProxy({ upstream, ca: serverCa, apiKey: API_KEY }),
    ]);
    caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, serverCa.cert);
    writeFileSync(path.join(dir, 'client.pem'), client.cert);
    writeFileSync(path.join(dir, 'client.key'), client.key);
    toml = path.join(dir, 'temporal.toml');
    // Relative paths in a profile are read from the current directory, as Temporal's tools do: these are absolute.
    writeFileSync(
      toml,
      `[profile.tls]
address = "localhost:${tlsProxy.port}"
namespace = "default"
[profile.tls.tls]
server_ca_cert_path = "${caFile}"

[profile.mtls]
address = "localhost:${mtlsProxy.port}"
namespace = "default"
[profile.mtls.tls]
server_ca_cert_path = "${caFile}"
client_cert_path = "${path.join(dir, 'client.pem')}"
client_key_path = "${path.join(dir, 'client.key')}"

[profile.mtls-nocert]
address = "localhost:${mtlsProxy.port}"
[profile.mtls-nocert.tls]
server_ca_cert_path = "${caFile}"
`,
    );
    keys = writeKeyFiles(path.join(dir, 'keys'));
    const example = JSON.parse(readFileSync(path.join(ROOT, 'geofailover.config.example.json'), 'utf8'));
    delete example.$schema;
    example.people = peopleConfig();
    config = path.join(dir, 'geofailover.config.json');
    writeFileSync(config, JSON.stringify(example, null, 2));
  });

  after(async () => {
    for (const id of started) {
      await env.client.workflow
        .getHandle(id)
        .terminate('test cleanup')
        .catch(() => undefined);
    }
    await Promise.all([tlsProxy?.close(), mtlsProxy?.close(), keyProxy?.close()]);
    await env?.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the CLI starts a runbook and shows its status through a TLS profile, with the run’s Web UI link', async () => {
    const group = Object.keys(JSON.parse(readFileSync(config, 'utf8')).groups)[0]!;
    // A configuration of its own per run: the group's workflow id is failover/<group>, one per namespace.
    const mine = uniqueName('tls');
    const raw = JSON.parse(readFileSync(config, 'utf8'));
    raw.groups = { [mine]: raw.groups[group] };
    raw.temporal = { profile: 'tls', uiUrl: UI };
    const file = path.join(dir, `${mine}.json`);
    writeFileSync(file, JSON.stringify(raw));
    const before = tlsProxy.accepted;
    const taskQueue = uniqueTaskQueue('tls');
    const start = await cli([
      'start',
      '--config',
      file,
      '--task-queue',
      taskQueue,
      '--group',
      mine,
      '--failed-region',
      'eastus',
      '--reason',
      'TLS drill',
      '--key',
      keys['sre-lead']!,
      '--json',
    ]);
    assert.equal(start.code, 0, show(start));
    const result = JSON.parse(start.stdout);
    started.push(result.workflowId);
    assertSchema('start', result);
    assert.equal(result.workflowId, workflowIds.failover(mine));
    const link = `${UI}/namespaces/default/workflows/${encodeURIComponent(result.workflowId)}/${result.runId}/history`;
    assert.equal(result.webUi, link);
    assert.ok(tlsProxy.accepted > before, 'the CLI went through the TLS front');
    // The run is on the real server.
    const described = await env.client.workflow.getHandle(result.workflowId).describe();
    assert.equal(described.runId, result.runId);

    const [json, text] = await Promise.all([
      cli(['status', mine, '--config', file, '--json']),
      cli(['status', mine, '--config', file]),
    ]);
    assert.equal(json.code, 0, show(json));
    const view = JSON.parse(json.stdout);
    assertSchema('status', view);
    assert.equal(view.runId, result.runId);
    assert.equal(view.webUi, link);
    assert.equal(text.code, 0, show(text));
    assert.ok(text.stdout.includes(`Web UI: ${link}`), show(text));
  });

  it('a worker connects through an mTLS profile and polls its task queue', async () => {
    const region = `tls${Date.now().toString(36)}`;
    const temporal = resolveTemporalSettings({ flags: { profile: 'mtls' }, env: { TEMPORAL_CONFIG_FILE: toml } });
    assert.equal(temporal.tls, 'mtls');
    const stop = new AbortController();
    const activities = { probeEndpoints: async () => [] } as unknown as ProbeActivities;
    const before = mtlsProxy.accepted;
    const running = runWorker({ activities, probeRegion: region, temporal, signal: stop.signal });
    running.catch(() => undefined);
    try {
      let pollers = 0;
      for (let i = 0; i < 100 && pollers === 0; i++) {
        const r = await env.client.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: probeTaskQueue(region), kind: TASK_QUEUE_KIND_NORMAL },
          taskQueueType: TASK_QUEUE_TYPE_ACTIVITY,
        });
        pollers = r.pollers?.length ?? 0;
        if (pollers === 0) await new Promise((res) => setTimeout(res, 200));
      }
      assert.ok(pollers > 0, 'the worker polls through the mTLS front');
      assert.ok(mtlsProxy.accepted > before);
    } finally {
      stop.abort();
    }
    await running;
  });

  it('`geofailover worker` connects through the profile its configuration names (mTLS), and says so', async () => {
    // A probe worker for an application region of its own: it polls a queue no other test uses.
    const region = `probe${randomBytes(4).toString('hex')}`;
    const raw = JSON.parse(readFileSync(config, 'utf8'));
    const group = Object.values(raw.groups)[0] as { applicationRegions: Record<string, unknown> };
    group.applicationRegions = { [region]: Object.values(group.applicationRegions)[0] };
    raw.temporal = { profile: 'mtls' };
    delete raw.azure.caFile; // the emulator's CA: no emulator here, and nothing is called
    const file = path.join(dir, `worker-${region}.json`);
    writeFileSync(file, JSON.stringify(raw));
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'bin', 'geofailover.js'), 'worker', '--probe-region', region, '--config', file],
      {
        env: { PATH: process.env.PATH, HOME: dir, TEMPORAL_CONFIG_FILE: toml, CI: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      for (let i = 0; i < 600 && !/polling task queue/.test(stderr) && child.exitCode === null; i++) {
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.match(
        stderr,
        new RegExp(
          `probe worker for ${region}: polling task queue geofailover-probe-${region} at localhost:${mtlsProxy.port} ` +
            '\\(namespace default, TLS with client certificate, profile "mtls"\\)',
        ),
      );
      let pollers = 0;
      for (let i = 0; i < 100 && pollers === 0; i++) {
        const r = await env.client.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: probeTaskQueue(region), kind: TASK_QUEUE_KIND_NORMAL },
          taskQueueType: TASK_QUEUE_TYPE_ACTIVITY,
        });
        pollers = r.pollers?.length ?? 0;
        if (pollers === 0) await new Promise((res) => setTimeout(res, 200));
      }
      assert.ok(pollers > 0, 'the worker polls through the mTLS front');
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr);
  });

  it('refuses with a clear next step: mTLS without a client certificate, an untrusted server, TLS off, no server', async () => {
    const refusedBefore = mtlsProxy.refused;
    const [withCert, noCert, untrusted, plainToTls, nothing] = await Promise.all([
      cli(['status', uniqueName('nothing'), '--json', '--profile', 'mtls']),
      cli(['status', 'nothing', '--json', '--profile', 'mtls-nocert']),
      cli(['status', 'nothing', '--json'], { TEMPORAL_ADDRESS: `localhost:${tlsProxy.port}`, TEMPORAL_TLS: 'true' }),
      cli(['status', 'nothing', '--json'], { TEMPORAL_ADDRESS: `localhost:${tlsProxy.port}` }),
      cli(['status', 'nothing', '--json'], { TEMPORAL_ADDRESS: '127.0.0.1:1' }),
    ]);
    const error = (run: CliRun) => {
      assert.equal(run.code, 1, show(run));
      const doc = JSON.parse(run.stdout);
      assertSchema('error', doc);
      return doc.error as { code: string; message: string; hint: string };
    };
    // With the client certificate the server answers: no such runbook.
    assert.equal(error(withCert).code, 'not-found', show(withCert));
    const e1 = error(noCert);
    assert.equal(e1.code, 'temporal-mtls-required', show(noCert));
    assert.match(e1.message, /requires a client certificate \(mTLS\) and none is configured/);
    assert.match(e1.hint, /--tls-cert-path and --tls-key-path/);
    assert.match(e1.hint, /client_cert_path/);
    assert.match(noCert.stderr, /next: give the client certificate and its key/);
    assert.ok(mtlsProxy.refused > refusedBefore, 'the front refused the handshake');
    const e2 = error(untrusted);
    assert.equal(e2.code, 'temporal-tls-untrusted', show(untrusted));
    assert.match(e2.hint, /TEMPORAL_TLS_SERVER_CA_CERT_PATH/);
    const e3 = error(plainToTls);
    assert.equal(e3.code, 'temporal-tls-required', show(plainToTls));
    assert.match(e3.hint, /turn TLS on with the server's CA/);
    const e4 = error(nothing);
    assert.equal(e4.code, 'temporal-unreachable', show(nothing));
    assert.match(e4.message, /nothing answers at 127\.0\.0\.1:1 \(ECONNREFUSED\) \(from TEMPORAL_ADDRESS\)/);

    // The worker says the same.
    const temporal = resolveTemporalSettings({
      flags: { profile: 'mtls-nocert' },
      env: { TEMPORAL_CONFIG_FILE: toml },
    });
    const activities = { probeEndpoints: async () => [] } as unknown as ProbeActivities;
    await assert.rejects(
      runWorker({ activities, probeRegion: 'nowhere', temporal }),
      (e: unknown) => e instanceof TemporalConnectError && e.code === 'temporal-mtls-required',
    );
  });

  it('an unknown profile is refused, listing the profiles of the file', async () => {
    const run = await cli(['status', 'nothing', '--json', '--profile', 'staging']);
    assert.equal(run.code, 1, show(run));
    const { error } = JSON.parse(run.stdout);
    assert.equal(error.code, 'temporal-profile-not-found');
    assert.match(
      error.message,
      /profile "staging" \(--profile\) is not in .*temporal\.toml; its profiles: tls, mtls, mtls-nocert/,
    );
  });

  it('sends the API key as authorization: Bearer over TLS; a wrong key is refused as such', async () => {
    const settings = {
      TEMPORAL_ADDRESS: keyProxy.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: caFile,
    };
    const [good, wrong] = await Promise.all([
      cli(['status', uniqueName('nothing'), '--json'], { ...settings, TEMPORAL_API_KEY: API_KEY }),
      cli(['status', 'nothing', '--json'], { ...settings, TEMPORAL_API_KEY: 'not-the-key' }),
    ]);
    // The server answered: there is no such runbook (the call went through with the key).
    assert.equal(good.code, 1, show(good));
    assert.equal(JSON.parse(good.stdout).error.code, 'not-found', show(good));
    assert.ok(keyProxy.authorizations.includes(`Bearer ${API_KEY}`), 'the key went out as a bearer token');
    assert.ok(
      keyProxy.authorizations.every((a) => a === `Bearer ${API_KEY}` || a === 'Bearer not-the-key'),
      'every call carried a key',
    );
    const { error } = JSON.parse(wrong.stdout);
    assert.equal(error.code, 'temporal-unauthenticated', show(wrong));
    assert.match(error.hint, /the API key \(from TEMPORAL_API_KEY\) is not valid for namespace default/);
  });
});
