/**
 * Emulated geo-replication of data (README: The ARM emulator): a string key written to one member reaches every
 * member it is linked with (both list each other), while both run and neither region is in an outage. Each tick
 * reads every running member's string keys, and copies the keys that changed since the member's previous reading
 * (value and remaining TTL) to its linked members. Writes made while a member was unreachable are not caught up
 * later (a rejoin discards its data anyway); deletes do not replicate. Per-database data plane only: the shared
 * shape (large estates) does not replicate data.
 */
import type { Store } from './store';

/** The part of the data plane replication drives. */
export interface ReplicationDataPlane {
  readonly shape: string;
  isRunning(id: string): boolean;
  readStrings(id: string): Promise<Map<string, string>>;
  copyStrings(fromId: string, toIds: readonly string[], keys: readonly string[]): Promise<void>;
}

export interface ReplicationOptions {
  store: Store;
  dataPlane: ReplicationDataPlane;
  isDown: (databaseId: string) => boolean;
  tickMs: number;
  log: (line: string) => void;
}

export class Replication {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** database id (lower case) → its string keys at the previous reading */
  private readonly seen = new Map<string, Map<string, string>>();
  private stopped = false;

  constructor(private readonly options: ReplicationOptions) {}

  start(): void {
    if (this.timer || this.stopped || this.options.dataPlane.shape !== 'per-database') return;
    this.timer = setInterval(() => {
      // A slow data plane must not pile ticks up behind each other.
      if (this.running) return;
      this.running = this.tick()
        .catch((e: unknown) => this.options.log(`replication: tick failed: ${(e as Error)?.message ?? String(e)}`))
        .finally(() => (this.running = undefined));
    }, this.options.tickMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private reachable(id: string): boolean {
    const { store, dataPlane, isDown } = this.options;
    return store.database(id) !== undefined && !isDown(id) && dataPlane.isRunning(id);
  }

  /** One round: read every reachable member, copy what changed to the members it is linked with. */
  async tick(): Promise<void> {
    const { store, dataPlane } = this.options;
    const dbs = store.databases().filter((db) => this.reachable(db.id));
    const readings = await Promise.all(
      dbs.map(async (db) => [db, await dataPlane.readStrings(db.id).catch(() => undefined)] as const),
    );
    for (const [db, now] of readings) {
      if (!now) continue;
      const id = db.id.toLowerCase();
      const before = this.seen.get(id);
      this.seen.set(id, now);
      // The first reading is the baseline: only writes after it replicate.
      if (!before) continue;
      const changed = [...now].filter(([key, value]) => before.get(key) !== value).map(([key]) => key);
      if (changed.length === 0) continue;
      const targets = store
        .linkedIds(db)
        .filter((other) => this.reachable(other))
        .filter((other) => {
          const peer = store.database(other);
          return peer !== undefined && store.lists(peer, db.id);
        });
      if (targets.length === 0) continue;
      await dataPlane.copyStrings(db.id, targets, changed).catch(() => undefined);
      // What a target received is not its own write: it is not copied back.
      for (const target of targets) {
        const seen = this.seen.get(target.toLowerCase());
        if (!seen) continue;
        const source = now;
        for (const key of changed) {
          const value = source.get(key);
          if (value !== undefined) seen.set(key, value);
        }
      }
    }
  }
}
