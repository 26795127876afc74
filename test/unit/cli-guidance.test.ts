// The CLI guiding a person who has no server yet or mistypes: in-process through main(), no Temporal server (an
// address nothing listens on). A dry run that cannot reach Temporal says so and exits 1; a start fails fast with the
// same words; the group is positional (with --group kept); help marks what is required; typos get the right hint.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderSummary } from '../../src/cli/commands/drill';
import { recentSetup } from '../../src/drill/toolchain';
import { main } from '../../src/cli/main';
import { editDistance, suggestCommands } from '../../src/cli/suggest';
import { assertCliSchema } from '../helpers/cli-schema';
import { peopleConfig, writeKeyFiles } from '../helpers/people';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = path.join(ROOT, 'geofailover.config.example.json');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir = '';
let keys: Record<string, string> = {};

async function cli(argv: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(
    argv,
    { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
    {
      env: {
        TEMPORAL_ADDRESS: '127.0.0.1:1',
        TEMPORAL_CONFIG_FILE: path.join(dir, 'no-such-temporal.toml'),
        USER: 'incident-cmdr',
        PATH: process.env.PATH ?? '',
        ...env,
      },
      stderrIsTTY: false,
      stdoutIsTTY: false,
    },
    [], // no command index: every command loaded, as from the sources
  );
  return { code, stdout, stderr };
}

function show(run: Run): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

/** The example configuration with its group renamed, written to the temp dir. */
function writeConfig(group: string): string {
  const config = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
  delete config.$schema;
  config.people = peopleConfig();
  config.groups = { [group]: config.groups.leaderboard };
  // No emulator here: ARM is not what these tests look at.
  delete config.azure.caFile;
  config.azure.endpoint = 'https://127.0.0.1:1';
  const file = path.join(dir, `${group}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

describe('CLI guidance (in-process, no server)', function () {
  this.timeout(30_000);
  let config = '';

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-cli-guidance-'));
    keys = writeKeyFiles(path.join(dir, 'keys'));
    config = writeConfig('leaderboard');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('start --dry-run checks the live world', () => {
    it('with no server reachable exits 1 saying so, and what to do (JSON too)', async () => {
      const args = ['start', 'leaderboard', '--config', config, '--failed-region', 'eastus', '--reason', 'r'];
      const [text, json] = await Promise.all([cli([...args, '--dry-run']), cli([...args, '--dry-run', '--json'])]);
      assert.equal(text.code, 1, show(text));
      assert.match(text.stdout, /dry run: nothing was started or changed/, 'the plan is still shown');
      assert.match(text.stdout, /FAIL no Temporal server at 127\.0\.0\.1:1: nothing answers at 127\.0\.0\.1:1/);
      assert.match(text.stdout, /next: start one \(temporal server start-dev\).*or pass --offline/);
      assert.match(text.stdout, /live check\(s\) failed: a start now would not run/);

      assert.equal(json.code, 1, show(json));
      const plan = JSON.parse(json.stdout);
      assertCliSchema('start', plan);
      assert.equal(plan.dryRun, true);
      const temporal = plan.checks.find((c: { check: string }) => c.check === 'temporal');
      assert.equal(temporal.ok, false);
      assert.match(temporal.detail, /no Temporal server at 127\.0\.0\.1:1/);
      assert.ok(
        plan.checks.some((c: { check: string }) => c.check === 'arm'),
        'ARM is checked even without Temporal',
      );
    });

    it('--offline prints the plan alone and exits 0; --offline without --dry-run is bad usage', async () => {
      const args = ['start', 'leaderboard', '--config', config, '--failed-region', 'eastus', '--reason', 'r'];
      const [offline, json, misplaced] = await Promise.all([
        cli([...args, '--dry-run', '--offline']),
        cli([...args, '--dry-run', '--offline', '--json']),
        cli([...args, '--offline', '--key', keys['sre-lead']!]),
      ]);
      assert.equal(offline.code, 0, show(offline));
      assert.match(offline.stdout, /dry run: nothing was started or changed/);
      assert.doesNotMatch(offline.stdout, /live checks/);
      assert.equal(json.code, 0, show(json));
      assert.equal(JSON.parse(json.stdout).checks, undefined);
      assert.equal(misplaced.code, 2, show(misplaced));
      assert.match(misplaced.stderr, /--offline only goes with --dry-run/);
    });

    it('the real start fails fast with the same words when no server answers', async () => {
      const run = await cli([
        'start',
        'leaderboard',
        '--config',
        config,
        '--failed-region',
        'eastus',
        '--reason',
        'r',
        '--key',
        keys['sre-lead']!,
      ]);
      assert.equal(run.code, 1, show(run));
      assert.match(
        run.stderr,
        /error: no Temporal server at 127\.0\.0\.1:1: nothing answers at 127\.0\.0\.1:1 \(ECONNREFUSED\)/,
      );
      assert.match(run.stderr, /next: start one \(temporal server start-dev\)/);
    });
  });

  describe('the group is positional, --group kept as an alias', () => {
    const offline = ['--failed-region', 'eastus', '--reason', 'r', '--dry-run', '--offline', '--json'];

    it('start: the argument and --group give the same plan; both different, or neither, is bad usage', async () => {
      const [positional, flag, same, both, neither] = await Promise.all([
        cli(['start', 'leaderboard', '--config', config, ...offline]),
        cli(['start', '--group', 'leaderboard', '--config', config, ...offline]),
        cli(['start', 'leaderboard', '--group', 'leaderboard', '--config', config, ...offline]),
        cli(['start', 'leaderboard', '--group', 'other', '--config', config, ...offline]),
        cli(['start', '--config', config, ...offline]),
      ]);
      for (const run of [positional, flag, same]) {
        assert.equal(run.code, 0, show(run));
        assert.equal(JSON.parse(run.stdout).group, 'leaderboard');
      }
      assert.equal(both.code, 2, show(both));
      assert.match(both.stderr, /the group is given twice, as "leaderboard" and --group "other"/);
      assert.equal(JSON.parse(both.stdout).error.code, 'usage');
      assert.equal(neither.code, 2, show(neither));
      assert.match(neither.stderr, /missing required argument 'group'/);
    });

    it('rejoin, readiness and keys allowed-signers: both forms reach the group (an unknown one is named, a known one goes on to Temporal)', async () => {
      const rejoin = ['--region', 'eastus', '--reason', 'r', '--key', keys['sre-lead']!, '--config', config];
      const runs = await Promise.all([
        cli(['rejoin', 'nosuch', ...rejoin]),
        cli(['rejoin', '--group', 'nosuch', ...rejoin]),
        cli(['rejoin', 'leaderboard', ...rejoin]),
        cli(['rejoin', '--group', 'leaderboard', ...rejoin]),
        cli(['readiness', 'nosuch', '--config', config]),
        cli(['readiness', '--group', 'nosuch', '--config', config]),
        cli(['readiness', 'leaderboard', '--config', config]),
        cli(['readiness', '--group', 'leaderboard', '--config', config]),
      ]);
      const [rejoinUnknown, rejoinUnknownFlag, rejoinKnown, rejoinKnownFlag] = runs;
      const [readyUnknown, readyUnknownFlag, readyKnown, readyKnownFlag] = runs.slice(4);
      for (const run of [rejoinUnknown!, rejoinUnknownFlag!, readyUnknown!, readyUnknownFlag!]) {
        assert.equal(run.code, 1, show(run));
        assert.match(run.stderr, /no group "nosuch"/);
      }
      for (const run of [rejoinKnown!, rejoinKnownFlag!, readyKnown!, readyKnownFlag!]) {
        assert.equal(run.code, 1, show(run));
        assert.match(run.stderr, /no Temporal server at 127\.0\.0\.1:1/);
      }
      const [signers, signersFlag, signersUnknown] = await Promise.all([
        cli(['keys', 'allowed-signers', 'leaderboard', '--config', config]),
        cli(['keys', 'allowed-signers', '--group', 'leaderboard', '--config', config]),
        cli(['keys', 'allowed-signers', 'nosuch', '--config', config]),
      ]);
      assert.equal(signers.code, 0, show(signers));
      assert.match(signers.stdout, /^sre-lead namespaces="geofailover" ssh-ed25519 /m);
      assert.equal(signersFlag.stdout, signers.stdout);
      assert.equal(signersUnknown.code, 1, show(signersUnknown));
      assert.match(signersUnknown.stderr, /no group "nosuch"/);
      const missing = await cli(['rejoin', ...rejoin]);
      assert.equal(missing.code, 2, show(missing));
      assert.match(missing.stderr, /missing required argument 'group'/);
    });
  });

  describe('help and typos', () => {
    it('help marks required options and the required group', async () => {
      const [top, start, rejoin, readiness] = await Promise.all([
        cli(['--help']),
        cli(['start', '--help']),
        cli(['rejoin', '--help']),
        cli(['readiness', '--help']),
      ]);
      assert.match(top.stdout, /start \[options\] <group>/);
      assert.match(top.stdout, /rejoin \[options\] <group>/);
      assert.match(top.stdout, /readiness \[options\] \[group\]/);
      assert.match(start.stdout, /Usage: geofailover start \[options\] <group>/);
      assert.match(start.stdout, /--failed-region <region>\s+the member region that failed \(required\)/);
      assert.match(start.stdout, /--reason <text>\s+why[^-]*\(required\)\n/);
      assert.match(start.stdout, /group\s+the group, as named in the configuration\s+\(required\)/);
      assert.match(start.stdout, /--group <name>\s+the same as the group argument/);
      assert.doesNotMatch(start.stdout, /--dry-run[^\n]*\(required\)/);
      assert.match(rejoin.stdout, /Usage: geofailover rejoin \[options\] <group>/);
      assert.match(rejoin.stdout, /--region <region>\s+[^\n]*\(required\)/);
      assert.match(readiness.stdout, /Usage: geofailover readiness \[options\] \[group\]/);
    });

    it('`stat` suggests status, not start; a swap and a slip get their command', async () => {
      const [stat, aprove, rejion] = await Promise.all([cli(['stat']), cli(['aprove', 'x']), cli(['rejion'])]);
      assert.equal(stat.code, 2, show(stat));
      assert.match(stat.stderr, /unknown command 'stat'\n\(Did you mean status\?\)/);
      assert.match(aprove.stderr, /\(Did you mean approve\?\)/);
      assert.match(rejion.stderr, /\(Did you mean rejoin\?\)/);
    });

    it('the suggestion: a command cut short first, else the fewest edits (a swap is one)', () => {
      assert.equal(editDistance('rejion', 'rejoin'), 1);
      assert.equal(editDistance('stat', 'start'), 1);
      assert.deepEqual(suggestCommands('stat', ['start', 'status', 'abort']), ['status']);
      assert.deepEqual(suggestCommands('re', ['recovered', 'reject', 'rejoin']), ['recovered', 'reject', 'rejoin']);
      assert.deepEqual(suggestCommands('strat', ['start', 'status']), ['start']);
      assert.deepEqual(suggestCommands('zzzzzz', ['start', 'status']), []);
    });
  });
});

describe('the drill summary', () => {
  it('reports the setup before the drill apart from the drill time', () => {
    const summary = {
      ok: true,
      exitCode: 0,
      path: 'long-outage',
      group: 'leaderboard',
      failedRegion: 'eastus',
      checks: [],
      failed: [],
      wallMs: 19_000,
    } as unknown as Parameters<typeof renderSummary>[0];
    const text = renderSummary(summary, { ms: 422_000, parts: ['npm ci 52.0 s', 'Temporal CLI 6 min 10 s'] });
    assert.match(text, /^drill VERIFIED in 19\.0 s: long-outage of eastus/);
    assert.match(
      text,
      /setup: {8}7 min 2 s \(npm ci 52\.0 s, Temporal CLI 6 min 10 s\), once; the drill itself took 19\.0 s/,
    );
    assert.doesNotMatch(renderSummary(summary), /setup:/, 'nothing set up: no setup line');
  });

  it('takes the setup npm run drill just did from the tool cache, once', async () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'geofailover-setup-'));
    const before = process.env.GEOFAILOVER_CACHE_DIR;
    process.env.GEOFAILOVER_CACHE_DIR = cache;
    try {
      const marker = path.join(cache, 'last-setup.json');
      writeFileSync(
        marker,
        JSON.stringify({ finishedAt: new Date().toISOString(), ms: 61_000, parts: ['npm ci 1 min'] }),
      );
      assert.deepEqual(await recentSetup(), { ms: 61_000, parts: ['npm ci 1 min'] });
      assert.equal(await recentSetup(), undefined, 'read once');
      writeFileSync(
        marker,
        JSON.stringify({ finishedAt: new Date(Date.now() - 600_000).toISOString(), ms: 5, parts: [] }),
      );
      assert.equal(await recentSetup(), undefined, 'an old setup is not this drill’s');
    } finally {
      if (before === undefined) delete process.env.GEOFAILOVER_CACHE_DIR;
      else process.env.GEOFAILOVER_CACHE_DIR = before;
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
