import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JobTracker } from './job-tracker.ts';

/** One row of queue depth: how many jobs of a lane are in a state ("image"/"waiting"). */
export interface QueueDepth {
  lane: string;
  state: string;
  count: number;
}

/** Read at every scrape, so the gauge is never stale and nothing polls the queue between scrapes. */
export type QueueDepthSource = () => readonly QueueDepth[] | Promise<readonly QueueDepth[]>;

/** What a worker declared it can run, exported as labels so dashboards can group the fleet. */
export interface WorkerInfo {
  /** Undefined: every task with a working specialist. */
  tasks?: readonly string[];
  executionProvider: string;
  concurrency: number;
  /** 0 when not declared. */
  memoryBudgetMb: number;
}

export interface MetricsResponse {
  contentType: string;
  body: string;
}

export interface MetricsOptions {
  /** prom-client's process and Node.js metrics (CPU, memory, event loop lag, GC); on by default. */
  defaultMetrics?: boolean;
  /** Milliseconds from a monotonic clock, for job durations. */
  now?: () => number;
}

/** 50 ms (a cached cut-out) to 10 min (the default job timeout): the range jobs really take. */
export const JOB_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * The process's Prometheus metrics, in a registry of its own: tests and several processes' worth of
 * instances never collide in prom-client's global registry.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Feeds job durations and outcomes; queue observers and the BullMQ worker call it. */
  readonly jobs: JobTracker;
  private readonly depthSources = new Set<QueueDepthSource>();
  private readonly queueDepth: Gauge<'lane' | 'state'>;
  private readonly depthErrors: Counter;
  private readonly workerInfo: Gauge<'tasks' | 'execution_provider' | 'concurrency' | 'memory_budget_mb'>;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });

    this.depthErrors = new Counter({
      name: 'vitron_queue_depth_errors_total',
      help: 'Queue depth reads that failed at scrape time (their rows are missing from vitron_queue_jobs).',
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'vitron_queue_jobs',
      help: 'Jobs in the queue by lane and state, read at scrape time.',
      labelNames: ['lane', 'state'] as const,
      registers,
    });

    const duration = new Histogram({
      name: 'vitron_job_duration_seconds',
      help: 'Time from a job attempt starting to the job succeeding or failing, per task.',
      labelNames: ['task'] as const,
      buckets: JOB_DURATION_BUCKETS,
      registers,
    });
    const outcomes = new Counter({
      name: 'vitron_job_outcomes_total',
      help: 'Job ends per task: succeeded, failed, cancelled; and retried attempts.',
      labelNames: ['task', 'outcome'] as const,
      registers,
    });
    const failures = new Counter({
      name: 'vitron_job_failures_total',
      help: 'Failed jobs per task and error code.',
      labelNames: ['task', 'code'] as const,
      registers,
    });
    const jobs = new JobTracker({ duration, outcomes, failures }, options.now ?? (() => performance.now()));
    this.jobs = jobs;
    new Gauge({
      name: 'vitron_jobs_running',
      help: 'Job attempts running now, per task.',
      labelNames: ['task'] as const,
      registers,
      collect() {
        this.reset();
        for (const [task, count] of jobs.runningByTask()) this.set({ task }, count);
      },
    });

    this.workerInfo = new Gauge({
      name: 'vitron_worker_info',
      help: 'What this worker declared it can run (always 1; the labels carry the information).',
      labelNames: ['tasks', 'execution_provider', 'concurrency', 'memory_budget_mb'] as const,
      registers,
    });
  }

  /** Adds a source of queue depth rows; returns a function that removes it. */
  addQueueDepthSource(source: QueueDepthSource): () => void {
    this.depthSources.add(source);
    return () => this.depthSources.delete(source);
  }

  setWorkerInfo(info: WorkerInfo): void {
    this.workerInfo.reset();
    this.workerInfo.set(
      {
        tasks: info.tasks === undefined ? 'all' : [...info.tasks].sort().join(','),
        execution_provider: info.executionProvider,
        concurrency: String(info.concurrency),
        memory_budget_mb: String(info.memoryBudgetMb),
      },
      1,
    );
  }

  /** The exposition text and its content type, for any HTTP server to send as is. Reads queue depth first. */
  async scrape(): Promise<MetricsResponse> {
    await this.readQueueDepth();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * Here rather than in a gauge's collect callback: the error counter must reflect this scrape's reads, and
   * prom-client gives no order between two metrics' collection.
   */
  private async readQueueDepth(): Promise<void> {
    const results = await Promise.allSettled([...this.depthSources].map(async (source) => source()));
    this.queueDepth.reset();
    for (const result of results) {
      // A queue that cannot answer (Redis restarting) must not take the process metrics down with it.
      if (result.status === 'rejected') this.depthErrors.inc();
      else for (const row of result.value) this.queueDepth.set({ lane: row.lane, state: row.state }, row.count);
    }
  }
}
