/**
 * The drill's configuration file: what `geofailover emulator --write-config` writes for the live emulator, with
 * the drill's quorum, thresholds and durations, in the run's work dir. The group is then resolved from that file
 * exactly as `geofailover start` resolves it, and a person can point any CLI command at it (`--config FILE`).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkFailedRegion, loadCliConfig, resolveGroup, type LoadedConfig } from '../config/groups';
import type { GroupDefinition } from '../contract/runbook';
import { configForEmulator, DEFAULT_APPROVERS, writeIdentitySecret } from '../emulator/config';
import { peopleKeys, writePeopleKeys, type PersonKeyFile } from '../signing/key-files';
import type { Emulator } from '../emulator/index';
import type { DrillPlan } from './scenario';
import { drillGroup } from './settings';

export const DRILL_CONFIG_FILE = 'geofailover.config.json';

export interface DrillConfig {
  file: string;
  loaded: LoadedConfig;
  /** the group as the workflow receives it */
  group: GroupDefinition;
  survivors: string[];
  /** each person's key files (the drill signs as them) */
  keys: Record<string, PersonKeyFile>;
}

/**
 * Writes the configuration for the running emulator into `dir` and resolves the drill's group from it.
 * @throws Error when the emulator serves no Traffic Manager profile for the group (the scenario cannot be drilled);
 *   the CLI's ConfigError/RefusedError when the written file does not resolve (a bug, reported as such).
 */
export function writeDrillConfig(
  emulator: Emulator,
  plan: DrillPlan,
  dir: string,
  options: { interactive: boolean },
): DrillConfig {
  // The drill's people get keys in the run's work dir: every decision of the drill is signed with them.
  const keys = writePeopleKeys(path.join(dir, 'keys'), DEFAULT_APPROVERS);
  const file = path.join(dir, DRILL_CONFIG_FILE);
  // The drill's workers authenticate as the emulator's principal: its secret beside the configuration (mode 600).
  const identity = writeIdentitySecret(emulator.identity, file);
  const config = configForEmulator(emulator.state(), emulator.caPath, peopleKeys(keys), identity);
  const group = config.groups[plan.group];
  if (!group) {
    throw new Error(
      `the scenario's group ${plan.group} has no Traffic Manager profile with an endpoint per member region, ` +
        'so traffic cannot be moved; add one to the scenario (see src/emulator/scenarios/default.json)',
    );
  }
  const written = { ...config, groups: { [plan.group]: drillGroup(group, options) } };
  writeFileSync(file, `${JSON.stringify(written, null, 2)}\n`);
  const loaded = loadCliConfig(file);
  const definition = resolveGroup(loaded, plan.group);
  const survivors = checkFailedRegion(definition, plan.failedRegion);
  return { file, loaded, group: definition, survivors, keys };
}
