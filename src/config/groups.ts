/**
 * From the configuration file to the group the runbook acts on: loaded, validated, its resource ids and the failed
 * region checked before anything starts. Shared by the CLI and the drill; refusals carry the CLI's error codes.
 */
import { parseDatabaseId, parseTrafficManagerProfileId, ResourceIdParseError } from '../azure/resource-ids';
import { RefusedError } from '../contract/errors';
import type { GroupDefinition } from '../contract/runbook';
import { toGroupDefinition } from '../policy/group-definition';
import { loadConfig, resolveConfigPath } from './load';
import type { GeofailoverConfig } from './schema';

export interface LoadedConfig {
  file: string;
  config: GeofailoverConfig;
}

/**
 * Loads and validates the configuration (--config, GEOFAILOVER_CONFIG, ./geofailover.config.json).
 * @throws ConfigError naming the file, the field and what is expected.
 */
export function loadCliConfig(explicitPath?: string): LoadedConfig {
  const file = resolveConfigPath(explicitPath);
  return { file, config: loadConfig(file) };
}

/**
 * The named group as the runbook receives it, its resource ids checked.
 * @throws RefusedError for an unknown group (listing the known ones) or a malformed resource id.
 */
export function resolveGroup(loaded: LoadedConfig, name: string): GroupDefinition {
  const known = Object.keys(loaded.config.groups);
  const group = Object.hasOwn(loaded.config.groups, name) ? loaded.config.groups[name] : undefined;
  if (!group) {
    throw new RefusedError(
      `no group "${name}" in ${loaded.file}; known groups: ${known.join(', ')}`,
      `give one of them as the group argument, or add "${name}" to the configuration`,
      'unknown-group',
      { group: name, knownGroups: known },
    );
  }
  const definition = toGroupDefinition(name, group);
  checkResourceIds(definition, loaded.file);
  return definition;
}

function checkResourceIds(group: GroupDefinition, file: string): void {
  const check = (field: string, parse: () => unknown): void => {
    try {
      parse();
    } catch (e) {
      if (!(e instanceof ResourceIdParseError)) throw e;
      throw new RefusedError(
        `${file}: groups.${group.name}.${field}: ${e.message}`,
        'fix the resource id in the configuration; nothing was started',
        'malformed-resource-id',
        { field: `groups.${group.name}.${field}`, resourceId: e.resourceId },
      );
    }
  };
  for (const [region, id] of Object.entries(group.members)) check(`members.${region}`, () => parseDatabaseId(id));
  check('trafficManager.profileId', () => parseTrafficManagerProfileId(group.trafficManager.profileId));
}

/**
 * The surviving regions when `failedRegion` fails.
 * @throws RefusedError when the region is not a member, has no Traffic Manager endpoint, or leaves no survivor.
 */
export function checkFailedRegion(group: GroupDefinition, failedRegion: string): string[] {
  const members = Object.keys(group.members);
  if (!members.includes(failedRegion)) {
    const near = members.find((m) => m.toLowerCase() === failedRegion.toLowerCase().replace(/[\s_-]/g, ''));
    throw new RefusedError(
      `${failedRegion} is not a member of group ${group.name}; its members are ${members.join(', ')}`,
      near ? `did you mean --failed-region ${near}?` : 'pass one of the members to --failed-region',
      'not-a-member',
      { group: group.name, failedRegion, members },
    );
  }
  const survivors = members.filter((m) => m !== failedRegion);
  if (survivors.length === 0) {
    throw new RefusedError(
      `${failedRegion} is the only member of group ${group.name}: there is no surviving member to fail over to`,
      'a failover needs at least one other member in the geo-replication group',
      'no-survivor',
      { group: group.name, failedRegion, members },
    );
  }
  if (!group.trafficManager.endpoints[failedRegion]) {
    throw new RefusedError(
      `group ${group.name} names no Traffic Manager endpoint for ${failedRegion}, so traffic cannot be moved away from it`,
      `add trafficManager.endpoints.${failedRegion} to the group in the configuration`,
      'no-endpoint',
    );
  }
  return survivors;
}
