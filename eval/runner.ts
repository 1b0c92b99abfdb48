/**
 * Runs eval sections, prints them as one table, and stores the comparisons model choice reads
 * (DATA_DIR/eval/quality.json, this machine's entry). Split from eval/run.ts so that a test can run it.
 */
import { storeMeasuredQuality, type MeasuredComparison } from '../src/vision/models/measured-quality.ts';
import { formatRow, type EvalReport, type EvalSection } from './table.ts';

export interface EvalOutcome {
  reports: EvalReport[];
  failed: string[];
  /** Where the comparisons were stored; undefined when no section measured one. */
  storedIn?: string;
}

export async function runEval(sections: readonly EvalSection[], dataDir: string, print: (line: string) => void): Promise<EvalOutcome> {
  const reports: EvalReport[] = [];
  const failed: string[] = [];
  const comparisons: Record<string, MeasuredComparison> = {};
  for (const section of sections) {
    try {
      const report = await section.run();
      reports.push(report);
      print(`\n== ${report.title} ==`);
      for (const row of report.rows) print(formatRow(row));
      for (const note of report.notes) print(`  ${note}`);
      Object.assign(comparisons, report.comparisons);
    } catch (error) {
      failed.push(section.name);
      print(`\n== ${section.name} ==\n  failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  if (Object.keys(comparisons).length === 0) return { reports, failed };
  const storedIn = storeMeasuredQuality(dataDir, comparisons);
  print(`\nStored ${Object.keys(comparisons).join(', ')} for model choice on this machine in ${storedIn} (npm run models -- list shows them).`);
  return { reports, failed, storedIn };
}
