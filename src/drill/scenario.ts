/**
 * What the drill runs on: the emulator scenario (the default one, or `--scenario FILE`) and the region that
 * fails, both checked before anything starts.
 */
import path from 'node:path';
import { defaultScenario, loadScenario, type Scenario } from '../emulator/scenario';
import { DRILL_METADATA_BYTES_PER_SECOND } from './settings';

// The CLI's drill command reports a bad --scenario file without importing the emulator itself.
export { ScenarioError } from '../emulator/scenario';

/** A usage problem found before anything started: an unknown region, a scenario without a group. */
export class DrillUsageError extends Error {
  override name = 'DrillUsageError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface DrillPlan {
  scenario: Scenario;
  /** 'default' or the scenario file's absolute path */
  scenarioSource: string;
  /** the geo-replication group (its nickname, the configuration's group name) */
  group: string;
  /** its member regions, in scenario order */
  members: string[];
  failedRegion: string;
  /** short outage: the region returns before the unlink trigger */
  shortOutage: boolean;
  /** `--rehearsal`: a rehearsal of the healthy region (drain, hold, failback, replication check), no outage */
  rehearsal?: boolean;
  /** `--evacuate N`: a regionEvacuation of every group of a generated estate of N groups (drill/evacuation.ts) */
  evacuate?: { groups: number };
}

/** Geo-replication group nickname → member regions, in scenario order. */
export function scenarioGroups(scenario: Scenario): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const cluster of scenario.clusters) {
    for (const db of cluster.databases) {
      const nickname = db.geoReplication?.groupNickname;
      if (!nickname) continue;
      const members = groups.get(nickname) ?? [];
      if (!members.includes(cluster.location)) members.push(cluster.location);
      groups.set(nickname, members);
    }
  }
  return groups;
}

/**
 * Loads the scenario and picks the group and the failed region: `failRegion`, or the first member of the first
 * group. The long path speeds the survivors' metadata build-up to the drill's rate (unless the scenario's is
 * faster); the short path keeps the scenario's rate, so the region is back long before the trigger.
 * @throws ScenarioError for a missing or invalid scenario file; DrillUsageError for a region no group has.
 */
export function planDrill(options: {
  scenarioFile?: string;
  failRegion?: string;
  shortOutage?: boolean;
  rehearsal?: boolean;
}): DrillPlan {
  const scenario = options.scenarioFile ? loadScenario(options.scenarioFile) : defaultScenario();
  const scenarioSource = options.scenarioFile ? path.resolve(options.scenarioFile) : 'default';
  const groups = [...scenarioGroups(scenario)].filter(([, members]) => members.length >= 2);
  if (groups.length === 0) {
    throw new DrillUsageError(
      `the scenario (${scenarioSource}) has no geo-replication group with two or more members to fail over`,
      'give databases in two or more regions the same geoReplication.groupNickname',
    );
  }
  const wanted = options.failRegion ?? groups[0]?.[1][0];
  const found = groups.find(([, members]) => members.includes(wanted ?? ''));
  if (!found || !wanted) {
    const regions = [...new Set(groups.flatMap(([, members]) => members))];
    throw new DrillUsageError(
      `--fail-region ${wanted}: no geo-replication group of the scenario has a member there; ` +
        `member regions: ${regions.join(', ')}`,
      `e.g. --fail-region ${regions[0]}`,
    );
  }
  const shortOutage = options.shortOutage === true;
  if (!shortOutage && !options.rehearsal) {
    scenario.metadataBuildup = {
      ...scenario.metadataBuildup,
      bytesPerSecond: Math.max(scenario.metadataBuildup.bytesPerSecond, DRILL_METADATA_BYTES_PER_SECOND),
    };
  }
  return {
    scenario,
    scenarioSource,
    group: found[0],
    members: found[1],
    failedRegion: wanted,
    shortOutage,
    ...(options.rehearsal ? { rehearsal: true } : {}),
  };
}
