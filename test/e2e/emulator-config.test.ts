// `geofailover emulator --write-config FILE` gives a newcomer a configuration that matches what the
// emulator serves, with the default people and a signing key for each beside it, so the README's commands run
// as written.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { main } from '../../src/cli/main';
import { parseConfig } from '../../src/config/load';
import { readPrivateKey } from '../../src/signing/node-keys';

const BIN = path.resolve(__dirname, '../../bin/geofailover.js');

/** `geofailover ARGS` (main() in this process), in a shell with no Temporal or geofailover settings. */
async function cli(args: string[]): Promise<{ code: number; stdout: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('TEMPORAL_') && !k.startsWith('GEOFAILOVER_')) env[k] = v;
  }
  let stdout = '';
  const code = await main(
    args,
    { stdout: (s) => void (stdout += s), stderr: () => undefined },
    { env, stderrIsTTY: false, stdoutIsTTY: false },
  );
  return { code, stdout };
}

describe('a configuration written by the emulator', function () {
  this.timeout(180_000);

  it('validates, names the default group at the live addresses and its people with their keys, and drives a dry-run start', async () => {
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
      assert.deepEqual(group.commanders, ['sre-lead']);
      assert.deepEqual(group.approvers, ['sre-lead', 'sre-manager', 'data-owner']);
      // Each person's key file is beside the configuration, and its public key is theirs in `people`.
      assert.deepEqual(Object.keys(config.people).sort(), ['data-owner', 'sre-lead', 'sre-manager']);
      const keyFile = (name: string): string => path.join(dir, 'geofailover-keys', `${name}.key`);
      for (const [name, person] of Object.entries(config.people)) {
        const key = readPrivateKey(readFileSync(keyFile(name), 'utf8'));
        assert.equal(
          person.keys[0]?.split(' ').slice(0, 2).join(' '),
          key.publicKeyLine.split(' ').slice(0, 2).join(' '),
        );
      }

      const start = [
        'start',
        '--config',
        file,
        '--group',
        'leaderboard',
        '--failed-region',
        'eastus',
        '--reason',
        'drill',
      ];
      const [unsigned, signed] = await Promise.all([
        // A dry run needs no key: --by names who would sign.
        cli([...start, '--dry-run', '--offline', '--by', 'sre-lead']),
        // With the written key the CLI knows who signs without --by.
        cli([...start, '--dry-run', '--offline', '--key', keyFile('sre-lead')]),
      ]);
      for (const plan of [unsigned, signed]) {
        assert.equal(plan.code, 0, plan.stdout);
        assert.match(plan.stdout, /traffic-reroute/);
        assert.match(plan.stdout, /westeurope/);
        assert.match(plan.stdout, /requested by sre-lead/);
      }
    } finally {
      emulator.kill('SIGTERM');
      await once(emulator, 'exit');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
