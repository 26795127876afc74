/**
 * Replication-metadata build-up (README: The ARM emulator): while a linked
 * member is missing (its region in outage) and not force-unlinked, every surviving member of its
 * group accumulates metadata, so its used memory grows each tick up to a cap. When nothing is
 * missing any more — the member was force-unlinked, deleted, or came back and resynchronised —
 * the survivor's metadata is discarded and its memory falls.
 */
import type { Store } from './store';

/** The part of the data plane the build-up drives. */
export interface MetadataDataPlane {
  isRunning(id: string): boolean;
  growMetadata(id: string, bytes: number, capBytes: number): Promise<number>;
  clearMetadata(id: string): Promise<void>;
  memory(id: string): Promise<{ usedBytes: number; maxBytes: number }>;
}

export interface MemorySample {
  usedBytes: number;
  maxBytes: number;
  sampledAt: string;
}

export interface MetadataBuildupOptions {
  store: Store;
  dataPlane: MetadataDataPlane;
  /** true when the database's region is in an emulated outage */
  isDown: (databaseId: string) => boolean;
  bytesPerSecond: number;
  maxPercentOfMaxMemory: number;
  tickMs: number;
  log: (line: string) => void;
}

export class MetadataBuildup {
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly accruing = new Set<string>();
  private readonly samples = new Map<string, MemorySample>();
  private stopped = false;
  private tickPending = false;

  constructor(private readonly options: MetadataBuildupOptions) {}

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      // A slow data plane must not pile ticks up behind each other.
      if (this.tickPending) return;
      this.tickPending = true;
      void this.tick().finally(() => {
        this.tickPending = false;
      });
    }, this.options.tickMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.queue;
  }

  /** Ids of linked members the database cannot reach: they exist and their region is down. */
  missingMembers(databaseId: string): string[] {
    const { store, isDown } = this.options;
    const db = store.database(databaseId);
    if (!db) return [];
    return store.linkedIds(db).filter((id) => store.database(id) !== undefined && isDown(id));
  }

  /** Survivors accumulating metadata right now. */
  accruingIds(): string[] {
    return [...this.accruing];
  }

  /** Last memory sample per database id (refreshed every tick and by refreshMemory). */
  memory(): Record<string, MemorySample> {
    return Object.fromEntries(this.samples);
  }

  /** One build-up step: grows every survivor that misses a member, then samples memory. */
  tick(): Promise<void> {
    return this.serial(async () => {
      const { store, dataPlane, isDown, bytesPerSecond, maxPercentOfMaxMemory, tickMs } = this.options;
      const bytes = Math.round((bytesPerSecond * tickMs) / 1000);
      // All at once: a shared data plane answers readings asked together with one key count.
      await Promise.all(
        store.databases().map(async (db) => {
          if (isDown(db.id) || !dataPlane.isRunning(db.id)) return;
          if (this.missingMembers(db.id).length === 0) return;
          const cap = Math.floor((db.maxMemoryBytes * maxPercentOfMaxMemory) / 100);
          await dataPlane.growMetadata(db.id, bytes, cap);
          this.accruing.add(db.id.toLowerCase());
        }),
      );
      await this.clearResolved();
      await this.sampleAll();
    });
  }

  /**
   * Discards the metadata of survivors that no longer miss anyone (after force-unlink, delete, or a
   * member's return). Called right after those events, not only at the next tick.
   */
  reconcile(): Promise<void> {
    return this.serial(async () => {
      await this.clearResolved();
      await this.sampleAll();
    });
  }

  refreshMemory(): Promise<void> {
    return this.serial(() => this.sampleAll());
  }

  private async clearResolved(): Promise<void> {
    const { store, dataPlane, isDown } = this.options;
    for (const id of [...this.accruing]) {
      const db = store.database(id);
      if (!db) {
        this.accruing.delete(id);
        continue;
      }
      if (isDown(db.id) || !dataPlane.isRunning(db.id)) continue;
      if (this.missingMembers(db.id).length > 0) continue;
      await dataPlane.clearMetadata(db.id);
      this.accruing.delete(id);
      this.options.log(`metadata: ${db.id} resynchronised, replication metadata discarded`);
    }
  }

  private async sampleAll(): Promise<void> {
    const { store, dataPlane } = this.options;
    await Promise.all(
      store.databases().map(async (db) => {
        if (!dataPlane.isRunning(db.id)) {
          this.samples.delete(db.id);
          return;
        }
        try {
          const m = await dataPlane.memory(db.id);
          this.samples.set(db.id, { ...m, sampledAt: new Date().toISOString() });
        } catch {
          this.samples.delete(db.id);
        }
      }),
    );
  }

  /** Ticks, reconciles and samples run one at a time; a failure is logged, never thrown at a timer. */
  private serial(action: () => Promise<void>): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.stopped) return;
      try {
        await action();
      } catch (e) {
        this.options.log(`metadata: ${(e as Error).message}`);
      }
    };
    const next = this.queue.then(run);
    this.queue = next;
    return next;
  }
}
