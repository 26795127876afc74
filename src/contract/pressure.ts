// Memory pressure grades: how the runbook grades a survivor's memory use (the unlink trigger, the gate's evidence)
// and how the evidence report grades it afterwards, one rule for both. Pure: safe in workflow code.
import type { PressureGrade } from './activities';
import type { GroupDefinition } from './runbook';

const GRADE_ORDER: readonly PressureGrade[] = ['ok', 'elevated', 'critical'];

/** Grade of one survivor's memory use (percent of max) by the group's thresholds; both bounds inclusive. */
export function gradePressure(percent: number, thresholds: GroupDefinition['memoryThresholds']): PressureGrade {
  if (percent >= thresholds.criticalPercent) return 'critical';
  if (percent >= thresholds.elevatedPercent) return 'elevated';
  return 'ok';
}

/** The worst grade among survivors; undefined when none could be read. */
export function worstGrade(grades: readonly PressureGrade[]): PressureGrade | undefined {
  let worst: PressureGrade | undefined;
  for (const grade of grades) {
    if (worst === undefined || GRADE_ORDER.indexOf(grade) > GRADE_ORDER.indexOf(worst)) worst = grade;
  }
  return worst;
}
