/**
 * `geofailover keys allowed-signers [G] [--out FILE]`: the OpenSSH allowed_signers file of the
 * configuration's people, so anyone can check a signed decision with `ssh-keygen -Y verify`.
 * `geofailover keys generate --name NAME --out FILE`: a new unencrypted ed25519 key pair, and the `people` entry
 * to paste into the configuration.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { allowedSigners } from '../../signing/allowed-signers';
import { generateKeyPair } from '../../signing/node-keys';
import { parsePublicKey } from '../../signing/ssh-key';
import { ACTOR_PATTERN } from '../../signing/statement';
import type { CliContext } from '../context';
import { RefusedError, UsageError } from '../errors';
import { addGroupArgument, groupOf } from '../group-argument';
import type { Output } from '../output';
import { loadCliConfig } from '../resolve';
import { globalOptions, text } from './shared';

interface AllowedSignersOptions {
  group?: string;
  out?: string;
  json?: boolean;
}

interface GenerateOptions {
  name: string;
  out: string;
  force?: boolean;
  json?: boolean;
}

function exportAllowedSigners(out: Output, configFlag: string | undefined, opts: AllowedSignersOptions): number {
  const loaded = loadCliConfig(configFlag);
  let names = Object.keys(loaded.config.people);
  if (opts.group !== undefined) {
    const group = Object.hasOwn(loaded.config.groups, opts.group) ? loaded.config.groups[opts.group] : undefined;
    if (!group) {
      throw new RefusedError(
        `no group "${opts.group}" in ${loaded.file}; known groups: ${Object.keys(loaded.config.groups).join(', ')}`,
        'pass one of them as the group, or leave it out for everyone in `people`',
        'unknown-group',
      );
    }
    names = [...new Set([...group.commanders, ...group.approvers])];
  }
  const people = Object.fromEntries(names.map((n) => [n, loaded.config.people[n]?.keys ?? []]));
  const file = allowedSigners(people);
  const keys = file.split('\n').filter(Boolean).length;
  if (opts.out) {
    const target = path.resolve(opts.out);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file);
    out.result(
      { file: target, people: names.sort(), keys, config: loaded.file },
      `wrote ${opts.out}: ${keys} key(s) of ${names.length} person(s) from ${loaded.file}\n` +
        `check a decision with: ssh-keygen -Y verify -f ${opts.out} -I NAME -n geofailover -s X.sig < X.statement`,
    );
  } else if (out.json) {
    out.result({ people: names.sort(), keys, config: loaded.file, allowedSigners: file }, '');
  } else {
    out.result(undefined, file);
  }
  return 0;
}

function generate(out: Output, opts: GenerateOptions): number {
  if (!ACTOR_PATTERN.test(opts.name)) {
    throw new UsageError(
      `--name ${JSON.stringify(opts.name)} is not a person's name the configuration accepts`,
      'lower case letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64 characters',
    );
  }
  const keyFile = path.resolve(opts.out);
  const pubFile = `${keyFile}.pub`;
  const existing = [keyFile, pubFile].filter((f) => existsSync(f));
  if (existing.length && !opts.force) {
    throw new RefusedError(
      `${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}: not overwritten`,
      'choose another --out, or pass --force to replace the key (signatures made with the old one then stop verifying)',
      'key-exists',
    );
  }
  const pair = generateKeyPair(`${opts.name}@geofailover`);
  mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, pair.privateKeyPem, { mode: 0o600 });
  writeFileSync(pubFile, `${pair.publicKeyLine}\n`);
  const parsed = parsePublicKey(pair.publicKeyLine);
  const fingerprint = parsed.ok ? parsed.key.fingerprint : '(unknown)';
  const snippet = JSON.stringify({ [opts.name]: { keys: [pair.publicKeyLine] } }, null, 2);
  out.result(
    {
      name: opts.name,
      keyFile,
      publicKeyFile: pubFile,
      publicKey: pair.publicKeyLine,
      fingerprint,
      people: JSON.parse(snippet),
    },
    [
      `wrote ${opts.out} (private, unencrypted, mode 600) and ${opts.out}.pub; key ${fingerprint}`,
      'add this to the configuration\'s "people" (and name the person in a group\'s commanders or approvers):',
      '',
      snippet.split('\n').slice(1, -1).join('\n').replace(/^ {2}/gm, ''),
      '',
      `then sign with: geofailover approve GROUP --key ${opts.out}   (or set GEOFAILOVER_KEY=${opts.out})`,
    ].join('\n'),
  );
  return 0;
}

export function registerKeys(program: Command, ctx: CliContext): void {
  const keys = program
    .command('keys')
    .summary('export the allowed_signers file of the configured people, or make a new signing key')
    .description(
      'Signing keys of the people who act on a runbook: every decision is a statement signed with an ed25519 key ' +
        '(SSHSIG, namespace geofailover) that `ssh-keygen -Y verify` can check.',
    );

  const signersCommand = keys
    .command('allowed-signers')
    .summary("write the OpenSSH allowed_signers file of the configuration's people")
    .description(
      "The OpenSSH allowed_signers file of the configuration's people (all of them, or one group's commanders and " +
        'approvers): `ssh-keygen -Y verify -f FILE -I NAME -n geofailover -s X.sig < X.statement` then checks any ' +
        "signed decision, and `geofailover audit --verify DIR --allowed-signers FILE` an evidence package's signature.",
    );
  addGroupArgument(signersCommand, { required: false, description: "only the group's commanders and approvers" })
    .option('--out <file>', 'write it to FILE (default: print it)', text('--out'))
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      `
Examples:
  geofailover keys allowed-signers --config geofailover.config.json --out allowed_signers
  geofailover keys allowed-signers leaderboard`,
    )
    .action(async (group: string | undefined, opts: AllowedSignersOptions, command: Command) =>
      ctx.run(opts.json === true, async (out) => {
        const chosen = groupOf(command, group, opts.group);
        return exportAllowedSigners(out, globalOptions(command).config, {
          ...opts,
          ...(chosen !== undefined ? { group: chosen } : {}),
        });
      }),
    );

  keys
    .command('generate')
    .summary('make an unencrypted ed25519 key pair and print its people entry')
    .description(
      'Writes FILE (the private key, unencrypted, mode 600, as ssh-keygen writes it) and FILE.pub, and prints the ' +
        '`people` entry to paste into the configuration. Keep the private key to yourself; `ssh-keygen -t ed25519` ' +
        'makes an equivalent key (with a passphrase, sign with ssh-keygen -Y sign and pass the signature).',
    )
    .requiredOption('--name <name>', 'your name in the configuration', text('--name'))
    .requiredOption('--out <file>', 'where to write the private key (FILE.pub gets the public key)', text('--out'))
    .option('--force', 'replace existing key files')
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      `
Example:
  geofailover keys generate --name alice --out ~/.ssh/geofailover_alice`,
    )
    .action(async (opts: GenerateOptions) => ctx.run(opts.json === true, async (out) => generate(out, opts)));
}
