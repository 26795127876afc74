/**
 * The `geofailover` command line. Exit codes: 0 success, 1 refused or failed, 2 bad usage.
 * The runbook commands and the `emulator` command group (src/cli/commands/). A command's module pulls in the
 * Temporal and Azure SDKs, so only the commands named on the command line are loaded; in the built package
 * `--help` lists the others from the command index the build writes (dist/cli/commands.json), which keeps
 * start-up fast. From the sources (no index) every command is loaded only for the top-level help (or a command line
 * that names none): a command that runs loads its own module alone there too.
 *
 * A new command: one line in COMMANDS (its name, and how to load its module's register function).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Help, Option } from 'commander';
import { TASK_QUEUE } from '../contract/names';
import type { CommandIo } from '../contract/command-io';
import type { CliContext, CliEnvironment } from './context';
import { buildInfo, versionText } from './version';
import { groupHelpTerm } from './group-argument';
import { suggestionText } from './suggest';
import { addTemporalOptions } from '../temporal/cli-options';
import type * as StartModule from './commands/start';
import type * as RehearseModule from './commands/rehearse';
import type * as EndRehearsalModule from './commands/end-rehearsal';
import type * as EvacuateModule from './commands/evacuate';
import type * as StatusModule from './commands/status';
import type * as ApproveModule from './commands/approve';
import type * as RejectModule from './commands/reject';
import type * as RecoveredModule from './commands/recovered';
import type * as UnlinkNowModule from './commands/unlink-now';
import type * as InterveneModule from './commands/intervene';
import type * as AbortModule from './commands/abort';
import type * as ReadinessModule from './commands/readiness';
import type * as WorkerModule from './commands/worker';
import type * as AuditModule from './commands/audit';
import type * as EvidenceModule from './commands/evidence';
import type * as DrillModule from './commands/drill';
import type * as RejoinModule from './commands/rejoin';
import type * as KeysModule from './commands/keys';
import type * as EmulatorModule from './commands/emulator';
import type * as ContextModule from './context';
import type * as ErrorsModule from './errors';

type Register = (program: Command, ctx: CliContext) => void;

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on demand: see the header */
/** Every command, in help order, and how to load its module. */
const COMMANDS: readonly (readonly [name: string, load: () => Register])[] = [
  ['start', () => (require('./commands/start') as typeof StartModule).registerStart],
  ['rehearse', () => (require('./commands/rehearse') as typeof RehearseModule).registerRehearse],
  ['end-rehearsal', () => (require('./commands/end-rehearsal') as typeof EndRehearsalModule).registerEndRehearsal],
  ['evacuate', () => (require('./commands/evacuate') as typeof EvacuateModule).registerEvacuate],
  ['approve-batch', () => (require('./commands/evacuate') as typeof EvacuateModule).registerApproveBatch],
  ['status', () => (require('./commands/status') as typeof StatusModule).registerStatus],
  ['approve', () => (require('./commands/approve') as typeof ApproveModule).registerApprove],
  ['reject', () => (require('./commands/reject') as typeof RejectModule).registerReject],
  ['recovered', () => (require('./commands/recovered') as typeof RecoveredModule).registerRecovered],
  ['unlink-now', () => (require('./commands/unlink-now') as typeof UnlinkNowModule).registerUnlinkNow],
  ['intervene', () => (require('./commands/intervene') as typeof InterveneModule).registerIntervene],
  ['abort', () => (require('./commands/abort') as typeof AbortModule).registerAbort],
  ['readiness', () => (require('./commands/readiness') as typeof ReadinessModule).registerReadiness],
  ['worker', () => (require('./commands/worker') as typeof WorkerModule).registerWorker],
  ['audit', () => (require('./commands/audit') as typeof AuditModule).registerAudit],
  ['evidence', () => (require('./commands/evidence') as typeof EvidenceModule).registerEvidence],
  ['drill', () => (require('./commands/drill') as typeof DrillModule).registerDrill],
  ['rejoin', () => (require('./commands/rejoin') as typeof RejoinModule).registerRejoin],
  ['keys', () => (require('./commands/keys') as typeof KeysModule).registerKeys],
  ['emulator', () => (require('./commands/emulator') as typeof EmulatorModule).registerEmulator],
];

function newContext(io: CommandIo, environment: CliEnvironment, setExit: (code: number) => void): CliContext {
  const { CliContext } = require('./context') as typeof ContextModule;
  return new CliContext(io, environment, setExit);
}

function loadErrors(): typeof ErrorsModule {
  return require('./errors') as typeof ErrorsModule;
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** One line of the top-level help's command list. */
export interface CommandIndexEntry {
  name: string;
  /** e.g. `status [options] <group>` */
  term: string;
  summary: string;
}

/** The program: an unknown command gets our suggestion (`stat` → `status`, not `start`). */
class Program extends Command {
  /** Called by commander for a word that names no command. */
  unknownCommand(): never {
    const word = this.args[0] ?? '';
    const names = this.createHelp()
      .visibleCommands(this)
      .map((c) => c.name());
    this.error(`error: unknown command '${word}'${suggestionText(word, names)}`, { code: 'commander.unknownCommand' });
  }
}

/** Where the build writes the command index: next to the compiled CLI. */
export const COMMAND_INDEX_FILE = path.join(__dirname, 'commands.json');

/** The top-level help's list of commands of a fully built program (the build writes it to COMMAND_INDEX_FILE). */
export function commandIndex(program: Command): CommandIndexEntry[] {
  const help = program.createHelp();
  return program.commands.map((c) => ({
    name: c.name(),
    term: help.subcommandTerm(c),
    summary: help.subcommandDescription(c),
  }));
}

function readCommandIndex(): CommandIndexEntry[] | undefined {
  try {
    return JSON.parse(readFileSync(COMMAND_INDEX_FILE, 'utf8')) as CommandIndexEntry[];
  } catch {
    return undefined; // the sources: load every command
  }
}

export interface BuildProgramOptions {
  /** the commands' shared context (their Temporal client), made on first use; `main` closes it */
  context?: () => CliContext;
  /** the command line: with `index`, only the commands it names are loaded; `--version` looks up the commit */
  argv?: readonly string[];
  /** the command index: commands not named in `argv` are listed in the help from it, not loaded */
  index?: readonly CommandIndexEntry[];
}

/**
 * Builds the program; actions report their exit code through `setExit`. The runbook commands share one
 * context (their Temporal client).
 */
export function buildProgram(
  io: CommandIo,
  setExit: (code: number) => void,
  options: BuildProgramOptions = {},
): Command {
  const argv = options.argv ?? [];
  let ctx: CliContext | undefined;
  const context = options.context ?? (() => (ctx ??= newContext(io, defaultEnvironment(), setExit)));
  const listedOnly = new Map<Command, string>(); // command → its help term, from the index
  const program = new Program('geofailover')
    .description('Regional-failover runbook for Azure Managed Redis active geo-replication')
    .version(
      versionText(buildInfo({ git: argv.includes('--version') || argv.includes('-V') })),
      '-V, --version',
      'print the version (and the git commit it was built from, when known)',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .configureHelp({
      subcommandTerm(cmd: Command): string {
        return listedOnly.get(cmd) ?? groupHelpTerm(cmd, Help.prototype.subcommandTerm.call(this, cmd));
      },
      // Commander lists a required option like any other: say it.
      optionDescription(option: Option): string {
        const text = Help.prototype.optionDescription.call(this, option);
        return option.mandatory ? `${text ? `${text} ` : ''}(required)` : text;
      },
    })
    .showHelpAfterError('(run with --help for usage)')
    .option('--config <file>', 'configuration file (default: $GEOFAILOVER_CONFIG, else ./geofailover.config.json)')
    // Tests run their own worker on a queue of their own.
    .addOption(new Option('--task-queue <name>', 'task queue of the main worker').default(TASK_QUEUE).hideHelp())
    .addHelpText('after', TOP_HELP);
  addTemporalOptions(program, (flags, config) => context().useTemporalFlags(flags, config));

  const indexed = new Map((options.index ?? []).map((entry) => [entry.name, entry]));
  const fromSourcesLazily = options.index === undefined && runsWithoutTopHelp(argv);
  for (const [name, load] of COMMANDS) {
    const entry = indexed.get(name);
    if ((entry || fromSourcesLazily) && !argv.includes(name)) {
      // Listed, not loaded: its name still serves the typo suggestion; the index gives its help line.
      const listed = program
        .command(name)
        .allowUnknownOption()
        .action(() => {
          throw new Error(`${name}: not loaded`); // unreachable: a command on the command line is loaded
        });
      if (entry) listedOnly.set(listed.summary(entry.summary), entry.term);
    } else {
      load()(program, context());
    }
  }
  return program;
}

/**
 * Without the command index: whether this command line can do without the top-level help (which lists every
 * command with its summary, so needs every module): it names a command, or asks for the version, and no help.
 */
function runsWithoutTopHelp(argv: readonly string[]): boolean {
  if (argv.some((a) => a === '--help' || a === '-h' || a === 'help')) return false;
  return argv.some((a) => a === '--version' || a === '-V' || COMMANDS.some(([name]) => name === a));
}

const TOP_HELP = `
Exit codes: 0 success, 1 refused or failed, 2 bad usage. Read commands take --json (one JSON document on
stdout; errors too). Temporal: the connection flags above, else the configuration's "temporal" section, else
TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_* over a profile of the envconfig file
(TEMPORAL_PROFILE; default localhost:7233, namespace default). Every action is signed
with your ed25519 key: --key FILE or GEOFAILOVER_KEY=FILE (its public key is in the configuration's people).

An incident:
  geofailover start leaderboard --failed-region eastus --reason "eastus outage" --dry-run
  geofailover start leaderboard --failed-region eastus --reason "eastus outage" --key ~/.ssh/geofailover
  geofailover status leaderboard --watch
  geofailover approve leaderboard --key ~/.ssh/geofailover
`;

function defaultEnvironment(): CliEnvironment {
  return {
    env: process.env,
    stderrIsTTY: process.stderr.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    columns: process.stderr.columns,
    stdinIsTTY: process.stdin.isTTY === true,
    confirm: askOnTerminal,
  };
}

/** Asks a yes/no question on the terminal (stderr), default no. */
async function askOnTerminal(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Runs the CLI and resolves with its exit code; never throws. */
export async function main(
  argv: readonly string[],
  io: CommandIo,
  environment: CliEnvironment = defaultEnvironment(),
  /** the command index (tests); default: the build's, none from the sources */
  index: readonly CommandIndexEntry[] | undefined = readCommandIndex(),
): Promise<number> {
  let code = 0;
  const setExit = (c: number): void => {
    code = c;
  };
  let ctx: CliContext | undefined;
  const program = buildProgram(io, setExit, {
    context: () => (ctx ??= newContext(io, environment, setExit)),
    argv,
    index,
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    // --help and --version end here too: they must not load the error reporting (the SDKs, the config schema).
    if (e instanceof CommanderError && e.exitCode === 0) return 0;
    const { EXIT_FAILED, EXIT_USAGE, reportError, UsageError } = loadErrors();
    if (e instanceof CommanderError) {
      // Commander already printed the message on stderr; under --json the error goes to stdout as a document too.
      if (argv.includes('--json')) io.stdout(`${JSON.stringify(reportError(e), null, 2)}\n`);
      return EXIT_USAGE;
    }
    // The emulator's errors by name: its modules are loaded only when it runs.
    const name = (e as Error)?.name;
    if (e instanceof UsageError || name === 'ScenarioError') {
      io.stderr(`error: ${(e as Error).message}\n`);
      return EXIT_USAGE;
    }
    if (name === 'ControlApiError' && (e as { status?: number }).status === 400) {
      io.stderr(`error: ${(e as Error).message}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`error: ${(e as Error)?.message ?? String(e)}\n`);
    return EXIT_FAILED;
  } finally {
    await ctx?.close();
  }
}

function runFromCommandLine(): void {
  // A reader that goes away (`| head`) is not an error of ours.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
  const io: CommandIo = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  };
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
    // Everything is closed by now; if a stray handle kept the process alive, do not hang.
    setTimeout(() => process.exit(code), 5000).unref();
  });
}

// Run when executed: as the bin (bin/geofailover.js requires this file) or directly through tsx.
const entry = require.main?.filename ?? '';
if (require.main === module || /[\\/]bin[\\/]geofailover(\.js)?$/.test(entry)) runFromCommandLine();
