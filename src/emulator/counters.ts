/** One row of the mutation counters: how many times `operation` was accepted for `resourceId`. */
export interface MutationCount {
  resourceId: string;
  operation: string;
  count: number;
}

/**
 * Counts accepted mutating calls (PUT, PATCH, DELETE, forceUnlink, forceLinkToReplicationGroup,
 * flush, regenerateKey) per resource and operation, so tests can prove that a destructive call
 * was made exactly once. Calls the emulator refused (4xx, throttled 429, outage 503) are not counted.
 */
export class Counters {
  private readonly rows = new Map<string, MutationCount>();

  increment(resourceId: string, operation: string): void {
    const k = `${resourceId.toLowerCase()}\u0000${operation}`;
    const row = this.rows.get(k);
    if (row) row.count += 1;
    else this.rows.set(k, { resourceId, operation, count: 1 });
  }

  /** listKeys asks, per database: every call, also those refused (a keys-Disabled database), none of them a write. */
  readonly listKeys = new Map<string, MutationCount>();

  countListKeys(resourceId: string): void {
    const k = resourceId.toLowerCase();
    const row = this.listKeys.get(k);
    if (row) row.count += 1;
    else this.listKeys.set(k, { resourceId, operation: 'listKeys', count: 1 });
  }

  listKeysCalls(): MutationCount[] {
    return [...this.listKeys.values()].map((r) => ({ ...r }));
  }

  list(): MutationCount[] {
    return [...this.rows.values()].map((r) => ({ ...r }));
  }

  reset(): void {
    this.rows.clear();
    this.listKeys.clear();
  }
}
