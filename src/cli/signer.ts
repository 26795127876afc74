/**
 * Who the CLI signs as: the key file (--key, else GEOFAILOVER_KEY) and the person of the configuration whose
 * public key it is. Every runbook action is a statement signed with that key.
 */
import { readFileSync } from 'node:fs';
import { Option } from 'commander';
import { MAX_START_VALIDITY_MS, type Proof } from '../contract/policy';
import type { GroupDefinition } from '../contract/runbook';
import { policyDigestFor } from '../policy/from-config';
import { startRequest } from '../signing/payloads';
import { readPrivateKey, type PrivateKey } from '../signing/node-keys';
import { parsePublicKey } from '../signing/ssh-key';
import { durationMs } from '../contract/durations';
import { UsageError } from './errors';
import type { LoadedConfig } from './resolve';

export const KEY_ENV = 'GEOFAILOVER_KEY';

export interface CliSigner {
  actor: string;
  key: PrivateKey;
  keyFile: string;
  fingerprint: string;
  /** how long the statement stays valid */
  validForMs?: number;
}

export interface SignerOptions {
  key?: string;
  by?: string;
  validFor?: string;
}

/** --key, --by and --valid-for, for every command that signs. */
export function signerOptions(): Option[] {
  return [
    new Option('--key <file>', `your unencrypted OpenSSH ed25519 private key (default: $${KEY_ENV})`),
    new Option('--by <name>', 'who you are in the configuration (default: the person whose public key --key is)'),
    new Option('--valid-for <duration>', 'how long the signed statement stays valid, e.g. 15m or 2h (default 15m)'),
  ];
}

const blobOf = (line: string): string | undefined => {
  const parsed = parsePublicKey(line);
  return parsed.ok ? parsed.key.fingerprint : undefined;
};

/**
 * The signer for this command.
 * @throws UsageError when no key is given or it cannot be read, or --by names someone else than the key's owner.
 */
export function loadSigner(loaded: LoadedConfig | undefined, opts: SignerOptions, env: NodeJS.ProcessEnv): CliSigner {
  const keyFile = opts.key ?? env[KEY_ENV];
  if (!keyFile) {
    throw new UsageError(
      `every action is a signed statement: pass --key FILE (or set ${KEY_ENV}=FILE), your ed25519 private key ` +
        'whose public key is in the configuration’s people (ssh-keygen -t ed25519 -f FILE makes one)',
    );
  }
  let key: PrivateKey;
  try {
    key = readPrivateKey(readFileSync(keyFile, 'utf8'));
  } catch (e) {
    throw new UsageError(`--key ${keyFile}: ${(e as Error).message}`);
  }
  const fingerprint = blobOf(key.publicKeyLine) ?? '(unknown)';
  const owners = Object.entries(loaded?.config.people ?? {})
    .filter(([, p]) => p.keys.some((line) => blobOf(line) === fingerprint))
    .map(([name]) => name);
  let actor = opts.by;
  if (actor && owners.length > 0 && !owners.includes(actor)) {
    throw new UsageError(
      `--by ${actor}, but the key ${fingerprint} belongs to ${owners.join(', ')} in the configuration`,
    );
  }
  if (!actor) {
    if (owners.length !== 1) {
      throw new UsageError(
        owners.length === 0
          ? `the key ${fingerprint} (${keyFile}) belongs to nobody in the configuration’s people: ` +
              `ask whoever keeps the worker's configuration to add its public key (${key.publicKeyLine}), or pass --by NAME`
          : `the key ${fingerprint} belongs to ${owners.join(' and ')}: pass --by NAME`,
      );
    }
    actor = owners[0] as string;
  }
  let validForMs: number | undefined;
  if (opts.validFor !== undefined) {
    try {
      validForMs = durationMs(opts.validFor as never);
    } catch {
      validForMs = undefined;
    }
    if (!validForMs || validForMs <= 0 || validForMs > 24 * 3_600_000) {
      throw new UsageError(`--valid-for ${opts.validFor}: expected a duration from 1s to 24h, such as 15m`);
    }
  }
  return { actor, key, keyFile, fingerprint, ...(validForMs !== undefined ? { validForMs } : {}) };
}

/** A start names no run, so the runbook accepts one valid for at most 15 minutes: say so before signing. */
export function refuseLongStart(validForMs: number | undefined): void {
  if (validForMs !== undefined && validForMs > MAX_START_VALIDITY_MS) {
    throw new UsageError(
      `--valid-for: a start may be valid for at most ${MAX_START_VALIDITY_MS / 60_000} minutes (it names no run yet)`,
    );
  }
}

/** The configuration if it loads; signal commands work without one when --by names the signer. */
export function tryLoadConfig(load: () => LoadedConfig): LoadedConfig | undefined {
  try {
    return load();
  } catch {
    return undefined;
  }
}

/**
 * The signer's start of a runbook for the member of `region`, bound to the digest of this configuration's policy of
 * the group (a worker with another policy refuses it, saying so).
 */
export function signStart(
  signer: CliSigner,
  loaded: LoadedConfig,
  start: { workflowId: string; group: GroupDefinition; region: string; reason: string },
): Proof {
  return startRequest(signer.key, {
    actor: signer.actor,
    workflowId: start.workflowId,
    databaseId: start.group.members[start.region] ?? '',
    region: start.region,
    reason: start.reason,
    ...policyDigestFor(loaded.config, start.group.name),
    ...(signer.validForMs !== undefined ? { validForMs: signer.validForMs } : {}),
  });
}
