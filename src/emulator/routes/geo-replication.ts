/**
 * Geo-replication membership rules for create-with-geoReplication and force-link: which part of a
 * (possibly split) group a database may join, and the settings every member must share
 * (docs/ARCHITECTURE.md: Geo-replication groups).
 */
import { ArmError } from '../errors';
import type { DatabaseRecord, DatabaseSettings } from '../store';
import type { ArmServices } from './common';
import { isDown, parseIds, sameId, unique } from './database-shared';

const MAX_GROUP_SIZE = 5;

/** `id` in the case the request listed it (Azure lists linked ids exactly as given); `id` when not listed. */
export function givenCase(listed: readonly string[], id: string): string {
  return listed.find((l) => sameId(l, id)) ?? id;
}

export function givenCaseAll(listed: readonly string[], ids: readonly string[]): string[] {
  return ids.map((id) => givenCase(listed, id));
}

/**
 * Validates joining `targetId` to the group `groupNickname` with the listed ids (create with
 * geoReplication, force-link) and returns the ids of the group part it joins. The listed ids must
 * be one part of the group (members that list each other), must include every reachable member of
 * that part, and must not include the part the target already belongs to.
 */
export function groupPartToJoin(
  services: ArmServices,
  target: { id: string; settings: DatabaseSettings; skuName: string },
  groupNickname: string,
  listedIds: readonly string[],
  field: string,
): string[] {
  const { store } = services;
  const others = unique(parseIds(listedIds, field)).filter((id) => !sameId(id, target.id));
  const parts = store.groupParts(groupNickname);
  if (others.length === 0) {
    const existing = parts.filter((p) => !p.some((d) => sameId(d.id, target.id)));
    if (existing.length > 0) {
      const ids = existing[0]?.map((d) => d.id).join(', ');
      throw ArmError.badRequest(
        `The geo-replication group '${groupNickname}' already exists; ${field} must list its linked databases (${ids}).`,
        field,
      );
    }
    return [];
  }
  for (const id of others) {
    const db = store.database(id);
    if (!db) throw ArmError.badRequest(`The linked database '${id}' does not exist.`, field);
    if (!db.geoReplication || db.geoReplication.groupNickname.toLowerCase() !== groupNickname.toLowerCase()) {
      throw ArmError.badRequest(
        `The linked database '${db.id}' is not a member of the geo-replication group '${groupNickname}'.`,
        field,
      );
    }
  }
  const part = parts.find((p) => p.some((d) => sameId(d.id, others[0] as string))) ?? [];
  if (part.some((d) => sameId(d.id, target.id))) {
    throw ArmError.badRequest(`The database '${target.id}' is already linked to '${others[0]}'.`, field);
  }
  const outside = others.filter((id) => !part.some((d) => sameId(d.id, id)));
  if (outside.length > 0) {
    throw ArmError.badRequest(
      `The linked databases are not one linked part of the group '${groupNickname}': '${outside.join("', '")}' is not linked with '${others[0]}'.`,
      field,
    );
  }
  const unlisted = part.filter((d) => !isDown(services, d.id) && !others.some((id) => sameId(id, d.id)));
  if (unlisted.length > 0) {
    throw ArmError.badRequest(
      `The linked databases must list every reachable member of the group '${groupNickname}'; missing '${unlisted.map((d) => d.id).join("', '")}'.`,
      field,
    );
  }
  if (part.length + 1 > MAX_GROUP_SIZE) {
    throw ArmError.badRequest(`A geo-replication group has at most ${MAX_GROUP_SIZE} members.`, field);
  }
  checkGroupSettings(services, target, part);
  return part.map((d) => d.id);
}

/** Settings that must match across a group (docs/ARCHITECTURE.md: Geo-replication groups). */
function checkGroupSettings(
  services: ArmServices,
  target: { settings: DatabaseSettings; skuName: string },
  part: readonly DatabaseRecord[],
): void {
  const ref = part[0];
  if (!ref) return;
  const refSku = services.store.cluster(ref.clusterId)?.sku.name ?? '';
  const modules = (s: DatabaseSettings): string =>
    s.modules
      .map((m) => m.name.toLowerCase())
      .sort()
      .join(',');
  const pairs: [string, string, string][] = [
    ['sku', target.skuName, refSku],
    ['clusteringPolicy', target.settings.clusteringPolicy, ref.settings.clusteringPolicy],
    ['evictionPolicy', target.settings.evictionPolicy, ref.settings.evictionPolicy],
    ['clientProtocol', target.settings.clientProtocol, ref.settings.clientProtocol],
    ['modules', modules(target.settings), modules(ref.settings)],
  ];
  for (const [name, mine, theirs] of pairs) {
    if (mine.toLowerCase() !== theirs.toLowerCase()) {
      throw ArmError.badRequest(
        `Every database of a geo-replication group must have the same ${name}: '${mine || '(none)'}' here, '${theirs || '(none)'}' on '${ref.id}'.`,
        name,
      );
    }
  }
  if (target.settings.persistence.aofEnabled || target.settings.persistence.rdbEnabled) {
    throw ArmError.badRequest('Persistence is not supported with active geo-replication.', 'persistence');
  }
}
