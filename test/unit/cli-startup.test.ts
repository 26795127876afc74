// What `geofailover --help` and `--version` cost and print: the built package lists every command from the
// command index without loading any (no Temporal or Azure SDK at start-up), prints the same help as a program
// with every command loaded, and loads exactly the commands the command line names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { buildProgram, commandIndex, main, type CommandIndexEntry } from '../../src/cli/main';

const ROOT = path.resolve(__dirname, '../..');
const quiet = { stdout: () => {}, stderr: () => {} };

function sub(program: Command, name: string): Command {
  const found = program.commands.find((c) => c.name() === name);
  assert.ok(found, `a command ${name}`);
  return found;
}

describe('CLI start-up', () => {
  let index: CommandIndexEntry[];
  let full: Command;
  let dir: string;

  before(() => {
    full = buildProgram(quiet, () => {});
    index = commandIndex(full);
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-cli-startup-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--help from the command index is the help of the program with every command loaded', () => {
    assert.ok(index.length >= 15, `every command is in the index (${index.map((e) => e.name).join(', ')})`);
    const lazy = buildProgram(quiet, () => {}, { index, argv: ['--help'] });
    assert.equal(lazy.helpInformation(), full.helpInformation());
    assert.match(full.helpInformation(), /status \[options\] <group-or-workflow-id>/);
  });

  for (const args of [['--help'], ['--version'], ['help']]) {
    it(`${args.join(' ')} loads no command module, no SDK, no configuration schema`, () => {
      const indexFile = path.join(dir, 'commands.json');
      writeFileSync(indexFile, JSON.stringify(index));
      const probe = `
        const { main } = require('./src/cli/main.ts');
        const index = JSON.parse(require('node:fs').readFileSync(process.argv[1], 'utf8'));
        const io = { stdout() {}, stderr() {} };
        main(JSON.parse(process.argv[2]), io, undefined, index).then((code) => {
          const loaded = Object.keys(require.cache).filter((f) =>
            /node_modules[\\\\/](@temporalio|@azure|redis|@opentelemetry|zod)[\\\\/]|src[\\\\/](cli[\\\\/]commands|config)[\\\\/]/.test(f));
          process.stdout.write(JSON.stringify({ code, loaded }));
        });`;
      const child = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', probe, indexFile, JSON.stringify(args)], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      assert.equal(child.status, 0, child.stderr);
      assert.deepEqual(JSON.parse(child.stdout), { code: 0, loaded: [] });
    });
  }

  it('a command on the command line is loaded: its own help is the full one', () => {
    const lazy = buildProgram(quiet, () => {}, { index, argv: ['status', '--help'] });
    assert.equal(sub(lazy, 'status').helpInformation(), sub(full, 'status').helpInformation());
    assert.equal(sub(lazy, 'emulator').commands.length, 0, 'emulator: listed, not loaded');
    assert.ok(sub(full, 'emulator').commands.length > 5);
    const emulator = buildProgram(quiet, () => {}, { index, argv: ['emulator', 'outage', '--help'] });
    assert.equal(
      sub(sub(emulator, 'emulator'), 'outage').helpInformation(),
      sub(sub(full, 'emulator'), 'outage').helpInformation(),
    );
  });

  for (const flag of ['--version', '-V']) {
    it(`${flag} prints the package version and, in a clone, its git commit`, async () => {
      let stdout = '';
      const code = await main([flag], { stdout: (s) => (stdout += s), stderr: () => {} });
      assert.equal(code, 0);
      const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
      if (existsSync(path.join(ROOT, '.git'))) {
        assert.match(stdout, new RegExp(`^${version.replace(/\./g, '\\.')} \\(commit [0-9a-f]{12}\\)\\n$`));
      } else {
        assert.equal(stdout, `${version}\n`);
      }
    });
  }
});
