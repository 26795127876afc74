/** report.json: the evidence model as JSON, checked against its schema (schemas/evidence-report.schema.json). */
import { evidenceReportSchema, type EvidenceReport } from './schema';

/**
 * Renders report.json.
 * @throws ZodError when the report does not match its published schema (a bug in the model builder).
 */
export function renderJson(report: EvidenceReport): string {
  return `${JSON.stringify(evidenceReportSchema.parse(report), null, 2)}\n`;
}
