// `start --dry-run` against the real parts: the ARM emulator over HTTPS (its CA, its identity tenant) read through the
// official Azure SDK clients the activities use, and the shared dev server. ARM answers and every member reads; the
// run's main task queue has no worker, so the dry run exits 1 and says which worker to start.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main';
import { assertCliSchema } from '../helpers/cli-schema';
import { uniqueTaskQueue } from '../helpers/temporal';

const BIN = path.resolve(__dirname, '../../bin/geofailover.js');

interface Check {
  check: string;
  ok: boolean;
  detail: string;
  next?: string;
}

describe('start --dry-run against the emulator and the dev server', function () {
  this.timeout(180_000);

  it('reads every member through ARM and names the worker to start', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-dry-run-live-'));
    const file = path.join(dir, 'geofailover.config.json');
    const emulator = spawn(process.execPath, [BIN, 'emulator', '--write-config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await once(emulator.stdout, 'data'); // the ready line: the configuration is written
      const taskQueue = uniqueTaskQueue('cli-dry-live');
      let stdout = '';
      let stderr = '';
      const code = await main(
        [
          'start',
          'leaderboard',
          '--config',
          file,
          '--task-queue',
          taskQueue,
          '--failed-region',
          'eastus',
          '--reason',
          'drill',
          '--dry-run',
          '--by',
          'sre-lead',
          '--json',
        ],
        { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) },
        {
          env: {
            TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS,
            TEMPORAL_CONFIG_FILE: path.join(dir, 'no-such-temporal.toml'),
            USER: 'sre-lead',
          },
          stderrIsTTY: false,
          stdoutIsTTY: false,
        },
        [],
      );
      const show = `exit ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`;
      assert.equal(code, 1, show);
      const plan = JSON.parse(stdout) as { checks: Check[] };
      assertCliSchema('start', plan);
      const byName = new Map(plan.checks.map((c) => [c.check, c]));
      assert.equal(byName.get('temporal')?.ok, true, show);
      assert.match(byName.get('arm')?.detail ?? '', /^ARM answers at https:\/\/127\.0\.0\.1:\d+$/, show);
      for (const region of ['eastus', 'westeurope', 'southeastasia']) {
        const member = byName.get(`member ${region}`);
        assert.equal(member?.ok, true, show);
        assert.match(
          member!.detail,
          new RegExp(`^${region}: /subscriptions/.*/databases/default reads Succeeded/Running$`),
        );
      }
      const worker = byName.get(`worker ${taskQueue}`);
      assert.equal(worker?.ok, false, show);
      assert.equal(worker?.next, 'start the main worker: geofailover worker');
    } finally {
      emulator.kill('SIGTERM');
      await once(emulator, 'exit');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
