/**
 * WORKER_MEMORY_BUDGET_MB as admission control: a worker whose process (its inference threads included)
 * is over budget takes no further job while one of its jobs is still running, and hands the job back for
 * a worker with room. When nothing runs here, waiting would free nothing, so the job runs anyway and the
 * operator is told the models alone exceed the budget.
 */
export interface MemoryBudgetVerdict {
  admit: boolean;
  rssMb: number;
  /** True when the worker is over budget with nothing running: the budget is too small for its models. */
  overWhileIdle: boolean;
}

export class MemoryBudget {
  constructor(
    /** 0 = no budget. */
    private readonly budgetMb: number,
    private readonly rssBytes: () => number = () => process.memoryUsage.rss(),
  ) {}

  get enabled(): boolean {
    return this.budgetMb > 0;
  }

  check(runningHere: number): MemoryBudgetVerdict {
    const rssMb = Math.round(this.rssBytes() / (1024 * 1024));
    if (!this.enabled || rssMb <= this.budgetMb) return { admit: true, rssMb, overWhileIdle: false };
    return runningHere > 0 ? { admit: false, rssMb, overWhileIdle: false } : { admit: true, rssMb, overWhileIdle: true };
  }
}
