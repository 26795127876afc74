// `geofailover worker --log-format json --log-level info --metrics-port N` as an operator runs it: the worker
// process logs JSON lines, serves Prometheus at :N/metrics while it polls, and stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { scrapeMetrics } from '../../src/observability/prometheus';
import { COMMANDERS, peopleConfig } from '../helpers/people';

const BIN = path.resolve(__dirname, '../../bin/geofailover.js');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('geofailover worker with JSON logs and Prometheus metrics (the CLI)', function () {
  this.timeout(240_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-observe-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves /metrics while it polls, logs one JSON object per line, and stops on SIGTERM', async () => {
    const c = JSON.parse(readFileSync(path.resolve(__dirname, '../../geofailover.config.example.json'), 'utf8'));
    c.people ??= peopleConfig();
    c.groups.leaderboard.commanders ??= [...COMMANDERS];
    delete c.azure.caFile;
    delete c.azure.identity;
    const config = path.join(dir, 'geofailover.config.json');
    writeFileSync(config, JSON.stringify(c));
    const region = Object.keys(c.groups.leaderboard.applicationRegions)[0] as string;
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS };
    for (const k of ['TEMPORAL_PROFILE', 'TEMPORAL_API_KEY', 'OTEL_EXPORTER_OTLP_ENDPOINT']) delete env[k];
    env.TEMPORAL_CONFIG_FILE = path.join(dir, 'no-such-temporal.toml');
    // A probe worker: no workflow bundle to build, the same Runtime and flags as the main worker.
    const child = spawn(
      process.execPath,
      [
        BIN,
        'worker',
        '--config',
        config,
        '--probe-region',
        region,
        '--log-format',
        'json',
        '--log-level',
        'info',
      ].concat(['--metrics-port', String(port)]),
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 200 && !stderr.includes('polling task queue'); i++) {
        if (child.exitCode !== null) assert.fail(`the worker exited: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.match(stderr, /polling task queue geofailover-probe-/);
      const metrics = await scrapeMetrics('127.0.0.1', port, 1000);
      assert.match(metrics, /^temporal_\w+/m, 'the SDK’s runtime metrics');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    const lines = stderr.split('\n').filter((l) => l.startsWith('{'));
    assert.ok(lines.length > 0, `JSON log lines on stderr:\n${stderr}`);
    for (const line of lines) {
      const entry = JSON.parse(line) as { time: string; level: string; message: string };
      assert.ok(entry.time && ['info', 'warn', 'error'].includes(entry.level) && entry.message, line);
    }
  });
});
