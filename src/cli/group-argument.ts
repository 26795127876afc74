/**
 * The group a command acts on: a positional argument, as for every other command, with the older `--group NAME`
 * kept as an alias so scripts written for it still work. Only commander here: main.ts reads it at start-up.
 */
import { Argument, CommanderError, InvalidArgumentError, Option, type Command } from 'commander';

/** Commands whose group is required although the argument is optional to commander (`--group` may give it). */
const REQUIRED = new WeakSet<Command>();

function nonBlank(what: string): (value: string) => string {
  return (value) => {
    const trimmed = value.trim();
    if (!trimmed) throw new InvalidArgumentError(`${what} must not be empty.`);
    return trimmed;
  };
}

/** Adds `[group]` and `--group <name>`; a required group is shown as `<group>` in help. */
export function addGroupArgument(command: Command, options: { required: boolean; description: string }): Command {
  const description = options.required ? `${options.description} (required)` : options.description;
  command.addArgument(new Argument('[group]', description).argParser(nonBlank('the group')));
  command.addOption(
    new Option('--group <name>', 'the same as the group argument (the older form, still accepted)').argParser(
      nonBlank('--group'),
    ),
  );
  if (options.required) {
    REQUIRED.add(command);
    command.usage('[options] <group>');
  }
  return command;
}

/** The help term of a command in the top-level list, `[group]` shown as `<group>` where it is required. */
export function groupHelpTerm(command: Command, term: string): string {
  return REQUIRED.has(command) ? term.replace(/\[group\]$/, '<group>') : term;
}

/**
 * The group given as the argument or with --group. Call it inside the command's run: the error is reported there
 * (text, or a JSON document under --json) like any other bad usage.
 * @throws CommanderError (exit code 2) when a required group is missing, or both forms name different groups.
 */
export function groupOf(command: Command, argument: string | undefined, flag: string | undefined): string | undefined {
  if (argument !== undefined && flag !== undefined && argument !== flag) {
    throw new CommanderError(
      2,
      'geofailover.conflictingGroup',
      `error: the group is given twice, as ${JSON.stringify(argument)} and --group ${JSON.stringify(flag)}; give it once`,
    );
  }
  const group = argument ?? flag;
  if (group === undefined && REQUIRED.has(command)) {
    throw new CommanderError(2, 'commander.missingArgument', `error: missing required argument 'group'`);
  }
  return group;
}
