// Commands and events as readable JSON: enum fields by name, everything else as is. For the audit trail,
// exports and the CLI; the numbers stay the exact scaled integers (no float conversion anywhere).

import {
  AssetClass, Command, CxlRejReason, CxlRejResponseTo, ExecType, KillScope, LimitScope, OrdStatus, OrdType,
  PutCall, RejectCode, Role, Side, TickKind, TimeInForce, VenueRequestKind, WorkflowState,
} from './generated/oms_generated.js';
import type { CommandBody } from './commands.js';
import type { EventData } from './results.js';

const ENUM_FIELDS: Record<string, Record<number, string>> = {
  type: Command as unknown as Record<number, string>,
  side: Side as unknown as Record<number, string>,
  ordType: OrdType as unknown as Record<number, string>,
  timeInForce: TimeInForce as unknown as Record<number, string>,
  execType: ExecType as unknown as Record<number, string>,
  ordStatus: OrdStatus as unknown as Record<number, string>,
  assetClass: AssetClass as unknown as Record<number, string>,
  putCall: PutCall as unknown as Record<number, string>,
  role: Role as unknown as Record<number, string>,
  scope: LimitScope as unknown as Record<number, string>,
  kind: TickKind as unknown as Record<number, string>,
  cxlRejResponseTo: CxlRejResponseTo as unknown as Record<number, string>,
  cxlRejReason: CxlRejReason as unknown as Record<number, string>,
  ordRejReason: RejectCode as unknown as Record<number, string>,
  rejectCode: RejectCode as unknown as Record<number, string>,
  requestKind: VenueRequestKind as unknown as Record<number, string>,
  workflowState: WorkflowState as unknown as Record<number, string>,
};

function named(source: object, overrides: Record<string, Record<number, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    const names = overrides[key] ?? ENUM_FIELDS[key];
    out[key] = names !== undefined && typeof value === 'number' ? (names[value] ?? value) : value;
  }
  return out;
}

export function describeCommand(body: CommandBody): Record<string, unknown> {
  // KillSwitch and SetLimits share the field name "scope" with different enums.
  const overrides: Record<string, Record<number, string>> =
    body.type === Command.KillSwitch ? { scope: KillScope as unknown as Record<number, string> } : {};
  return named(body, overrides);
}

export function describeEvent(event: EventData): Record<string, unknown> {
  return named(event, {});
}
