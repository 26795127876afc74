/**
 * The Prometheus side of the SDK Runtime, for any process that installs its own Runtime (the worker, the drill):
 * the exporter's settings with the runbook's histogram buckets, and a scrape of what it serves (the drill keeps one
 * in its evidence).
 */
import type { MetricsExporterConfig } from '@temporalio/worker';

/** Buckets in seconds for the runbook's histograms (the SDK's defaults are milliseconds). */
export const RUNBOOK_HISTOGRAM_BUCKETS: Record<string, number[]> = {
  geofailover_rto_seconds: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
  geofailover_gate_wait_seconds: [1, 10, 30, 60, 300, 600, 1800, 3600, 7200, 14_400, 43_200],
};

/** `telemetryOptions.metrics` serving Prometheus at `host:port/metrics`. */
export function prometheusMetrics(host: string, port: number): MetricsExporterConfig {
  return { prometheus: { bindAddress: `${host}:${port}`, histogramBucketOverrides: RUNBOOK_HISTOGRAM_BUCKETS } };
}

/**
 * What `host:port/metrics` serves, once it shows the runbook's metrics (the SDK exports what workflows recorded
 * on its next collection) or `timeoutMs` has passed.
 * @throws when nothing answers
 */
export async function scrapeMetrics(host: string, port: number, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await (
      await fetch(`http://${host}:${port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })
    ).text();
    if (text.includes('geofailover_') || Date.now() >= deadline) return text;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
