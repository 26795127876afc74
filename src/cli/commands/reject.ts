/** `geofailover reject G|WORKFLOW_ID --key FILE [--comment TEXT] [--json]` */
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { registerDecision } from './decide';

export function registerReject(program: Command, ctx: CliContext): void {
  registerDecision(program, ctx, 'reject');
}
