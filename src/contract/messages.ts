import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AbortPayload,
  ApprovalPayload,
  DecidePayload,
  EndRehearsalPayload,
  InterventionPayload,
  RegionRecoveredPayload,
  RunbookStatus,
  UnlinkNowPayload,
} from './types';

export const approveSignal = defineSignal<[ApprovalPayload]>('approve');
export const rejectSignal = defineSignal<[ApprovalPayload]>('reject');
export const regionRecoveredSignal = defineSignal<[RegionRecoveredPayload]>('regionRecovered');
export const unlinkNowSignal = defineSignal<[UnlinkNowPayload]>('unlinkNow');
export const abortSignal = defineSignal<[AbortPayload]>('abort');
export const endRehearsalSignal = defineSignal<[EndRehearsalPayload]>('endRehearsal');
export const interveneSignal = defineSignal<[InterventionPayload]>('intervene');

export interface DecideResult {
  accepted: boolean;
  /** why it was refused (set when accepted is false) */
  reason?: string;
  /** what the accepted decision did, e.g. "approval 1 of 2 recorded at approval-unlink" */
  detail?: string;
}
export const decideUpdate = defineUpdate<DecideResult, [DecidePayload]>('decide');

export const statusQuery = defineQuery<RunbookStatus>('status');
