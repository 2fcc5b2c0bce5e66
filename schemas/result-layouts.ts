// Fixed layouts (schemas/flat-writer.ts) of the result tables of schemas/oms.fbs: what the core emits
// (core/events.ts) and what the gateway sends each client (schemas/results.ts, gateway/protocol.ts).

import { TableLayout } from './flat-writer.js';

// Field indices are the declaration order in schemas/oms.fbs; test/flat-writer.test.ts reads every table
// back through the generated accessors, so a schema edit that moves a field fails there.
export const ER = {
  orderId: 0, clOrdId: 1, origClOrdId: 2, execId: 3, execType: 4, ordStatus: 5, accountId: 6, instrumentId: 7,
  side: 8, ordType: 9, timeInForce: 10, orderQty: 11, price: 12, stopPx: 13, lastQty: 14, lastPx: 15, cumQty: 16,
  leavesQty: 17, avgPx: 18, ordRejReason: 19, text: 20, parentOrderId: 21, venueId: 22, workflowState: 23,
  transactTimeUs: 24, venueExecId: 25,
} as const;
export const EXECUTION_REPORT = new TableLayout('ExecutionReport', 26, [
  ...[ER.orderId, ER.orderQty, ER.price, ER.stopPx, ER.lastQty, ER.lastPx, ER.cumQty, ER.leavesQty, ER.avgPx,
    ER.parentOrderId, ER.transactTimeUs].map((index) => ({ index, width: 8 as const })),
  ...[ER.clOrdId, ER.execId, ER.accountId, ER.instrumentId, ER.venueId].map((index) => ({ index, width: 4 as const })),
  ...[ER.origClOrdId, ER.text, ER.venueExecId].map((index) => ({ index, width: 4 as const, optional: true })),
  { index: ER.ordRejReason, width: 2 },
  ...[ER.execType, ER.ordStatus, ER.side, ER.ordType, ER.timeInForce, ER.workflowState].map((index) => ({ index, width: 1 as const })),
]);
export const ER_ORIG = EXECUTION_REPORT.bit(ER.origClOrdId);
export const ER_TEXT = EXECUTION_REPORT.bit(ER.text);
export const ER_VENUE_EXEC = EXECUTION_REPORT.bit(ER.venueExecId);

export const OCR = {
  orderId: 0, clOrdId: 1, origClOrdId: 2, ordStatus: 3, responseTo: 4, reason: 5, rejectCode: 6, text: 7,
  transactTimeUs: 8,
} as const;
export const ORDER_CANCEL_REJECT = new TableLayout('OrderCancelReject', 9, [
  { index: OCR.orderId, width: 8 }, { index: OCR.transactTimeUs, width: 8 },
  { index: OCR.clOrdId, width: 4 }, { index: OCR.origClOrdId, width: 4 }, { index: OCR.text, width: 4 },
  { index: OCR.rejectCode, width: 2 },
  { index: OCR.ordStatus, width: 1 }, { index: OCR.responseTo, width: 1 }, { index: OCR.reason, width: 1 },
]);

export const COMMAND_REJECT = new TableLayout('CommandReject', 2, [{ index: 0, width: 2 }, { index: 1, width: 4 }]);
export const COMMAND_ACCEPTED = new TableLayout('CommandAccepted', 1, [{ index: 0, width: 1 }]);

export const VR = {
  kind: 0, venueId: 1, orderId: 2, clOrdId: 3, origClOrdId: 4, accountId: 5, instrumentId: 6, side: 7,
  ordType: 8, timeInForce: 9, orderQty: 10, price: 11, stopPx: 12, expireTimeUs: 13,
} as const;
export const VENUE_REQUEST = new TableLayout('VenueRequest', 14, [
  ...[VR.orderId, VR.orderQty, VR.price, VR.stopPx, VR.expireTimeUs].map((index) => ({ index, width: 8 as const })),
  ...[VR.venueId, VR.clOrdId, VR.accountId, VR.instrumentId].map((index) => ({ index, width: 4 as const })),
  { index: VR.origClOrdId, width: 4, optional: true },
  ...[VR.kind, VR.side, VR.ordType, VR.timeInForce].map((index) => ({ index, width: 1 as const })),
]);
export const VR_ORIG = VENUE_REQUEST.bit(VR.origClOrdId);

export const CR = { seq: 0, requestId: 1, userId: 2, sessionId: 3, eventsType: 4, events: 5 } as const;
export const COMMAND_RESULT = new TableLayout('CommandResult', 6, [
  { index: CR.seq, width: 8 }, { index: CR.requestId, width: 8 },
  { index: CR.userId, width: 4 }, { index: CR.sessionId, width: 4 }, { index: CR.eventsType, width: 4 },
  { index: CR.events, width: 4 },
]);
export const RESULT_BATCH = new TableLayout('ResultBatch', 1, [{ index: 0, width: 4 }]);

