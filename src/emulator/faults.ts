/**
 * Fault injection: region outages, data-plane-only outages, hung regions, throttling, slow or failing long-running operations, latency
 * per operation and firewall blocks per (application region, database). The control API
 * (control.ts), the CLI (`geofailover emulator <fault>`) and in-process tests (`emulator.faults`)
 * all go through this class, with the same input schemas.
 */
import { z } from 'zod';
import { LRO_OPERATIONS, OPERATION_NAMES, type LroOperationName, type OperationName } from './operations';
import { RateLimiter, type RateLimitAnswer, type RateLimitConfig, type RateLimitState } from './rate-limits';

export type FirewallMode = 'open' | 'refuse' | 'blackhole';

/** Thrown for fault input that does not validate; the control API answers it with 400. */
export class FaultInputError extends Error {
  override name = 'FaultInputError';
}

const region = z.string().min(1, 'expected a region name such as eastus');
const operation = z.enum(OPERATION_NAMES, {
  error: () => `expected an operation name: ${OPERATION_NAMES.join(', ')}`,
});
const MAX_MS = 24 * 60 * 60 * 1000;

export const regionInputSchema = z.object({ region }).strict();

export const throttleInputSchema = z
  .object({
    count: z.number().int().min(1).max(1_000_000),
    retryAfterSeconds: z.number().int().min(0).max(3600).default(1),
    method: z
      .string()
      .regex(/^[A-Za-z]+$/, 'expected an HTTP method such as GET or POST')
      .transform((m) => m.toUpperCase())
      .optional(),
    operation: operation.optional(),
    resource: z.string().min(1).optional().describe('case-insensitive substring of the request path'),
  })
  .strict();

export const lroFaultInputSchema = z
  .object({
    operation: z.enum(LRO_OPERATIONS, {
      error: () => `expected a long-running operation: ${LRO_OPERATIONS.join(', ')}`,
    }),
    resource: z.string().min(1).optional().describe('case-insensitive substring of the target resource id'),
    fail: z
      .object({ code: z.string().min(1), message: z.string().min(1) })
      .strict()
      .optional(),
    cancel: z.boolean().optional(),
    durationMs: z.number().int().min(0).max(MAX_MS).optional(),
    times: z.number().int().min(1).max(1_000_000).optional(),
    sticky: z.boolean().optional(),
  })
  .strict()
  .refine((f) => f.fail !== undefined || f.cancel === true || f.durationMs !== undefined, {
    message: 'give at least one of fail {code, message}, cancel or durationMs',
  })
  .refine((f) => !(f.fail && f.cancel), { message: 'fail and cancel exclude each other' })
  .refine((f) => !(f.sticky && f.times !== undefined), { message: 'times and sticky exclude each other' });

export const latencyInputSchema = z
  .object({
    operation: z.union([operation, z.literal('*')]),
    ms: z.number().int().min(0).max(600_000),
  })
  .strict();

export const firewallInputSchema = z
  .object({
    applicationRegion: region,
    database: z.string().min(1, 'expected a database resource id or the region of the database'),
    mode: z.enum(['open', 'refuse', 'blackhole']),
  })
  .strict();

export const degradeInputSchema = z
  .object({
    endpoint: z.string().min(1, 'expected a Traffic Manager endpoint name (such as eastus) or resource id'),
    degraded: z.boolean().default(true).describe('false clears it'),
  })
  .strict();

export const hangInputSchema = z
  .object({
    region,
    operation: z.union([operation, z.literal('*')]).default('*'),
  })
  .strict();

/**
 * Observed Azure behaviours the emulator can follow; `reset` returns them to the
 * emulator's start-up options.
 */
export const quirksInputSchema = z
  .object({
    forceUnlinkOneIdPerCall: z
      .boolean()
      .optional()
      .describe('forceUnlink refuses ids with more than one entry (400); default true'),
    unlinkListedForMs: z
      .number()
      .int()
      .min(0)
      .max(MAX_MS)
      .optional()
      .describe('after a force-unlink succeeded, survivors keep listing the member this long; default 0'),
    operationStatus: z
      .boolean()
      .optional()
      .describe('LRO status quirks: location display name in the status URL, +05:30 offsets, endTime while InProgress'),
    holdLinking: z
      .boolean()
      .optional()
      .describe(
        'after a force-link, the new links read Linking (resynchronising) until this is set false; default false',
      ),
  })
  .strict();

export type QuirksInput = z.input<typeof quirksInputSchema>;
export interface Quirks {
  forceUnlinkOneIdPerCall: boolean;
  unlinkListedForMs: number;
  operationStatus: boolean;
  holdLinking: boolean;
}
export const DEFAULT_QUIRKS: Quirks = {
  forceUnlinkOneIdPerCall: true,
  unlinkListedForMs: 0,
  operationStatus: false,
  holdLinking: false,
};

/** ARM token buckets (per subscription, principal and region): burst size and refill per second, per kind. */
const bucket = z.object({ burst: z.number().int().min(1).max(1_000_000), perSecond: z.number().min(0).max(1_000_000) });
export const rateLimitInputSchema = z
  .object({
    enabled: z.boolean().default(true).describe('false turns the throttling model off'),
    reads: bucket.optional(),
    writes: bucket.optional(),
    deletes: bucket.optional(),
  })
  .strict();
export type RateLimitInput = z.input<typeof rateLimitInputSchema>;

export type HangInput = z.input<typeof hangInputSchema>;
export type ThrottleInput = z.input<typeof throttleInputSchema>;
export type LroFaultInput = z.input<typeof lroFaultInputSchema>;
export type LatencyInput = z.input<typeof latencyInputSchema>;
export type FirewallInput = z.input<typeof firewallInputSchema>;
export type DegradeInput = z.input<typeof degradeInputSchema>;

export interface ThrottleFault {
  id: number;
  remaining: number;
  retryAfterSeconds: number;
  method?: string;
  operation?: OperationName;
  resource?: string;
}

export interface LroFault {
  id: number;
  operation: LroOperationName;
  resource?: string;
  fail?: { code: string; message: string };
  cancel?: boolean;
  durationMs?: number;
  /** how many more operations it applies to; null when sticky */
  remaining: number | null;
}

export interface LatencyFault {
  operation: OperationName | '*';
  ms: number;
}

export interface FirewallRule {
  applicationRegion: string;
  databaseId: string;
  mode: FirewallMode;
}

/** ARM requests for the region's resources (of `operation`, or all) are accepted and never answered. */
export interface HangFault {
  region: string;
  operation: OperationName | '*';
}

export interface FaultState {
  regionsInOutage: string[];
  /** regions whose data plane is down while ARM answers (`dataPlaneOutage`); `restore` or `reset` ends them */
  dataPlaneOutages: string[];
  /** hung regions (per operation); `restore` or `reset` ends them */
  hangs: HangFault[];
  /** requests accepted under a hang and not answered (their connections still open) */
  requestsHeld: number;
  throttles: ThrottleFault[];
  lroFaults: LroFault[];
  latencies: LatencyFault[];
  firewall: FirewallRule[];
  /** Traffic Manager endpoint ids whose health probes fail (monitor status Degraded while enabled) */
  degradedEndpoints: string[];
  /** observed Azure behaviours in effect */
  quirks: Quirks;
  /** ARM's token-bucket throttling model and the 429s it answered */
  rateLimits: RateLimitState;
  /** 429s answered by the `throttle` fault */
  throttledByFault: number;
}

/** What an LRO fault does to one operation. */
export interface LroFaultEffect {
  durationMs?: number;
  fail?: { code: string; message: string };
  cancel?: boolean;
}

/** The actions a fault needs from the running emulator (data plane and metadata build-up). */
export interface FaultHost {
  readonly regions: readonly string[];
  readonly applicationRegions: readonly string[];
  /** Stops the region's redis-servers (ARM already answers 503 when this is called). */
  stopRegion(region: string): Promise<void>;
  /** Starts the region's redis-servers again with their data (ARM still answers 503 while this runs). */
  startRegion(region: string): Promise<void>;
  /** Called once ARM answers for the region again. */
  regionRestored(region: string): Promise<void>;
  /** Database ids named by an id (any casing) or by the region they are in; undefined when none. */
  resolveDatabases(ref: string): string[] | undefined;
  setFirewall(applicationRegion: string, databaseId: string, mode: FirewallMode): void;
  /** Traffic Manager endpoint ids named by a name or id (any casing); empty when none. */
  resolveEndpoints?(ref: string): string[];
}

function parse<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const detail = result.error.issues
      .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(body)'}: ${i.message}`)
      .join('; ');
    throw new FaultInputError(`invalid ${what}: ${detail}`);
  }
  return result.data;
}

export class Faults {
  private readonly outages = new Set<string>();
  private readonly dataPlaneOutages = new Set<string>();
  private throttles: ThrottleFault[] = [];
  private lroFaults: LroFault[] = [];
  private readonly latencies = new Map<string, number>();
  private readonly firewallRules = new Map<string, FirewallRule>();
  private readonly degraded = new Map<string, string>();
  /** region (lower case) → hung operations */
  private readonly hangs = new Map<string, Set<OperationName | '*'>>();
  /** requests held under a hang: region (lower case) and how to drop the connection */
  private readonly held = new Set<{ region: string; drop: () => void }>();
  private nextId = 1;
  private regionQueue: Promise<unknown> = Promise.resolve();
  private readonly initialQuirks: Quirks;
  private currentQuirks: Quirks;
  private readonly limiter: RateLimiter;
  private throttledByFault = 0;

  constructor(
    private readonly host: FaultHost,
    options: { quirks?: Partial<Quirks>; rateLimits?: RateLimitConfig } = {},
  ) {
    this.initialQuirks = { ...DEFAULT_QUIRKS, ...options.quirks };
    this.currentQuirks = { ...this.initialQuirks };
    this.limiter = new RateLimiter(options.rateLimits);
  }

  /**
   * Turns ARM's token-bucket throttling on (sizes not given: Azure's 250/25 reads, 200/10 writes and deletes) or
   * off; buckets start full. `reset` returns to the start-up configuration.
   */
  rateLimits(input: RateLimitInput): RateLimitState {
    const r = parse(rateLimitInputSchema, input, 'rate limits');
    return this.limiter.configure(r);
  }

  /** Takes a token for an ARM request under the throttling model; undefined when it is off. */
  takeRateLimit(request: {
    method: string;
    path: string;
    region?: string;
    authorization?: string;
  }): RateLimitAnswer | undefined {
    return this.limiter.take(request);
  }

  /** Sets observed Azure behaviours (fields not given stay as they are); returns those in effect. */
  quirks(input: QuirksInput = {}): Quirks {
    const q = parse(quirksInputSchema, input, 'quirks');
    this.currentQuirks = {
      forceUnlinkOneIdPerCall: q.forceUnlinkOneIdPerCall ?? this.currentQuirks.forceUnlinkOneIdPerCall,
      unlinkListedForMs: q.unlinkListedForMs ?? this.currentQuirks.unlinkListedForMs,
      operationStatus: q.operationStatus ?? this.currentQuirks.operationStatus,
      holdLinking: q.holdLinking ?? this.currentQuirks.holdLinking,
    };
    return { ...this.currentQuirks };
  }

  /** The observed behaviours in effect (read by the routes). */
  activeQuirks(): Quirks {
    return { ...this.currentQuirks };
  }

  // ---- the fault operations (control API, CLI and in-process) -----------------------------------

  /**
   * Starts an emulated outage: ARM calls for the region's clusters, databases and operations
   * answer 503, and its redis-servers stop. Idempotent.
   * @throws FaultInputError for a region the scenario does not have.
   */
  async outage(region: string): Promise<FaultState> {
    const r = this.knownRegion(parse(regionInputSchema, { region }, 'outage').region);
    return this.serialRegion(async () => {
      if (this.outages.has(r)) return;
      this.outages.add(r);
      await this.host.stopRegion(r);
    });
  }

  /**
   * Starts a data-plane-only outage: ARM answers for the region as usual (its databases read `Running`), but every
   * private endpoint to its databases black-holes — connections are accepted and never answered, which is what a
   * client behind a private endpoint sees when the region behind it is partitioned: its probes time out — and its
   * redis-servers stop. `restore` (or `reset`) ends it. Idempotent.
   * @throws FaultInputError for a region the scenario does not have.
   */
  async dataPlaneOutage(region: string): Promise<FaultState> {
    const r = this.knownRegion(parse(regionInputSchema, { region }, 'data-plane outage').region);
    return this.serialRegion(async () => {
      if (this.dataPlaneOutages.has(r)) return;
      this.dataPlaneOutages.add(r);
      // Black-holed before the servers stop, so clients hang instead of seeing a reset.
      this.setRegionEndpoints(r, () => 'blackhole');
      await this.host.stopRegion(r);
    });
  }

  /** The region's data plane is down while ARM answers (a data-plane-only outage). */
  isDataPlaneDown(region: string | undefined): boolean {
    return region !== undefined && this.dataPlaneOutages.has(region.replace(/\s+/g, '').toLowerCase());
  }

  /** Sets every private endpoint (from every application region) of the region's databases. */
  private setRegionEndpoints(region: string, mode: (applicationRegion: string, databaseId: string) => FirewallMode) {
    for (const databaseId of this.host.resolveDatabases(region) ?? []) {
      for (const applicationRegion of this.host.applicationRegions) {
        this.host.setFirewall(applicationRegion, databaseId, mode(applicationRegion, databaseId));
      }
    }
  }

  /** Database ids (lower case) behind a data-plane-only outage: their endpoints stay black-holed until restore. */
  private blackholedDatabases(): Set<string> {
    return new Set(
      [...this.dataPlaneOutages].flatMap((r) => (this.host.resolveDatabases(r) ?? []).map((id) => id.toLowerCase())),
    );
  }

  /**
   * Hangs the region's ARM front end: requests for its clusters, databases and operations (`operation`, default
   * every one) are accepted and never answered, until `restore` (which also drops the held connections) or
   * `reset`. Redis-servers keep running. Takes precedence over an outage of the same region. Idempotent.
   * @throws FaultInputError for a region the scenario does not have.
   */
  hang(input: HangInput): HangFault[] {
    const h = parse(hangInputSchema, input, 'hang');
    const r = this.knownRegion(h.region).toLowerCase();
    const ops = this.hangs.get(r) ?? new Set<OperationName | '*'>();
    ops.add(h.operation);
    this.hangs.set(r, ops);
    return this.hangList();
  }

  /** The `hang` fault holds for this request: its region (a location, any casing or spacing) and operation. */
  isHanging(region: string | undefined, operation: OperationName): boolean {
    if (region === undefined) return false;
    const ops = this.hangs.get(region.replace(/\s+/g, '').toLowerCase());
    return ops !== undefined && (ops.has('*') || ops.has(operation));
  }

  /**
   * Holds a hung request until its client gives up or the hang ends (then `drop` is called: close the
   * connection without an answer). Returns the release to call when the client went away.
   */
  hold(region: string, drop: () => void): () => void {
    const entry = { region: region.replace(/\s+/g, '').toLowerCase(), drop };
    this.held.add(entry);
    return () => {
      this.held.delete(entry);
    };
  }

  private endHang(region: string): void {
    const r = region.toLowerCase();
    this.hangs.delete(r);
    for (const entry of [...this.held]) {
      if (entry.region !== r) continue;
      this.held.delete(entry);
      entry.drop();
    }
  }

  private hangList(): HangFault[] {
    return [...this.hangs].flatMap(([region, ops]) => [...ops].map((operation) => ({ region, operation })));
  }

  /**
   * Ends an outage, a data-plane-only outage and a hang: held requests of the region are dropped (connection closed,
   * no answer); the region's redis-servers start again with their data, then its private endpoints forward again
   * (as the firewall fault last set them) and ARM answers again. Idempotent.
   */
  async restore(region: string): Promise<FaultState> {
    const r = this.knownRegion(parse(regionInputSchema, { region }, 'restore').region);
    this.endHang(r);
    return this.serialRegion(async () => {
      const dataPlane = this.dataPlaneOutages.has(r);
      if (!this.outages.has(r) && !dataPlane) return;
      await this.host.startRegion(r);
      this.outages.delete(r);
      if (dataPlane) {
        this.dataPlaneOutages.delete(r);
        this.setRegionEndpoints(
          r,
          (app, id) => this.firewallRules.get(`${app}\u0000${id.toLowerCase()}`)?.mode ?? 'open',
        );
      }
      await this.host.regionRestored(r);
    });
  }

  /** The next `count` matching ARM requests answer 429 with `Retry-After: retryAfterSeconds`. */
  throttle(input: ThrottleInput): ThrottleFault {
    const t = parse(throttleInputSchema, input, 'throttle');
    const fault: ThrottleFault = {
      id: this.nextId++,
      remaining: t.count,
      retryAfterSeconds: t.retryAfterSeconds,
      method: t.method,
      operation: t.operation,
      resource: t.resource,
    };
    this.throttles.push(fault);
    return { ...fault };
  }

  /** The next matching long-running operation(s) fail, are canceled, or take `durationMs`. */
  lro(input: LroFaultInput): LroFault {
    const f = parse(lroFaultInputSchema, input, 'LRO fault');
    const fault: LroFault = {
      id: this.nextId++,
      operation: f.operation,
      resource: f.resource,
      fail: f.fail,
      cancel: f.cancel,
      durationMs: f.durationMs,
      remaining: f.sticky ? null : (f.times ?? 1),
    };
    this.lroFaults.push(fault);
    return { ...fault };
  }

  /** Removes one LRO fault (by the id `lro` returned); true when it was still there. */
  clearLro(id: number): boolean {
    const before = this.lroFaults.length;
    this.lroFaults = this.lroFaults.filter((f) => f.id !== id);
    return this.lroFaults.length < before;
  }

  /** Adds `ms` before answering every request of the operation (`*`: all); 0 removes it. */
  latency(input: LatencyInput): LatencyFault {
    const l = parse(latencyInputSchema, input, 'latency');
    if (l.ms === 0) this.latencies.delete(l.operation);
    else this.latencies.set(l.operation, l.ms);
    return { operation: l.operation, ms: l.ms };
  }

  /**
   * Sets the firewall in front of the private endpoint(s) from `applicationRegion` to the database
   * (by id, or every database of a region).
   * @throws FaultInputError for an unknown application region or database.
   */
  firewall(input: FirewallInput): FirewallRule[] {
    const f = parse(firewallInputSchema, input, 'firewall');
    const appRegion = this.host.applicationRegions.find((r) => r.toLowerCase() === f.applicationRegion.toLowerCase());
    if (!appRegion) {
      throw new FaultInputError(
        `unknown application region ${f.applicationRegion}; the scenario has ${this.host.applicationRegions.join(', ')}`,
      );
    }
    const ids = this.host.resolveDatabases(f.database);
    if (!ids || ids.length === 0) {
      throw new FaultInputError(`no database matches ${f.database}: give a database resource id or a region`);
    }
    const rules: FirewallRule[] = [];
    const blackholed = this.blackholedDatabases();
    for (const databaseId of ids) {
      // Behind a data-plane-only outage the rule applies once restore ends it.
      if (!blackholed.has(databaseId.toLowerCase())) this.host.setFirewall(appRegion, databaseId, f.mode);
      const k = `${appRegion}\u0000${databaseId.toLowerCase()}`;
      const rule = { applicationRegion: appRegion, databaseId, mode: f.mode };
      if (f.mode === 'open') this.firewallRules.delete(k);
      else this.firewallRules.set(k, rule);
      rules.push(rule);
    }
    return rules;
  }

  /**
   * Makes the health probes of Traffic Manager endpoint(s) fail (`degraded: false` clears it): while enabled
   * they show `endpointMonitorStatus: Degraded` once their CheckingEndpoint time is over.
   * @throws FaultInputError for an endpoint no profile has.
   */
  degrade(input: DegradeInput): string[] {
    const d = parse(degradeInputSchema, input, 'degrade');
    const ids = this.host.resolveEndpoints?.(d.endpoint) ?? [d.endpoint];
    if (ids.length === 0) {
      throw new FaultInputError(`no Traffic Manager endpoint matches ${d.endpoint}: give an endpoint name or id`);
    }
    for (const id of ids) {
      if (d.degraded) this.degraded.set(id.toLowerCase(), id);
      else this.degraded.delete(id.toLowerCase());
    }
    return [...this.degraded.values()];
  }

  /** Clears every fault: ends outages and data-plane-only outages (restarting redis-servers), throttles, LRO faults, latency, firewall blocks. */
  async reset(): Promise<FaultState> {
    this.throttles = [];
    this.currentQuirks = { ...this.initialQuirks };
    this.limiter.reset();
    this.throttledByFault = 0;
    this.lroFaults = [];
    this.latencies.clear();
    for (const rule of this.firewallRules.values()) {
      this.host.setFirewall(rule.applicationRegion, rule.databaseId, 'open');
    }
    this.firewallRules.clear();
    this.degraded.clear();
    for (const r of [...this.hangs.keys()]) this.endHang(r);
    for (const r of new Set([...this.outages, ...this.dataPlaneOutages])) await this.restore(r);
    return this.list();
  }

  list(): FaultState {
    return {
      regionsInOutage: [...this.outages],
      dataPlaneOutages: [...this.dataPlaneOutages],
      hangs: this.hangList(),
      requestsHeld: this.held.size,
      throttles: this.throttles.filter((t) => t.remaining > 0).map((t) => ({ ...t })),
      lroFaults: this.lroFaults.filter((f) => f.remaining === null || f.remaining > 0).map((f) => ({ ...f })),
      latencies: [...this.latencies].map(([op, ms]) => ({ operation: op as OperationName | '*', ms })),
      firewall: [...this.firewallRules.values()].map((r) => ({ ...r })),
      degradedEndpoints: [...this.degraded.values()],
      quirks: { ...this.currentQuirks },
      rateLimits: this.limiter.state(),
      throttledByFault: this.throttledByFault,
    };
  }

  // ---- used while serving ARM requests --------------------------------------------------------

  isRegionDown(region: string | undefined): boolean {
    return region !== undefined && this.outages.has(region.replace(/\s+/g, '').toLowerCase());
  }

  /** The `degrade` fault holds for this Traffic Manager endpoint (id, any casing). */
  isEndpointDegraded(endpointId: string): boolean {
    return this.degraded.has(endpointId.toLowerCase());
  }

  regionsInOutage(): string[] {
    return [...this.outages];
  }

  /** Consumes one matching throttle entry, if any. */
  takeThrottle(request: { method: string; operation: OperationName; path: string }): ThrottleFault | undefined {
    const path = request.path.toLowerCase();
    const t = this.throttles.find(
      (f) =>
        f.remaining > 0 &&
        (f.method === undefined || f.method === request.method.toUpperCase()) &&
        (f.operation === undefined || f.operation === request.operation) &&
        (f.resource === undefined || path.includes(f.resource.toLowerCase())),
    );
    if (!t) return undefined;
    t.remaining -= 1;
    this.throttledByFault += 1;
    this.throttles = this.throttles.filter((f) => f.remaining > 0);
    return { ...t };
  }

  latencyFor(operation: OperationName): number {
    return this.latencies.get(operation) ?? this.latencies.get('*') ?? 0;
  }

  /** Consumes one matching LRO fault, if any. */
  takeLroFault(operation: LroOperationName, resourceId: string): LroFaultEffect | undefined {
    const id = resourceId.toLowerCase();
    const f = this.lroFaults.find(
      (x) =>
        x.operation === operation &&
        (x.remaining === null || x.remaining > 0) &&
        (x.resource === undefined || id.includes(x.resource.toLowerCase())),
    );
    if (!f) return undefined;
    if (f.remaining !== null) f.remaining -= 1;
    this.lroFaults = this.lroFaults.filter((x) => x.remaining === null || x.remaining > 0);
    return { durationMs: f.durationMs, fail: f.fail, cancel: f.cancel };
  }

  private knownRegion(region: string): string {
    const r = this.host.regions.find((x) => x.toLowerCase() === region.toLowerCase());
    if (!r) throw new FaultInputError(`unknown region ${region}; the scenario has ${this.host.regions.join(', ')}`);
    return r;
  }

  /** Outage and restore of regions run one at a time, so stop and start never interleave. */
  private serialRegion(action: () => Promise<void>): Promise<FaultState> {
    const next = this.regionQueue.then(action, action).then(() => this.list());
    this.regionQueue = next.catch(() => undefined);
    return next;
  }
}
