/**
 * POST actions on a database: forceUnlink, forceLinkToReplicationGroup, flush (long-running) and
 * regenerateKey (synchronous). listKeys is answered in the route table.
 */
import { z } from 'zod';
import { ArmError } from '../errors';
import { parseBody, type ArmRequest, type ArmResponse, type ArmServices } from './common';
import {
  accepted,
  idRef,
  isDown,
  parseIds,
  requireDatabase,
  requireIdle,
  requireRunning,
  sameId,
  sameLinkedId,
  startLro,
  unique,
  type DatabaseScope,
} from './database-shared';
import { givenCase, givenCaseAll, groupPartToJoin } from './geo-replication';

const forceUnlinkBody = z.object({ ids: z.array(idRef) });
const forceLinkBody = z.object({
  geoReplication: z.object({ groupNickname: z.string().min(1), linkedDatabases: z.array(idRef).optional() }),
});
const flushBody = z.object({ ids: z.array(idRef).optional() });
const regenerateKeyBody = z.object({ keyType: z.enum(['Primary', 'Secondary']) });

export function forceUnlink(req: ArmRequest, scope: DatabaseScope, services: ArmServices): ArmResponse {
  const db = requireDatabase(scope, services);
  const body = parseBody(forceUnlinkBody, req.body, { required: true });
  const given = unique(parseIds(body?.ids ?? [], 'ids'));
  if (given.length === 0) throw ArmError.badRequest('ids must name at least one database to unlink.', 'ids');
  const quirks = services.faults.activeQuirks();
  // Observed (Terraform force_unlink_invocations.go): one id per call.
  if (quirks.forceUnlinkOneIdPerCall && given.length > 1) {
    throw ArmError.badRequest(
      `ids names ${given.length} databases; force-unlink one database per call (observed Azure behaviour).`,
      'ids',
    );
  }
  if (!db.geoReplication) {
    throw ArmError.badRequest(`The database '${db.id}' is not geo-replicated.`, 'ids');
  }
  const ids: string[] = [];
  for (const id of given) {
    if (sameId(id, db.id)) throw ArmError.badRequest('A database cannot force-unlink itself.', 'ids');
    const listed = services.store.listedAs(db, id);
    if (listed === undefined) {
      throw ArmError.badRequest(`The database '${id}' is not linked to '${db.id}'.`, 'ids');
    }
    // Linked ids compare case-sensitively in Azure: a different case names no linked database.
    if (!sameLinkedId(listed, id)) {
      throw ArmError.badRequest(
        `The database '${id}' is not linked to '${db.id}' (linked ids are case-sensitive; it lists '${listed}').`,
        'ids',
      );
    }
    ids.push(listed);
  }
  requireIdle(db);
  const geoView = {
    groupNickname: db.geoReplication.groupNickname,
    linkedDatabases: db.geoReplication.linkedDatabases.map((l) => ({
      id: l.id,
      state: ids.some((id) => sameId(id, l.id)) ? ('Unlinking' as const) : l.state,
    })),
  };
  const op = startLro(req, services, {
    name: 'forceUnlink',
    target: db,
    running: ['Updating', 'Updating'],
    failed: ['Failed', 'UpdateFailed'],
    geoView,
    apply: async () => {
      // Observed race: the operation reports Succeeded while a GET still lists the member for a while.
      const lingerMs = quirks.unlinkListedForMs;
      if (lingerMs > 0) {
        setTimeout(() => {
          services.store.unlink(ids);
          services.log(`force-unlink of ${ids.join(', ')}: no longer listed (${lingerMs} ms after it succeeded)`);
          void services.metadata.reconcile().catch(() => undefined);
        }, lingerMs).unref();
        services.log(`force-unlinked ${ids.join(', ')} (called on ${db.id}); still listed for ${lingerMs} ms`);
        return;
      }
      services.store.unlink(ids);
      services.log(`force-unlinked ${ids.join(', ')} (called on ${db.id})`);
    },
  });
  return accepted(req, services, op);
}

export function forceLink(req: ArmRequest, scope: DatabaseScope, services: ArmServices): ArmResponse {
  const db = requireDatabase(scope, services);
  const body = parseBody(forceLinkBody, req.body, { required: true });
  const geo = body!.geoReplication;
  const nickname = geo.groupNickname;
  if (db.geoReplication && db.geoReplication.groupNickname.toLowerCase() !== nickname.toLowerCase()) {
    throw ArmError.badRequest(
      `The database '${db.id}' belongs to the group '${db.geoReplication.groupNickname}', not '${nickname}'.`,
      'geoReplication.groupNickname',
    );
  }
  if (!services.store.groupParts(nickname).some((p) => p.some((d) => !sameId(d.id, db.id)))) {
    throw ArmError.badRequest(
      `There is no geo-replication group named '${nickname}' to link to.`,
      'geoReplication.groupNickname',
    );
  }
  const listed = geo.linkedDatabases ?? [];
  // Azure: force-link lists every member of the group, the database being linked included.
  if (listed.length > 0 && !listed.some((id) => sameId(id, db.id))) {
    throw ArmError.badRequest(
      `geoReplication.linkedDatabases must list every member of the group, '${db.id}' itself included.`,
      'geoReplication.linkedDatabases',
    );
  }
  if (listed.filter((id) => !sameId(id, db.id)).length === 0) {
    throw ArmError.badRequest(
      'geoReplication.linkedDatabases must list the members of the group to link to.',
      'geoReplication.linkedDatabases',
    );
  }
  const skuName = services.store.cluster(db.clusterId)?.sku.name ?? '';
  const part = groupPartToJoin(
    services,
    { id: db.id, settings: db.settings, skuName },
    nickname,
    listed,
    'geoReplication.linkedDatabases',
  );
  requireIdle(db);
  const id = db.id;
  const op = startLro(req, services, {
    name: 'forceLinkToReplicationGroup',
    target: db,
    running: ['Updating', 'Updating'],
    failed: ['Failed', 'UpdateFailed'],
    geoView: { groupNickname: nickname, linkedDatabases: [id, ...part].map((x) => ({ id: x, state: 'Linking' })) },
    apply: async () => {
      // Force-link recreates the database in place: its data is discarded.
      requireRunning(services, id);
      await services.dataPlane.flush(id);
      services.store.link(givenCase(listed, id), nickname, givenCaseAll(listed, part));
      services.log(`force-linked ${id} to ${nickname} (${part.length} member(s)); its data was flushed`);
      if (services.faults.activeQuirks().holdLinking) holdLinking(services, id, part);
    },
  });
  return accepted(req, services, op);
}

/**
 * Quirk holdLinking: the links a force-link made read Linking (Azure resynchronises the rejoined member for a while)
 * until the quirk is turned off again, then Linked.
 */
function holdLinking(services: ArmServices, id: string, part: readonly string[]): void {
  const states = (state: 'Linking' | 'Linked'): void => {
    for (const db of [id, ...part].map((x) => services.store.database(x))) {
      for (const link of db?.geoReplication?.linkedDatabases ?? []) {
        const self = db !== undefined && sameId(link.id, db.id);
        if (!self && (sameId(db?.id ?? '', id) || sameId(link.id, id))) link.state = state;
      }
    }
  };
  states('Linking');
  const timer = setInterval(() => {
    if (services.faults.activeQuirks().holdLinking) return;
    clearInterval(timer);
    states('Linked');
    services.log(`force-link of ${id}: its links read Linked (holdLinking off)`);
  }, 100);
  timer.unref();
}

export function flush(req: ArmRequest, scope: DatabaseScope, services: ArmServices): ArmResponse {
  const db = requireDatabase(scope, services);
  const body = parseBody(flushBody, req.body, { required: false });
  const ids = unique(parseIds(body?.ids ?? [], 'ids')).filter((id) => !sameId(id, db.id));
  for (const id of ids) {
    if (!services.store.lists(db, id) || !services.store.database(id)) {
      throw ArmError.badRequest(`The database '${id}' is not a linked database of '${db.id}'.`, 'ids');
    }
    if (isDown(services, id)) {
      throw ArmError.badRequest(`The linked database '${id}' is unavailable; it cannot be flushed now.`, 'ids');
    }
  }
  requireIdle(db);
  const targets = [db.id, ...ids.map((id) => services.store.database(id)?.id ?? id)];
  const op = startLro(req, services, {
    name: 'flush',
    target: db,
    running: ['Updating', 'Updating'],
    failed: ['Failed', 'UpdateFailed'],
    apply: async () => {
      for (const id of targets) {
        requireRunning(services, id);
        await services.dataPlane.flush(id);
      }
      services.log(`flushed ${targets.join(', ')}`);
    },
  });
  return accepted(req, services, op);
}

export async function regenerateKey(
  req: ArmRequest,
  scope: DatabaseScope,
  services: ArmServices,
): Promise<ArmResponse> {
  const db = requireDatabase(scope, services);
  const body = parseBody(regenerateKeyBody, req.body, { required: true });
  requireIdle(db);
  const fresh = services.newKeys();
  if (body!.keyType === 'Primary') {
    await services.dataPlane.setPassword(db.id, fresh.primaryKey);
    db.keys = { ...db.keys, primaryKey: fresh.primaryKey };
  } else {
    db.keys = { ...db.keys, secondaryKey: fresh.secondaryKey };
  }
  services.counters.increment(db.id, 'regenerateKey');
  return { status: 200, body: { ...db.keys } };
}

/**
 * listKeys: the access keys, while `accessKeysAuthentication` is Enabled. On a Disabled database the emulator
 * refuses with 400 BadRequest (the spec documents no code for it; Azure's exact code is unverified).
 */
export function listKeys(scope: DatabaseScope, services: ArmServices): ArmResponse {
  const db = requireDatabase(scope, services);
  services.counters.countListKeys(db.id);
  if (db.settings.accessKeysAuthentication !== 'Enabled') {
    throw ArmError.badRequest(
      'Access keys authentication is disabled for this database (accessKeysAuthentication: Disabled); use Microsoft Entra ID.',
      'accessKeysAuthentication',
    );
  }
  return { status: 200, body: { ...db.keys } };
}
