import { Context, log } from '@temporalio/activity';
import type { NotificationActivities } from './types';

export interface NotificationDependencies {
  /** how long the webhook may take to answer; default 10 s */
  webhookTimeoutMs?: number;
}

const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

/** The URL without credentials, query or fragment (those may carry a token): fit for logs and results. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

function reason(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return err.message ?? 'timed out';
  const cause = err?.cause?.code ?? err?.cause?.message;
  return `${err?.message ?? String(e)}${cause ? ` (${cause})` : ''}`;
}

/**
 * Escalation of a gate that timed out: one JSON POST to the configured webhook. An escalation must never stop
 * the runbook, so a webhook that is missing, unreachable, slow or failing yields `delivered: false` (logged),
 * never an error.
 */
export function createNotificationActivities(deps: NotificationDependencies = {}): NotificationActivities {
  const timeoutMs = deps.webhookTimeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  return {
    async notifyEscalation({ webhook, body }) {
      if (!webhook) {
        log.warn('escalation (no webhook configured)', { escalation: body });
        return { delivered: false };
      }
      const target = redact(webhook);
      const signal = AbortSignal.any([Context.current().cancellationSignal, AbortSignal.timeout(timeoutMs)]);
      try {
        const res = await fetch(webhook, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'geofailover' },
          body: JSON.stringify(body),
          signal,
        });
        // The answer's body is of no interest; read it so the connection is released.
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) {
          const error = `webhook ${target} answered HTTP ${res.status}`;
          log.warn(`escalation not delivered: ${error}`, { escalation: body });
          return { delivered: false, statusCode: res.status, error };
        }
        log.info(`escalation delivered to ${target}`, { statusCode: res.status });
        return { delivered: true, statusCode: res.status };
      } catch (e) {
        if (Context.current().cancellationSignal.aborted) throw e;
        const error = `webhook ${target}: ${reason(e)}`;
        log.warn(`escalation not delivered: ${error}`, { escalation: body });
        return { delivered: false, error };
      }
    },
  };
}
