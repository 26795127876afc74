// `geofailover emulator --write-config FILE` gives a newcomer a configuration that matches what the
// emulator serves, so the README's commands run as written.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { parseConfig } from '../../src/config/load';

const BIN = path.resolve(__dirname, '../../bin/geofailover.js');

describe('a configuration written by the emulator', function () {
  this.timeout(60_000);

  it('validates, names the default group at the live addresses, and drives a dry-run start', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-emulator-config-'));
    const file = path.join(dir, 'geofailover.config.json');
    const emulator = spawn(process.execPath, [BIN, 'emulator', '--write-config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const [line] = (await once(emulator.stdout, 'data')) as [Buffer];
      const ready = JSON.parse(line.toString()) as { arm: string; ca: string };

      const config = parseConfig(readFileSync(file, 'utf8'), file);
      assert.equal(config.azure.endpoint, ready.arm);
      assert.equal(config.azure.caFile, ready.ca);
      const group = config.groups.leaderboard!;
      assert.deepEqual(Object.keys(group.members).sort(), ['eastus', 'southeastasia', 'westeurope']);
      assert.deepEqual(Object.keys(group.applicationRegions).sort(), ['eastus', 'southeastasia', 'westeurope']);
      assert.match(group.applicationRegions.westeurope!.eastus!, /^127\.0\.0\.1:\d+$/);

      const plan = await new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile(
          process.execPath,
          [
            BIN,
            'start',
            '--config',
            file,
            '--group',
            'leaderboard',
            '--failed-region',
            'eastus',
            '--reason',
            'drill',
            '--dry-run',
            '--by',
            'sre-lead',
          ],
          (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }),
        ),
      );
      assert.equal(plan.code, 0, plan.stdout);
      assert.match(plan.stdout, /traffic-reroute/);
      assert.match(plan.stdout, /westeurope/);
    } finally {
      emulator.kill('SIGTERM');
      await once(emulator, 'exit');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
