// The package as a platform team installs it: `npm pack` (prepack builds dist/), the tarball installed into an
// empty prefix with `npm install -g --prefix`, then the installed `geofailover` — plain Node, no tsx, no sources —
// prints its help and version and runs a whole drill (on the shared test server) to verified evidence.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { uniqueTaskQueue } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '../..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('the packed package, installed into an empty prefix', function () {
  this.timeout(20 * 60_000);
  let dir: string;
  let prefix: string;
  let installed: string;
  let tarball: string;

  /** A shell with only the installed package and node on PATH, no Temporal profile, the shared test server. */
  function userEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (k.startsWith('TEMPORAL_') || k.startsWith('GEOFAILOVER_') || k.startsWith('npm_')) continue;
      if (k === 'NODE_OPTIONS' || k === 'PATH') continue;
      env[k] = v;
    }
    env.PATH = [path.join(prefix, 'bin'), path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter);
    env.TEMPORAL_CONFIG_FILE = path.join(dir, 'no-temporal-profile.toml');
    env.TEMPORAL_ADDRESS = process.env.TEMPORAL_TEST_ADDRESS;
    return env;
  }

  /** Runs the installed `geofailover` (found on PATH, as a user types it). */
  function geofailover(args: string[], timeoutMs = 60_000): Promise<Run> {
    const child = spawn('geofailover', args, { cwd: dir, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`geofailover ${args.join(' ')} did not end in time\n${stdout}\n${stderr}`));
      }, timeoutMs);
      child.once('error', reject);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  before(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-package-'));
    prefix = path.join(dir, 'prefix');
    const started = performance.now();
    execFileSync(NPM, ['pack', '--pack-destination', dir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    const packed = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    assert.equal(packed.length, 1, `one tarball: ${packed.join(', ')}`);
    tarball = path.join(dir, packed[0]!);
    const packedMs = performance.now() - started;
    execFileSync(
      NPM,
      ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
    );
    installed = path.join(prefix, 'lib', 'node_modules', 'geofailover');
    process.stderr.write(
      `      npm pack ${(packedMs / 1000).toFixed(1)} s; npm install -g ` +
        `${((performance.now() - started - packedMs) / 1000).toFixed(1)} s\n`,
    );
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships the compiled CLI and what it reads at run time, not the sources or tsx', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    for (const file of [
      'package/bin/geofailover.js',
      'package/dist/cli/main.js',
      'package/dist/cli/commands.json',
      'package/dist/build-info.json',
      'package/dist/workflows.bundle.js',
      'package/dist/emulator/scenarios/default.json',
      'package/dist/toolchain/tools.mjs',
      'package/schemas/config.schema.json',
      'package/geofailover.config.example.json',
    ]) {
      assert.ok(files.includes(file), `${file} is in the tarball`);
    }
    assert.deepEqual(
      files.filter((f) => /^package\/(src|test)\//.test(f) || f.endsWith('.ts')),
      [],
      'no sources or tests',
    );
    assert.ok(existsSync(path.join(prefix, 'bin', 'geofailover')), 'geofailover is on the prefix PATH');
    assert.equal(existsSync(path.join(installed, 'node_modules', 'tsx')), false, 'tsx is not installed');
    const pkg = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    assert.equal(pkg.dependencies.tsx, undefined, 'tsx is not a run-time dependency');
  });

  it('geofailover --help and --version', async () => {
    const help = await geofailover(['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: geofailover /);
    for (const command of ['start', 'status', 'approve', 'worker', 'drill', 'audit', 'emulator']) {
      assert.match(help.stdout, new RegExp(`\\n  ${command} `), `--help lists ${command}`);
    }
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const run = await geofailover([flag]);
      assert.equal(run.code, 0, run.stderr);
      const commit = new RegExp(`^${version.replace(/\./g, '\\.')} \\(commit ([0-9a-f]{12})\\)\\n$`).exec(
        run.stdout,
      )?.[1];
      assert.ok(commit, `${flag}: the version and the commit it was built from: ${run.stdout}`);
      // Others may commit while the test runs: the commit it was built from is in this clone's history.
      execFileSync('git', ['merge-base', '--is-ancestor', commit, 'HEAD'], { cwd: ROOT });
    }
  });

  it("a worker from the installed package starts on the build's workflow bundle, without bundling", async () => {
    const script = `
      const { NativeConnection } = require('@temporalio/worker');
      const { createWorker } = require('./dist/worker.js');
      (async () => {
        const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
        const worker = await createWorker({ connection, taskQueue: process.argv[1], activities: {} });
        const running = worker.run();
        await new Promise((resolve) => setTimeout(resolve, 500));
        worker.shutdown();
        await running;
        await connection.close();
        process.stdout.write('started and stopped');
      })().catch((e) => {
        console.error(e);
        process.exit(1);
      });`;
    const child = spawn(process.execPath, ['-e', script, uniqueTaskQueue('package-worker')], {
      cwd: installed,
      env: userEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'started and stopped');
    assert.doesNotMatch(stderr, /Workflow bundle created/, 'the worker did not bundle the workflow code itself');
  });

  it('geofailover drill runs to verified evidence from the installed package', async () => {
    const out = path.join(dir, 'evidence');
    const run = await geofailover(
      ['drill', '--short-outage', '--json', '--out', out, '--task-queue', uniqueTaskQueue('package-drill')],
      5 * 60_000,
    );
    const lines = run.stdout.trim().split('\n');
    const summary = JSON.parse(lines.at(-1) ?? '{}') as {
      type?: string;
      ok?: boolean;
      verdict?: string;
      failed?: string[];
    };
    assert.equal(run.code, 0, `${lines.at(-1)}\n${run.stderr}`);
    assert.equal(summary.type, 'summary');
    assert.equal(summary.ok, true, summary.failed?.join('; '));
    assert.equal(summary.verdict, 'verified');
    for (const file of ['report.json', 'report.html', 'history.json', 'SHA256SUMS']) {
      assert.ok(existsSync(path.join(out, file)), `${file} in the evidence package`);
    }
  });
});
