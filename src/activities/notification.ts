import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { Context, log } from '@temporalio/activity';
import {
  webhookOrigin,
  WebhookReferenceError,
  type GroupNotificationTarget,
  type ResolvedWebhook,
} from '../config/webhook';
import { webUiLink } from '../temporal/connection';
import { payloadFor } from './notification-payloads';
import type { NotificationActivities, NotificationDelivery } from './types';

export interface NotificationDependencies {
  /** how long one delivery attempt may take; default 10 s */
  webhookTimeoutMs?: number;
  /** extra CA to trust besides the system roots, PEM (the emulator's) */
  caPem?: string;
  /** group → its webhook, read by the worker (never from the workflow); throws for an unusable reference */
  escalationWebhooks?: (group: string) => ResolvedWebhook | undefined;
  /** group → its notification targets (and the global ones), resolved by the worker at each delivery */
  notificationTargets?: (group: string) => GroupNotificationTarget[];
  /** base URL of the Temporal Web UI: notifications link the run's page */
  webUi?: string;
}

type Delivery = Awaited<ReturnType<NotificationActivities['notifyEscalation']>>;

const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
const MAX_ATTEMPTS = 3;
const BACKOFF_MS = [250, 1000];
/** The answer's body is never used; this much is read (so a short answer completes cleanly), the rest dropped. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** What one POST came to: an HTTP status, or an error before any status. */
type Attempt = { statusCode: number } | { error: string };

/** Node's error text can quote what it was given; cut out every part of the URL beyond scheme and host. */
function scrub(text: string, url: URL): string {
  const secrets = [
    url.href,
    `${url.pathname}${url.search}${url.hash}`,
    url.search,
    url.hash,
    url.username,
    url.password,
  ];
  if (url.pathname.length > 1) secrets.push(url.pathname);
  let out = text;
  for (const s of secrets.filter((x) => x.length > 1).sort((a, b) => b.length - a.length)) out = out.split(s).join('…');
  return out;
}

function reason(e: unknown, timeoutMs: number, timedOut: boolean): string {
  if (timedOut) return `no answer within ${timeoutMs} ms`;
  const err = e as { code?: string; message?: string };
  return err?.code && !String(err.message).includes(err.code) ? `${err.message} (${err.code})` : String(err?.message);
}

/** One POST, no redirects followed (node:https never follows them), the answer read to at most 64 KiB. */
function post(url: URL, payload: string, options: { ca?: string[]; timeoutMs: number; cancel: AbortSignal }) {
  return new Promise<Attempt>((resolve) => {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = AbortSignal.any([options.cancel, timeout]);
    let statusCode: number | undefined;
    const settle = (e?: unknown): void => {
      // Once a status arrived the outcome is known, whatever happens to the rest of the body.
      if (statusCode !== undefined) resolve({ statusCode });
      else resolve({ error: reason(e, options.timeoutMs, timeout.aborted) });
    };
    const req = https.request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          'user-agent': 'geofailover',
        },
        ...(options.ca ? { ca: options.ca } : {}),
        agent: false,
        signal,
      },
      (res) => {
        statusCode = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read >= MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('end', () => settle());
        res.on('close', () => settle());
        res.on('error', () => settle());
      },
    );
    req.on('error', settle);
    req.end(payload);
  });
}

const retryable = (a: Attempt): boolean => !('statusCode' in a) || a.statusCode >= 500 || a.statusCode === 429;

/** How one POST series ended. */
interface Outcome {
  delivered: boolean;
  attempts: number;
  statusCode?: number;
  error?: string;
}

/**
 * POSTs `payload` to `url` with up to three attempts for network errors, 5xx and 429 (250 ms, then 1 s apart),
 * every attempt ending before the activity's own deadline so that Temporal never retries (and re-posts) behind it.
 * @throws the cancellation when the activity is cancelled
 */
async function deliver(
  url: URL,
  target: string,
  payload: string,
  options: { ca?: string[]; timeoutMs: number; what: string },
): Promise<Outcome> {
  const ctx = Context.current();
  const budgetMs = ctx.info.startToCloseTimeoutMs;
  const deadline = budgetMs > 0 ? Date.now() + budgetMs - Math.min(1000, budgetMs / 10) : Infinity;
  let attempts = 0;
  let last: Attempt = { error: 'not attempted' };
  while (attempts < MAX_ATTEMPTS) {
    const remaining = deadline - Date.now();
    if (attempts > 0 && remaining < 500) break;
    attempts++;
    last = await post(url, payload, {
      ca: options.ca,
      timeoutMs: Math.max(1, Math.min(options.timeoutMs, remaining)),
      cancel: ctx.cancellationSignal,
    });
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
    if ('statusCode' in last && last.statusCode >= 200 && last.statusCode < 300) {
      log.info(`${options.what} delivered to ${target}`, { statusCode: last.statusCode, attempts });
      return { delivered: true, attempts, statusCode: last.statusCode };
    }
    if (!retryable(last) || attempts >= MAX_ATTEMPTS) break;
    const wait = BACKOFF_MS[attempts - 1] ?? BACKOFF_MS[BACKOFF_MS.length - 1]!;
    if (Date.now() + wait > deadline - 500) break;
    log.info(`${options.what}: attempt ${attempts} failed, retrying`, { target });
    await ctx.sleep(wait);
  }
  if ('statusCode' in last) {
    const status = last.statusCode;
    const error =
      status >= 300 && status < 400
        ? `${target} answered HTTP ${status}: not delivered: redirect refused (configure the final URL)`
        : `${target} answered HTTP ${status}`;
    return { delivered: false, attempts, statusCode: status, error };
  }
  return { delivered: false, attempts, error: `${target}: ${scrub(last.error, url)}` };
}

/** The calling run's page in the Temporal Web UI, when its address is known. */
function runLink(webUi: string | undefined): string | undefined {
  if (!webUi) return undefined;
  const { workflowExecution, workflowNamespace, activityNamespace } = Context.current().info;
  if (!workflowExecution) return undefined;
  const namespace = workflowNamespace ?? activityNamespace;
  return webUiLink(webUi, namespace, workflowExecution.workflowId, workflowExecution.runId);
}

/** Counts deliveries on the worker's metrics (Prometheus when configured), by target kind, event and outcome. */
function countDelivery(kind: string, event: string, delivered: boolean): void {
  try {
    Context.current()
      .metricMeter.createCounter('geofailover_notifications', 'notifications', 'runbook notifications sent, by outcome')
      .add(1, { kind, event, delivered: String(delivered) });
  } catch {
    // Metrics are best effort: a notification is never held up by them.
  }
}

/**
 * Escalation of a gate that timed out: a JSON POST to the group's webhook, which the worker resolves (the URL is
 * a secret and never comes from the workflow). https: only, no redirects, a bounded answer, up to three attempts
 * for network errors, 5xx and 429. An escalation must never stop the runbook, so a webhook that is missing,
 * unusable, unreachable, slow or failing yields `delivered: false` (logged), never an error. Results and logs
 * show the webhook only as its reference and origin (`target`), never its path, query or credentials.
 *
 * `notify` does the same for the notification targets (Slack, Teams, generic JSON) and every runbook event.
 */
export function createNotificationActivities(deps: NotificationDependencies = {}): NotificationActivities {
  const timeoutMs = deps.webhookTimeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  // `ca` replaces the default trust store, so the system roots are passed along with the extra CA.
  const ca = deps.caPem ? [...rootCertificates, deps.caPem] : undefined;
  return {
    async notifyEscalation({ group, body }) {
      const notDelivered = (result: Delivery): Delivery => {
        log.warn(`escalation of group ${group} not delivered: ${result.error}`, { escalation: body });
        return result;
      };
      let hook: ResolvedWebhook | undefined;
      try {
        hook = deps.escalationWebhooks?.(group);
      } catch (e) {
        const error = e instanceof WebhookReferenceError ? e.message : `escalation webhook of group ${group} unusable`;
        return notDelivered({ delivered: false, attempts: 0, error });
      }
      if (!hook) {
        return notDelivered({
          delivered: false,
          attempts: 0,
          error: `no escalation webhook configured for group ${group}`,
        });
      }
      const { url, target } = hook;
      if (url.protocol !== 'https:') {
        const error = `refused: the escalation webhook must be an https: URL, not ${webhookOrigin(url)}`;
        return notDelivered({ delivered: false, attempts: 0, error, target });
      }
      const outcome = await deliver(url, target, JSON.stringify(body), {
        ca,
        timeoutMs,
        what: `escalation of group ${group}`,
      });
      countDelivery('escalation-webhook', 'escalation', outcome.delivered);
      return outcome.delivered ? { ...outcome, target } : notDelivered({ ...outcome, target });
    },

    async notify({ group, notification }) {
      const targets = (deps.notificationTargets?.(group) ?? []).filter((t) => t.events.includes(notification.event));
      const what = `${notification.event} notification of group ${group}`;
      const link = runLink(deps.webUi);
      const deliveries = await Promise.all(
        targets.map(async (t): Promise<NotificationDelivery> => {
          const base = { event: notification.event, kind: t.kind, target: t.reference };
          let hook: ResolvedWebhook;
          try {
            hook = t.resolve();
          } catch (e) {
            const error = e instanceof WebhookReferenceError ? e.message : `${t.reference}: unusable`;
            return { ...base, delivered: false, attempts: 0, error };
          }
          const payload = JSON.stringify(payloadFor(t.kind, notification, link));
          const outcome = await deliver(hook.url, hook.target, payload, { ca, timeoutMs, what: `${what} (${t.kind})` });
          return { ...base, target: hook.target, ...outcome };
        }),
      );
      for (const d of deliveries) {
        countDelivery(d.kind, d.event, d.delivered);
        if (!d.delivered) log.warn(`${what} (${d.kind}) not delivered: ${d.error}`, { target: d.target });
      }
      return { deliveries };
    },
  };
}
