import type { Metrics, MetricsResponse } from './metrics.ts';

/**
 * A framework-free handler for GET /metrics, so an adapter mounts it without `src/` importing any HTTP
 * framework: the adapter sets the content type and sends the body.
 */
export function metricsRoute(metrics: Metrics): () => Promise<MetricsResponse> {
  return () => metrics.scrape();
}
