/**
 * The emulator's control API: plain HTTP + JSON on 127.0.0.1 (never exposed beyond loopback).
 * The same operations are available in-process as `emulator.faults` and on the command line as
 * `geofailover emulator <subcommand>`.
 *
 *   GET  /health                   {"ok":true}
 *   GET  /state                    state dump: clusters, databases and their links, TM profiles,
 *                                  regions in outage, faults, private endpoints, memory per database
 *   GET  /counters                 [{resourceId, operation, count}] accepted mutating ARM calls
 *   POST /counters/reset           zero the counters
 *   GET  /faults                   the active faults
 *   POST /faults/outage            {region}                      region outage: ARM 503, redis-servers stop
 *   POST /faults/data-plane-outage {region}                      data-plane-only outage: ARM answers (databases
 *                                  Running), the region's private endpoints black-hole, its redis-servers stop
 *   POST /faults/restore           {region}                      end the outage (ARM or data-plane-only) and a hang;
 *                                  redis-servers restart with data
 *   POST /faults/hang              {region, operation?="*"}      the region's ARM requests (of that operation) are
 *                                  accepted and never answered, until restore or reset
 *   POST /faults/throttle          {count, retryAfterSeconds?=1, method?, operation?, resource?}
 *                                  the next `count` matching ARM requests answer 429 + Retry-After
 *   POST /faults/lro               {operation, resource?, fail?:{code,message}, cancel?, durationMs?,
 *                                   times?=1 | sticky?}   the next matching LRO(s) fail / cancel / take durationMs
 *   POST /faults/latency           {operation | "*", ms}         add ms before answering (0 removes)
 *   POST /faults/firewall          {applicationRegion, database (id or region), mode: open|refuse|blackhole}
 *   POST /faults/degrade           {endpoint (name or id), degraded?=true}  Traffic Manager health probes of the
 *                                  endpoint fail: Degraded while enabled (false clears it)
 *   POST /faults/rate-limits       {enabled?=true, reads?, writes?, deletes?: {burst, perSecond}}  ARM's token-bucket
 *                                  throttling per subscription + principal + region (sizes not given: Azure's)
 *   POST /faults/quirks            {forceUnlinkOneIdPerCall?, unlinkListedForMs?, operationStatus?, holdLinking?}  observed Azure
 *                                  behaviours (see faults.ts quirksInputSchema)
 *   POST /faults/reset             clear every fault (ends outages, opens firewalls; rate limits and quirks back to
 *                                  the start-up options)
 *   GET  /latencies                {"arm-read", "arm-write", "lro", "probe"}  emulated latencies in ms
 *   POST /latencies                any of those keys, ms (0 to 3 600 000)  added before answering an ARM read or
 *                                  write, to each long-running operation, to each new private-endpoint connection;
 *                                  a setting, not a fault: /faults/reset keeps it
 *
 * Operation names: see OPERATION_NAMES in operations.ts. Bad input answers 400
 * `{ "error": { "code": "BadRequest", "message": … } }`; unknown paths 404; wrong methods 405.
 */
import http from 'node:http';
import type { MutationCount } from './counters';
import { FaultInputError, type Faults } from './faults';
import { LatencySettingError, type Latencies } from './latencies';

export interface ControlTarget {
  faults: Faults;
  latencies: Latencies;
  counters(): MutationCount[];
  resetCounters(): void;
  /** the state dump, with memory sampled afresh */
  freshState(): Promise<unknown>;
  log(line: string): void;
}

interface ControlResponse {
  status: number;
  body: unknown;
}

class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Handler = (body: unknown) => unknown;

function routes(target: ControlTarget): Record<string, Record<string, Handler>> {
  const { faults } = target;
  const region = (body: unknown): string => {
    const r = (body as { region?: unknown } | undefined)?.region;
    if (typeof r !== 'string' || r === '') throw new FaultInputError('expected a JSON body {"region": "eastus"}');
    return r;
  };
  return {
    '/health': { GET: () => ({ ok: true }) },
    '/state': { GET: () => target.freshState() },
    '/counters': { GET: () => target.counters() },
    '/counters/reset': {
      POST: () => {
        target.resetCounters();
        return { ok: true };
      },
    },
    '/faults': { GET: () => faults.list() },
    '/faults/outage': { POST: (b) => faults.outage(region(b)) },
    '/faults/data-plane-outage': { POST: (b) => faults.dataPlaneOutage(region(b)) },
    '/faults/restore': { POST: (b) => faults.restore(region(b)) },
    '/faults/hang': { POST: (b) => ({ hangs: faults.hang(b as never) }) },
    '/faults/throttle': { POST: (b) => faults.throttle(b as never) },
    '/faults/lro': { POST: (b) => faults.lro(b as never) },
    '/faults/latency': { POST: (b) => faults.latency(b as never) },
    '/faults/firewall': { POST: (b) => faults.firewall(b as never) },
    '/faults/degrade': { POST: (b) => ({ degradedEndpoints: faults.degrade(b as never) }) },
    '/faults/rate-limits': { POST: (b) => faults.rateLimits((b ?? {}) as never) },
    '/faults/quirks': { POST: (b) => faults.quirks((b ?? {}) as never) },
    '/faults/reset': { POST: () => faults.reset() },
    '/latencies': { GET: () => target.latencies.get(), POST: (b) => target.latencies.set(b) },
  };
}

export function createControlServer(target: ControlTarget): http.Server {
  const table = routes(target);
  return http.createServer((req, res) => {
    void (async () => {
      let response: ControlResponse;
      try {
        const url = new URL(req.url ?? '/', 'http://control.invalid');
        const path = url.pathname.replace(/\/+$/, '') || '/';
        const methods = table[path];
        if (!methods)
          throw new ControlError(404, 'NotFound', `no control route ${path}; see GET /health, /state, /faults`);
        const method = (req.method ?? 'GET').toUpperCase();
        const handler = methods[method];
        if (!handler) {
          throw new ControlError(405, 'MethodNotAllowed', `${path} accepts ${Object.keys(methods).join(', ')}`);
        }
        const body = await readBody(req);
        response = { status: 200, body: await handler(body) };
      } catch (e) {
        if (e instanceof ControlError) {
          response = { status: e.status, body: { error: { code: e.code, message: e.message } } };
        } else if (e instanceof FaultInputError || e instanceof LatencySettingError) {
          response = { status: 400, body: { error: { code: 'BadRequest', message: e.message } } };
        } else {
          target.log(`control: ${(e as Error)?.stack ?? String(e)}`);
          response = {
            status: 500,
            body: { error: { code: 'InternalServerError', message: (e as Error)?.message ?? String(e) } },
          };
        }
      }
      if (res.headersSent || res.destroyed) return;
      const text = JSON.stringify(response.body ?? null);
      res.writeHead(response.status, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
    })();
  });
}

function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (e: Error): void => {
      if (!settled) {
        settled = true;
        reject(e);
      }
    };
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 64 * 1024) {
        fail(new ControlError(413, 'RequestEntityTooLarge', 'control request bodies are limited to 64 KiB'));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('error', fail);
    req.on('close', () => fail(new Error('the client closed the connection')));
    req.on('end', () => {
      if (settled) return;
      settled = true;
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(new ControlError(400, 'BadRequest', `the body is not valid JSON: ${(e as Error).message}`));
      }
    });
  });
}
