// venue/fix-mapping.ts against a real core state: demo reference data plus a second venue (the FIX one), orders
// placed through the core, so that every VenueRequest mapped outbound is one the core really emitted and every
// inbound mapping names orders the core really holds. Inbound messages are fakes of jspurefix's MsgView: only
// getString(tag), backed by a Map of the text on the wire. Where a mapped command is fed back into the core,
// it is to show that the core accepts it and does what the venue said.

import { beforeEach, describe, expect, it } from 'vitest';
import {
  Command, CxlRejReason, CxlRejResponseTo, ExecType, OrdStatus, OrdType, PutCall, RejectCode, Side, TimeInForce, VenueRequestKind,
} from '../schemas/generated/oms_generated.js';
import type { NewOrderCmd, VenueCancelRejectCmd, VenueExecReportCmd } from '../schemas/commands.js';
import type { CommandResultData, ExecutionReportData, VenueRequestData } from '../schemas/results.js';
import { DEMO } from '../core/demo.js';
import type { Order } from '../core/model.js';
import type { FixFields, Inbound, SentRequest } from '../venue/fix-mapping.js';
import {
  execKey, findOrder, fromExecutionReport, fromOrderCancelReject, fromRequestReject, instrumentBlock, MSG_TYPE, outboundFor,
  statusRequestFor, TAG, unsentAnswer,
} from '../venue/fix-mapping.js';
import { CoreHarness, T0_US } from './support/core-harness.js';

/** The FIX venue of these tests; the demo's simulated venue (1) also exists, to tell venues apart. */
const VENUE = 2;
const I = DEMO.instruments;
const NOW = new Date(Date.UTC(2026, 5, 1, 14, 30, 0, 123));
const NO_REJ_REASON = 0xffff;

/** An inbound FIX message as the adapter reads it: text per tag, null when absent. */
function fix(values: Record<number, string>): FixFields & { readonly map: Map<number, string> } {
  const map = new Map<number, string>(Object.entries(values).map(([tag, value]) => [Number(tag), value]));
  return { map, getString: (tag: number) => map.get(tag) ?? null };
}

let h: CoreHarness;

beforeEach(() => {
  h = CoreHarness.withDemoData();
  const defined = h.send(0, { type: Command.DefineVenue, venueId: VENUE, name: 'EXEC' });
  expect(defined.events.map((e) => e.kind)).toEqual(['accepted']);
});

function venueRequests(result: CommandResultData): VenueRequestData[] {
  return result.events.filter((e): e is VenueRequestData => e.kind === 'venue_request');
}

function reports(result: CommandResultData): ExecutionReportData[] {
  return CoreHarness.reports(result);
}

/** Places an order through the core at VENUE (unless told otherwise) and returns its one venue request. */
function place(partial: Partial<NewOrderCmd> & { clOrdId: string }): VenueRequestData {
  const result = h.newOrder({ venueId: VENUE, ...partial });
  const requests = venueRequests(result);
  expect(requests, JSON.stringify(result.events)).toHaveLength(1);
  return requests[0];
}

function order(clOrdId: string): Order {
  const found = h.core.state.ordersByClOrdId.get(clOrdId);
  if (found === undefined) throw new Error(`no order ${clOrdId}`);
  return found;
}

function instrument(instrumentId: number) {
  const found = h.core.state.instruments.get(instrumentId);
  if (found === undefined) throw new Error(`no instrument ${instrumentId}`);
  return found;
}

/** The venue's acknowledgement, through the core: the order goes from PendingNew to New. */
function ack(clOrdId: string): void {
  const result = h.venue(clOrdId, ExecType.New, { venueId: VENUE, ordStatus: OrdStatus.New });
  expect(reports(result).map((r) => r.ordStatus)).toEqual([OrdStatus.New]);
}

function command(inbound: Inbound): VenueExecReportCmd | VenueCancelRejectCmd {
  if (inbound.kind !== 'command') throw new Error(`expected a command, got ${JSON.stringify(inbound)}`);
  return inbound.command;
}

function execReport(inbound: Inbound): VenueExecReportCmd {
  const c = command(inbound);
  if (c.type !== Command.VenueExecReport) throw new Error(`expected a VenueExecReport, got ${JSON.stringify(c)}`);
  return c;
}

function cancelReject(inbound: Inbound): VenueCancelRejectCmd {
  const c = command(inbound);
  if (c.type !== Command.VenueCancelReject) throw new Error(`expected a VenueCancelReject, got ${JSON.stringify(c)}`);
  return c;
}

/** Feeds a mapped command into the core as the venue user. */
function submit(c: VenueExecReportCmd | VenueCancelRejectCmd): CommandResultData {
  return h.send(DEMO.users.venue, c);
}

// ---- outbound ----------------------------------------------------------------------------------------------

describe('outboundFor: NewOrderSingle', () => {
  it('a limit order: FIX chars for Side/OrdType/TimeInForce, Price and OrderQty exact at the instrument precision', () => {
    const request = place({ clOrdId: 'L1', side: Side.Buy, ordType: OrdType.Limit, timeInForce: TimeInForce.Day, orderQty: 100, price: 19_005 });
    expect(request).toMatchObject({ requestKind: VenueRequestKind.New, venueId: VENUE, clOrdId: 'L1', origClOrdId: '' });
    const message = outboundFor(request, instrument(I.AAPL), 'GROWTH', NOW);
    expect(message.msgType).toBe('D');
    expect(message.body).toStrictEqual({
      ClOrdID: 'L1', Account: 'GROWTH', Instrument: { Symbol: 'AAPL', SecurityType: 'CS' }, TransactTime: NOW, Currency: 'USD',
      Side: '1', OrderQtyData: { OrderQty: '100' }, OrdType: '2', TimeInForce: '0', Price: '190.05',
    });
  });

  it('a digital asset: 0.001 BTC at 95000.00 written from satoshis and cents, no SecurityType in FIX 4.4', () => {
    const request = place({
      clOrdId: 'BTC1', instrumentId: I.BTCUSD, side: Side.Sell, orderQty: 100_000, price: 9_500_000, timeInForce: TimeInForce.GTC,
    });
    const message = outboundFor(request, instrument(I.BTCUSD), 'GROWTH', NOW);
    expect(message.body).toStrictEqual({
      ClOrdID: 'BTC1', Account: 'GROWTH', Instrument: { Symbol: 'BTC/USD' }, TransactTime: NOW, Currency: 'USD',
      Side: '2', OrderQtyData: { OrderQty: '0.00100000' }, OrdType: '2', TimeInForce: '1', Price: '95000.00',
    });
  });

  it('FX spot: five price decimals and cent quantities, SecurityType FOR', () => {
    const request = place({ clOrdId: 'FX1', instrumentId: I.EURUSD, orderQty: 100_000, price: 108_005 });
    const body = outboundFor(request, instrument(I.EURUSD), 'GROWTH', NOW).body;
    expect(body).toMatchObject({ Instrument: { Symbol: 'EUR/USD', SecurityType: 'FOR' }, OrderQtyData: { OrderQty: '1000.00' }, Price: '1.08005' });
  });

  it('a zero-decimal instrument has no decimal point', () => {
    const request = place({ clOrdId: 'JP1', instrumentId: I.TOYOTA, orderQty: 300, price: 2_810 });
    const body = outboundFor(request, instrument(I.TOYOTA), 'GROWTH', NOW).body;
    expect(body).toMatchObject({ Currency: 'JPY', OrderQtyData: { OrderQty: '300' }, Price: '2810' });
  });

  it('a market order carries neither Price nor StopPx', () => {
    const request = place({ clOrdId: 'M1', side: Side.SellShort, ordType: OrdType.Market, timeInForce: TimeInForce.IOC, orderQty: 50, price: 0 });
    const body = outboundFor(request, instrument(I.AAPL), 'GROWTH', NOW).body;
    expect(body).toMatchObject({ Side: '5', OrdType: '1', TimeInForce: '3', OrderQtyData: { OrderQty: '50' } });
    expect(body).not.toHaveProperty('Price');
    expect(body).not.toHaveProperty('StopPx');
    expect(body).not.toHaveProperty('ExpireTime');
  });

  it('a stop order carries StopPx and no Price; a stop limit carries both', () => {
    const stop = place({ clOrdId: 'S1', side: Side.Sell, ordType: OrdType.Stop, timeInForce: TimeInForce.GTC, orderQty: 10, price: 0, stopPx: 18_500 });
    const stopBody = outboundFor(stop, instrument(I.AAPL), 'GROWTH', NOW).body;
    expect(stopBody).toMatchObject({ Side: '2', OrdType: '3', TimeInForce: '1', StopPx: '185.00' });
    expect(stopBody).not.toHaveProperty('Price');

    const stopLimit = place({ clOrdId: 'SL1', side: Side.Sell, ordType: OrdType.StopLimit, timeInForce: TimeInForce.FOK, orderQty: 10, price: 18_450, stopPx: 18_500 });
    expect(outboundFor(stopLimit, instrument(I.AAPL), 'GROWTH', NOW).body).toMatchObject({ OrdType: '4', TimeInForce: '4', Price: '184.50', StopPx: '185.00' });
  });

  it('a GTD order carries ExpireTime as a Date at millisecond resolution (microseconds truncated)', () => {
    const expireTimeUs = T0_US + 3_600_000_999; // one hour and 999 µs after the harness clock
    const request = place({ clOrdId: 'G1', timeInForce: TimeInForce.GTD, expireTimeUs });
    const body = outboundFor(request, instrument(I.AAPL), 'GROWTH', NOW).body;
    expect(body.TimeInForce).toBe('6');
    expect(body.ExpireTime).toBeInstanceOf(Date);
    expect((body.ExpireTime as Date).getTime()).toBe(T0_US / 1000 + 3_600_000);
  });

  it('a non-GTD order has no ExpireTime', () => {
    const request = place({ clOrdId: 'D1', timeInForce: TimeInForce.Day });
    expect(outboundFor(request, instrument(I.AAPL), 'GROWTH', NOW).body).not.toHaveProperty('ExpireTime');
  });

  it('the demo future: SecurityType FUT, MaturityMonthYear and ContractMultiplier', () => {
    const request = place({ clOrdId: 'FUT1', instrumentId: I.ESZ6, orderQty: 2, price: 600_025 });
    const body = outboundFor(request, instrument(I.ESZ6), 'MACRO', NOW).body;
    expect(body).toMatchObject({ Account: 'MACRO', Price: '6000.25', OrderQtyData: { OrderQty: '2' } });
    expect(body.Instrument).toStrictEqual({ Symbol: 'ESZ6', SecurityType: 'FUT', MaturityMonthYear: '20261218', ContractMultiplier: '50' });
  });

  it('the demo option: SecurityType OPT, StrikePrice exact, PutOrCall 1 for a call and 0 for a put', () => {
    const request = place({ clOrdId: 'OPT1', instrumentId: I.AAPL_C200, orderQty: 10, price: 555 });
    const option = instrument(I.AAPL_C200);
    const body = outboundFor(request, option, 'GROWTH', NOW).body;
    expect(body).toMatchObject({ Price: '5.55', OrderQtyData: { OrderQty: '10' } });
    expect(body.Instrument).toStrictEqual({
      Symbol: 'AAPL 261218C00200000', SecurityType: 'OPT', MaturityMonthYear: '20261218', StrikePrice: '200.00', PutOrCall: 1, ContractMultiplier: '100',
    });
    expect(instrumentBlock({ ...option, putCall: PutCall.Put, strike: 19_750 })).toMatchObject({ StrikePrice: '197.50', PutOrCall: 0 });
  });

  it('an instrument that is not an option has no strike or PutOrCall', () => {
    expect(instrumentBlock(instrument(I.ESZ6))).not.toHaveProperty('StrikePrice');
    expect(instrumentBlock(instrument(I.ESZ6))).not.toHaveProperty('PutOrCall');
    expect(instrumentBlock(instrument(I.AAPL))).toStrictEqual({ Symbol: 'AAPL', SecurityType: 'CS' });
  });
});

describe('outboundFor: cancel and replace', () => {
  it('OrderCancelRequest (F): the cancel ClOrdID, the order as OrigClOrdID, Side and OrderQty, no order terms', () => {
    place({ clOrdId: 'C1', orderQty: 100, price: 19_005 });
    ack('C1');
    const result = h.send(DEMO.users.trader, { type: Command.CancelOrder, clOrdId: 'C1-X', origClOrdId: 'C1', accountId: DEMO.accounts.GROWTH });
    const [request] = venueRequests(result);
    expect(request).toMatchObject({ requestKind: VenueRequestKind.Cancel, clOrdId: 'C1-X', origClOrdId: 'C1' });
    const message = outboundFor(request, instrument(I.AAPL), 'GROWTH', NOW);
    expect(message.msgType).toBe('F');
    expect(message.body).toStrictEqual({
      ClOrdID: 'C1-X', OrigClOrdID: 'C1', Account: 'GROWTH', Instrument: { Symbol: 'AAPL', SecurityType: 'CS' }, TransactTime: NOW,
      Side: '1', OrderQtyData: { OrderQty: '100' },
    });
  });

  it('OrderCancelReplaceRequest (G): OrigClOrdID and the new terms', () => {
    place({ clOrdId: 'R1', orderQty: 100, price: 19_005 });
    ack('R1');
    const result = h.send(DEMO.users.trader, {
      type: Command.ReplaceOrder, clOrdId: 'R1-X', origClOrdId: 'R1', accountId: DEMO.accounts.GROWTH, orderQty: 150, price: 19_010,
      stopPx: 0, timeInForce: TimeInForce.Day, expireTimeUs: 0,
    });
    const [request] = venueRequests(result);
    expect(request).toMatchObject({ requestKind: VenueRequestKind.Replace, clOrdId: 'R1-X', origClOrdId: 'R1' });
    const message = outboundFor(request, instrument(I.AAPL), 'GROWTH', NOW);
    expect(message.msgType).toBe('G');
    expect(message.body).toStrictEqual({
      ClOrdID: 'R1-X', OrigClOrdID: 'R1', Account: 'GROWTH', Instrument: { Symbol: 'AAPL', SecurityType: 'CS' }, TransactTime: NOW, Currency: 'USD',
      Side: '1', OrderQtyData: { OrderQty: '150' }, OrdType: '2', TimeInForce: '0', Price: '190.10',
    });
  });

  it('a request kind without a FIX message is an invariant failure, not a silent message', () => {
    const request = place({ clOrdId: 'U1' });
    expect(() => outboundFor({ ...request, requestKind: VenueRequestKind.Unset }, instrument(I.AAPL), 'GROWTH', NOW)).toThrow(/invariant/);
  });

  it('statusRequestFor: OrderStatusRequest (H) naming the order by ClOrdID, Side and Symbol', () => {
    place({ clOrdId: 'H1', side: Side.Sell });
    expect(statusRequestFor(order('H1'), instrument(I.AAPL))).toStrictEqual({
      msgType: 'H', body: { ClOrdID: 'H1', Side: '2', Instrument: { Symbol: 'AAPL' } },
    });
  });
});

// ---- inbound: execution reports ---------------------------------------------------------------------------

describe('fromExecutionReport: fills', () => {
  it('maps a partial fill with exact decimals, and the core applies it', () => {
    place({ clOrdId: 'F1', orderQty: 100, price: 19_005 });
    ack('F1');
    const inbound = fromExecutionReport(h.core.state, VENUE, fix({
      [TAG.ClOrdID]: 'F1', [TAG.ExecID]: 'E-1', [TAG.ExecType]: 'F', [TAG.OrdStatus]: '1', [TAG.LastQty]: '40', [TAG.LastPx]: '190.05',
      [TAG.LeavesQty]: '60', [TAG.CumQty]: '40', [TAG.OrderID]: 'VORD-1', [TAG.Text]: 'partial',
    }));
    const orderId = order('F1').orderId;
    expect(inbound).toStrictEqual({
      kind: 'command',
      command: {
        type: Command.VenueExecReport, venueId: VENUE, execId: `${orderId}:E-1`, clOrdId: 'F1', origClOrdId: '', execType: ExecType.Trade,
        ordStatus: OrdStatus.PartiallyFilled, lastQty: 40, lastPx: 19_005, leavesQty: 60, ordRejReason: NO_REJ_REASON, venueOrderId: 'VORD-1', text: 'partial',
      },
    });
    const [report] = reports(submit(execReport(inbound)));
    expect(report).toMatchObject({ execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, lastQty: 40, lastPx: 19_005, cumQty: 40, leavesQty: 60 });
  });

  it('finds the order by a replace ClOrdID still pending (a fill under it may arrive before the Replaced is applied)', () => {
    place({ clOrdId: 'P1', orderQty: 100, price: 19_005 });
    ack('P1');
    h.send(DEMO.users.trader, { type: Command.ReplaceOrder, clOrdId: 'P1-R', origClOrdId: 'P1', accountId: DEMO.accounts.GROWTH, orderQty: 150, price: 19_005, stopPx: 0, timeInForce: TimeInForce.Day, expireTimeUs: 0 });
    expect(order('P1').pending?.clOrdId).toBe('P1-R');
    const inbound = fromExecutionReport(h.core.state, VENUE, fix({
      [TAG.ClOrdID]: 'P1-R', [TAG.ExecID]: 'E-P1', [TAG.ExecType]: 'F', [TAG.OrdStatus]: '1', [TAG.LastQty]: '10', [TAG.LastPx]: '190.05',
    }));
    expect(inbound).toMatchObject({ kind: 'command', command: { clOrdId: 'P1-R', execId: `${order('P1').orderId}:E-P1`, lastQty: 10 } });
    expect(fromExecutionReport(h.core.state, VENUE, fix({ [TAG.ClOrdID]: 'NO-SUCH', [TAG.ExecID]: 'E-X', [TAG.ExecType]: 'F', [TAG.OrdStatus]: '1' })))
      .toMatchObject({ kind: 'refused', reason: 'unknown_order' });
  });

  it('refuses a FIX 4.2 trade cancel or correction (ExecTransType 1/2) rather than taking it as a new fill', () => {
    place({ clOrdId: 'T42', orderQty: 100, price: 19_005 });
    for (const execTransType of ['1', '2', '3']) {
      const inbound = fromExecutionReport(h.core.state, VENUE, fix({
        [TAG.ClOrdID]: 'T42', [TAG.ExecID]: `E-${execTransType}`, [TAG.ExecType]: '2', [TAG.OrdStatus]: '2', [TAG.LastQty]: '100', [TAG.LastPx]: '190.05',
        [TAG.ExecTransType]: execTransType,
      }));
      expect(inbound).toMatchObject({ kind: 'refused', reason: 'unsupported' });
    }
    const fresh = fromExecutionReport(h.core.state, VENUE, fix({
      [TAG.ClOrdID]: 'T42', [TAG.ExecID]: 'E-0', [TAG.ExecType]: '2', [TAG.OrdStatus]: '2', [TAG.LastQty]: '100', [TAG.LastPx]: '190.05', [TAG.ExecTransType]: '0',
    }));
    expect(fresh).toMatchObject({ kind: 'command', command: { execType: ExecType.Trade } });
  });

  it('reads satoshis and cents of a digital asset exactly; trailing zeros are fine', () => {
    place({ clOrdId: 'F2', instrumentId: I.BTCUSD, orderQty: 100_000, price: 9_500_000 });
    const c = execReport(fromExecutionReport(h.core.state, VENUE, fix({
      [TAG.ClOrdID]: 'F2', [TAG.ExecID]: 'E-2', [TAG.ExecType]: 'F', [TAG.OrdStatus]: '1', [TAG.LastQty]: '0.00012345', [TAG.LastPx]: '95000.50',
      [TAG.LeavesQty]: '0.00087655', [TAG.CumQty]: '0.00012345',
    })));
    expect(c).toMatchObject({ lastQty: 12_345, lastPx: 9_500_050, leavesQty: 87_655 });
    const trailing = execReport(fromExecutionReport(h.core.state, VENUE, fix({
      [TAG.ClOrdID]: 'F2', [TAG.ExecID]: 'E-3', [TAG.ExecType]: 'F', [TAG.OrdStatus]: '1', [TAG.LastQty]: '0.000100000000', [TAG.LastPx]: '95000.5000',
    })));
    expect(trailing).toMatchObject({ lastQty: 10_000, lastPx: 9_500_050 });
  });

  it.each([
    ['LastPx with more decimals than the instrument allows', TAG.LastPx, '190.055'],
    ['LastPx with a third decimal that is not zero', TAG.LastPx, '190.001'],
    ['LastQty with a fraction of a share', TAG.LastQty, '10.5'],
    ['LastQty 1x0', TAG.LastQty, '1x0'],
    ['LastQty in exponent notation', TAG.LastQty, '1e2'],
    ['LastPx that is not a number', TAG.LastPx, 'abc'],
    ['LeavesQty that is not a number', TAG.LeavesQty, '6O'],
    ['CumQty with too many decimals', TAG.CumQty, '40.1'],
  ])('refuses %s as bad_value: never rounded, nothing reaches the core', (_what, tag, value) => {
    place({ clOrdId: 'B1', orderQty: 100, price: 19_005 });
    const fields = fix({
      [TAG.ClOrdID]: 'B1', [TAG.ExecID]: 'E-9', [TAG.ExecType]: 'F', [TAG.OrdStatus]: '1', [TAG.LastQty]: '40', [TAG.LastPx]: '190.05',
      [TAG.LeavesQty]: '60', [TAG.CumQty]: '40',
    });
    fields.map.set(tag, value);
    const inbound = fromExecutionReport(h.core.state, VENUE, fields);
    expect(inbound).toMatchObject({ kind: 'refused', reason: 'bad_value' });
    if (inbound.kind === 'refused') {
      expect(inbound.why).toContain('B1');
      expect(inbound.why).toContain(value);
    }
  });

  it('refuses a fill without LastQty or LastPx', () => {
    place({ clOrdId: 'B2' });
    for (const missing of [TAG.LastQty, TAG.LastPx]) {
      const fields = fix({ [TAG.ClOrdID]: 'B2', [TAG.ExecID]: 'E-1', [TAG.ExecType]: 'F', [TAG.OrdStatus]: '1', [TAG.LastQty]: '40', [TAG.LastPx]: '190.05' });
      fields.map.delete(missing);
      expect(fromExecutionReport(h.core.state, VENUE, fields)).toMatchObject({ kind: 'refused', reason: 'missing_field' });
      fields.map.set(missing, '');
      expect(fromExecutionReport(h.core.state, VENUE, fields)).toMatchObject({ kind: 'refused', reason: 'missing_field' });
    }
  });

  it('refuses a report without ExecID or without ClOrdID', () => {
    place({ clOrdId: 'B3' });
    const base = { [TAG.ClOrdID]: 'B3', [TAG.ExecID]: 'E-1', [TAG.ExecType]: '0', [TAG.OrdStatus]: '0' };
    const noExecId = fix(base);
    noExecId.map.delete(TAG.ExecID);
    expect(fromExecutionReport(h.core.state, VENUE, noExecId)).toMatchObject({ kind: 'refused', reason: 'missing_field' });
    expect(fromExecutionReport(h.core.state, VENUE, fix({ ...base, [TAG.ExecID]: '' }))).toMatchObject({ kind: 'refused', reason: 'missing_field' });
    const noClOrdId = fix(base);
    noClOrdId.map.delete(TAG.ClOrdID);
    expect(fromExecutionReport(h.core.state, VENUE, noClOrdId)).toMatchObject({ kind: 'refused', reason: 'missing_field' });
  });

  it('refuses an unknown ClOrdID, and an order of another venue', () => {
    place({ clOrdId: 'B4' });
    const sim = h.newOrder({ clOrdId: 'SIM1', venueId: DEMO.venues.SIM });
    expect(venueRequests(sim)).toHaveLength(1);
    const fields = (clOrdId: string) => fix({ [TAG.ClOrdID]: clOrdId, [TAG.ExecID]: 'E-1', [TAG.ExecType]: '0', [TAG.OrdStatus]: '0' });
    expect(fromExecutionReport(h.core.state, VENUE, fields('NOPE'))).toMatchObject({ kind: 'refused', reason: 'unknown_order' });
    expect(fromExecutionReport(h.core.state, VENUE, fields('SIM1'))).toMatchObject({ kind: 'refused', reason: 'unknown_order' });
    expect(fromExecutionReport(h.core.state, DEMO.venues.SIM, fields('SIM1')).kind).toBe('command');
    expect(findOrder(h.core.state, VENUE, 'SIM1', '')).toBeUndefined();
  });

  it('finds the order by OrigClOrdID when the ClOrdID is not ours (a venue echoing our cancel under its own id)', () => {
    place({ clOrdId: 'B5' });
    const c = execReport(fromExecutionReport(h.core.state, VENUE, fix({
      [TAG.ClOrdID]: 'VENUE-ID-9', [TAG.OrigClOrdID]: 'B5', [TAG.ExecID]: 'E-1', [TAG.ExecType]: '4', [TAG.OrdStatus]: '4',
    })));
    expect(c).toMatchObject({ clOrdId: 'VENUE-ID-9', origClOrdId: 'B5', execType: ExecType.Canceled, execId: `${order('B5').orderId}:E-1` });
  });

  it.each([
    ['1', OrdStatus.PartiallyFilled],
    ['2', OrdStatus.Filled],
  ])('maps FIX 4.2 ExecType %s (partial fill / fill) to Trade', (execType, ordStatus) => {
    place({ clOrdId: 'T1', orderQty: 100 });
    const c = execReport(fromExecutionReport(h.core.state, VENUE, fix({
      [TAG.ClOrdID]: 'T1', [TAG.ExecID]: 'E-1', [TAG.ExecType]: execType, [TAG.OrdStatus]: String.fromCharCode(ordStatus), [TAG.LastQty]: '100', [TAG.LastPx]: '190',
    })));
    expect(c).toMatchObject({ execType: ExecType.Trade, ordStatus, lastQty: 100, lastPx: 19_000 });
  });

  it.each([
    ['0', ExecType.New], ['4', ExecType.Canceled], ['5', ExecType.Replaced], ['8', ExecType.Rejected], ['C', ExecType.Expired],
    ['D', ExecType.Restated], ['F', ExecType.Trade], ['H', ExecType.TradeCancel],
  ])('maps FIX 4.4 ExecType %s by its character code', (raw, execType) => {
    place({ clOrdId: 'T2' });
    const c = execReport(fromExecutionReport(h.core.state, VENUE, fix({
      [TAG.ClOrdID]: 'T2', [TAG.ExecID]: 'E-1', [TAG.ExecType]: raw, [TAG.OrdStatus]: '0', [TAG.LastQty]: '1', [TAG.LastPx]: '190', [TAG.LeavesQty]: '999',
    })));
    expect(c.execType).toBe(execType);
  });

  it.each([['Z'], ['J'], ['a'], [''], ['FF'], ['\u0000']])('refuses ExecType %j as bad_value', (raw) => {
    place({ clOrdId: 'T3' });
    const inbound = fromExecutionReport(h.core.state, VENUE, fix({ [TAG.ClOrdID]: 'T3', [TAG.ExecID]: 'E-1', [TAG.ExecType]: raw, [TAG.OrdStatus]: '0' }));
    expect(inbound).toMatchObject({ kind: 'refused', reason: 'bad_value' });
  });

  it('refuses a missing ExecType, and an OrdStatus that is not FIX 4.4', () => {
    place({ clOrdId: 'T4' });
    expect(fromExecutionReport(h.core.state, VENUE, fix({ [TAG.ClOrdID]: 'T4', [TAG.ExecID]: 'E-1', [TAG.OrdStatus]: '0' })))
      .toMatchObject({ kind: 'refused', reason: 'bad_value' });
    for (const ordStatus of ['Z', '5', '']) {
      expect(fromExecutionReport(h.core.state, VENUE, fix({ [TAG.ClOrdID]: 'T4', [TAG.ExecID]: 'E-1', [TAG.ExecType]: '0', [TAG.OrdStatus]: ordStatus })))
        .toMatchObject({ kind: 'refused', reason: 'bad_value' });
    }
  });

  it('passes OrdRejReason through when numeric, else "none"; truncates Text and OrderID', () => {
    place({ clOrdId: 'T5' });
    const rejected = execReport(fromExecutionReport(h.core.state, VENUE, fix({
      [TAG.ClOrdID]: 'T5', [TAG.ExecID]: 'E-1', [TAG.ExecType]: '8', [TAG.OrdStatus]: '8', [TAG.OrdRejReason]: '11', [TAG.Text]: 'x'.repeat(500),
      [TAG.OrderID]: 'V'.repeat(100),
    })));
    expect(rejected).toMatchObject({ execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, ordRejReason: 11 });
    expect(rejected.text).toBe('x'.repeat(200));
    expect(rejected.venueOrderId).toBe('V'.repeat(64));
    for (const bad of ['abc', '12345', '-1', '']) {
      const c = execReport(fromExecutionReport(h.core.state, VENUE, fix({
        [TAG.ClOrdID]: 'T5', [TAG.ExecID]: 'E-1', [TAG.ExecType]: '8', [TAG.OrdStatus]: '8', [TAG.OrdRejReason]: bad,
      })));
      expect(c.ordRejReason).toBe(NO_REJ_REASON);
    }
    // The core applies the mapped reject of a pending order.
    expect(reports(submit(rejected))).toMatchObject([{ execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, ordRejReason: 11 }]);
  });

  // For a restatement (ExecType D) the core takes LeavesQty as the venue's new open quantity, so a missing 151
  // read as 0 would shrink the order to its CumQty and cancel it.
  it('refuses a restatement (ExecType D) without LeavesQty instead of reading it as 0', () => {
    place({ clOrdId: 'RS1', orderQty: 100 });
    ack('RS1');
    const inbound = fromExecutionReport(h.core.state, VENUE, fix({
      [TAG.ClOrdID]: 'RS1', [TAG.ExecID]: 'E-RS', [TAG.ExecType]: 'D', [TAG.OrdStatus]: '0', [TAG.CumQty]: '0', [TAG.Text]: 'venue restated',
    }));
    expect(inbound).toMatchObject({ kind: 'refused', reason: 'missing_field' });
  });

  it('a restatement with LeavesQty is mapped and resizes the order in the core', () => {
    place({ clOrdId: 'RS2', orderQty: 100 });
    ack('RS2');
    const c = execReport(fromExecutionReport(h.core.state, VENUE, fix({
      [TAG.ClOrdID]: 'RS2', [TAG.ExecID]: 'E-RS', [TAG.ExecType]: 'D', [TAG.OrdStatus]: '0', [TAG.LeavesQty]: '80', [TAG.CumQty]: '0',
    })));
    expect(c).toMatchObject({ execType: ExecType.Restated, leavesQty: 80 });
    expect(reports(submit(c))).toMatchObject([{ execType: ExecType.Restated, orderQty: 80, leavesQty: 80, ordStatus: OrdStatus.New }]);
  });
});

describe('execKey', () => {
  it('qualifies the ExecID by our order id: the same ExecID on two orders gives two keys', () => {
    place({ clOrdId: 'K1' });
    place({ clOrdId: 'K2' });
    const fields = (clOrdId: string) => fix({
      [TAG.ClOrdID]: clOrdId, [TAG.ExecID]: '1', [TAG.ExecType]: 'F', [TAG.OrdStatus]: '1', [TAG.LastQty]: '10', [TAG.LastPx]: '190',
    });
    const first = execReport(fromExecutionReport(h.core.state, VENUE, fields('K1')));
    const second = execReport(fromExecutionReport(h.core.state, VENUE, fields('K2')));
    expect(first.execId).toBe(`${order('K1').orderId}:1`);
    expect(second.execId).toBe(`${order('K2').orderId}:1`);
    expect(first.execId).not.toBe(second.execId);
    // A restarted venue counter no longer collides in the core, while a resent duplicate still does.
    expect(reports(submit(first))).toHaveLength(1);
    expect(reports(submit(second))).toHaveLength(1);
    const again = submit(execReport(fromExecutionReport(h.core.state, VENUE, fields('K1'))));
    expect(again.events).toMatchObject([{ kind: 'command_reject', rejectCode: RejectCode.DuplicateExecId }]);
  });

  it('keeps a key of exactly 64 characters and hashes a longer one to at most 64, deterministically', () => {
    const at64 = 'e'.repeat(64 - '42:'.length);
    expect(execKey(42, at64)).toBe(`42:${at64}`);
    const long = `${at64}x`;
    const hashed = execKey(42, long);
    expect(hashed).toMatch(/^42:h[0-9a-f]{40}$/);
    expect(hashed.length).toBeLessThanOrEqual(64);
    expect(execKey(42, long)).toBe(hashed);
    expect(execKey(42, `${at64}y`)).not.toBe(hashed); // same 64-character prefix, different key
    expect(execKey(43, long)).not.toBe(hashed);
    const huge = execKey(4_294_967_295_000, 'z'.repeat(10_000));
    expect(huge.length).toBeLessThanOrEqual(64);
  });

  it('an overlong ExecID from the wire becomes a hashed key the core accepts', () => {
    place({ clOrdId: 'K3', orderQty: 100 });
    const c = execReport(fromExecutionReport(h.core.state, VENUE, fix({
      [TAG.ClOrdID]: 'K3', [TAG.ExecID]: 'X'.repeat(300), [TAG.ExecType]: 'F', [TAG.OrdStatus]: '1', [TAG.LastQty]: '10', [TAG.LastPx]: '190',
    })));
    expect(c.execId).toBe(execKey(order('K3').orderId, 'X'.repeat(300)));
    expect(c.execId.length).toBeLessThanOrEqual(64);
    expect(reports(submit(c))).toMatchObject([{ execType: ExecType.Trade, cumQty: 10 }]);
  });
});

describe('fromExecutionReport: order status answers (ExecType I)', () => {
  const status = (clOrdId: string, ordStatus: string, cumQty: string, extra: Record<number, string> = {}) => fix({
    [TAG.ClOrdID]: clOrdId, [TAG.ExecID]: 'ST-1', [TAG.ExecType]: 'I', [TAG.OrdStatus]: ordStatus, [TAG.CumQty]: cumQty, [TAG.LeavesQty]: '100',
    [TAG.OrderID]: 'VORD-7', ...extra,
  });

  it('PendingNew + OrdStatus 0: an acknowledgement, which the core applies', () => {
    place({ clOrdId: 'Q1', orderQty: 100 });
    expect(order('Q1').baseStatus).toBe(OrdStatus.PendingNew);
    const inbound = fromExecutionReport(h.core.state, VENUE, status('Q1', '0', '0', { [TAG.Text]: 'alive' }));
    expect(inbound).toStrictEqual({
      kind: 'command',
      command: {
        type: Command.VenueExecReport, venueId: VENUE, execId: execKey(order('Q1').orderId, 'status-0-0-ST-1'), clOrdId: 'Q1', origClOrdId: '',
        execType: ExecType.New, ordStatus: OrdStatus.New, lastQty: 0, lastPx: 0, leavesQty: 0, ordRejReason: NO_REJ_REASON, venueOrderId: 'VORD-7',
        text: 'order status: alive',
      },
    });
    expect(reports(submit(execReport(inbound)))).toMatchObject([{ execType: ExecType.New, ordStatus: OrdStatus.New }]);
    expect(order('Q1').baseStatus).toBe(OrdStatus.New);
  });

  it('PendingNew + OrdStatus 8: a Rejected command with the venue reason, else UnknownOrder', () => {
    place({ clOrdId: 'Q2' });
    const noReason = execReport(fromExecutionReport(h.core.state, VENUE, status('Q2', '8', '0')));
    expect(noReason).toMatchObject({ execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, ordRejReason: RejectCode.UnknownOrder });
    const withReason = execReport(fromExecutionReport(h.core.state, VENUE, status('Q2', '8', '0', { [TAG.OrdRejReason]: '2' })));
    expect(withReason.ordRejReason).toBe(RejectCode.ExchangeClosed);
    expect(reports(submit(noReason))).toMatchObject([{ execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected }]);
  });

  it('a venue CumQty ahead of ours is refused as status_mismatch (the fills come by resend)', () => {
    place({ clOrdId: 'Q3', orderQty: 100 });
    ack('Q3');
    expect(fromExecutionReport(h.core.state, VENUE, status('Q3', '1', '30'))).toMatchObject({ kind: 'refused', reason: 'status_mismatch' });
    // Also while still PendingNew: an ack would hide fills we have not seen.
    place({ clOrdId: 'Q3b', orderQty: 100 });
    expect(fromExecutionReport(h.core.state, VENUE, status('Q3b', '2', '100'))).toMatchObject({ kind: 'refused', reason: 'status_mismatch' });
    // Once the fill is in, the same answer agrees.
    submit(execReport(fromExecutionReport(h.core.state, VENUE, fix({
      [TAG.ClOrdID]: 'Q3', [TAG.ExecID]: 'E-1', [TAG.ExecType]: 'F', [TAG.OrdStatus]: '1', [TAG.LastQty]: '30', [TAG.LastPx]: '190',
    }))));
    expect(order('Q3').cumQty).toBe(30);
    expect(fromExecutionReport(h.core.state, VENUE, status('Q3', '1', '30')).kind).toBe('ignored');
  });

  it('a status that agrees with ours is ignored', () => {
    place({ clOrdId: 'Q4' });
    ack('Q4');
    expect(fromExecutionReport(h.core.state, VENUE, status('Q4', '0', '0'))).toMatchObject({ kind: 'ignored', why: 'status agrees' });
    expect(fromExecutionReport(h.core.state, VENUE, status('Q4', 'A', '0')).kind).toBe('ignored'); // PendingNew changes nothing
  });

  it('Rejected for an order the venue had accepted is a mismatch; Canceled ends a working order', () => {
    place({ clOrdId: 'Q5' });
    ack('Q5');
    expect(fromExecutionReport(h.core.state, VENUE, status('Q5', '8', '0'))).toMatchObject({ kind: 'refused', reason: 'status_mismatch' });
    const canceled = execReport(fromExecutionReport(h.core.state, VENUE, status('Q5', '4', '0')));
    expect(canceled).toMatchObject({ execType: ExecType.Canceled, ordStatus: OrdStatus.Canceled });
    expect(execReport(fromExecutionReport(h.core.state, VENUE, status('Q5', 'C', '0'))).execType).toBe(ExecType.Expired);
    expect(execReport(fromExecutionReport(h.core.state, VENUE, status('Q5', '3', '0'))).execType).toBe(ExecType.DoneForDay);
    submit(canceled);
    expect(order('Q5').baseStatus).toBe(OrdStatus.Canceled);
    expect(fromExecutionReport(h.core.state, VENUE, status('Q5', '4', '0'))).toMatchObject({ kind: 'ignored', why: 'status agrees' });
  });

  it('the status key depends on status, CumQty and ExecID, so a later different answer is not a duplicate', () => {
    place({ clOrdId: 'Q6' });
    const a = execReport(fromExecutionReport(h.core.state, VENUE, status('Q6', '0', '0')));
    const b = execReport(fromExecutionReport(h.core.state, VENUE, status('Q6', '0', '0', { [TAG.ExecID]: 'ST-2' })));
    const again = execReport(fromExecutionReport(h.core.state, VENUE, status('Q6', '0', '0')));
    expect(a.execId).not.toBe(b.execId);
    expect(again.execId).toBe(a.execId);
  });
});

// ---- inbound: cancel rejects and request rejects ------------------------------------------------------------

describe('fromOrderCancelReject', () => {
  function pendingCancel(clOrdId: string): void {
    place({ clOrdId });
    ack(clOrdId);
    const result = h.send(DEMO.users.trader, { type: Command.CancelOrder, clOrdId: `${clOrdId}-C`, origClOrdId: clOrdId, accountId: DEMO.accounts.GROWTH });
    expect(venueRequests(result)).toHaveLength(1);
  }

  it('CxlRejResponseTo 1 with a known reason: a VenueCancelReject the core applies', () => {
    pendingCancel('X1');
    const inbound = fromOrderCancelReject(h.core.state, VENUE, fix({
      [TAG.ClOrdID]: 'X1-C', [TAG.OrigClOrdID]: 'X1', [TAG.CxlRejResponseTo]: '1', [TAG.CxlRejReason]: '0', [TAG.Text]: 'too late',
    }));
    expect(inbound).toStrictEqual({
      kind: 'command',
      command: {
        type: Command.VenueCancelReject, venueId: VENUE, clOrdId: 'X1-C', origClOrdId: 'X1', cxlRejResponseTo: CxlRejResponseTo.Cancel,
        cxlRejReason: CxlRejReason.TooLateToCancel, text: 'too late',
      },
    });
    const result = submit(cancelReject(inbound));
    expect(result.events).toMatchObject([{ kind: 'cancel_reject', clOrdId: 'X1-C', cxlRejReason: CxlRejReason.TooLateToCancel, text: 'too late' }]);
    expect(order('X1').pending).toBeNull();
  });

  it('CxlRejResponseTo 2 is a replace', () => {
    pendingCancel('X2');
    const c = cancelReject(fromOrderCancelReject(h.core.state, VENUE, fix({ [TAG.ClOrdID]: 'X2-C', [TAG.OrigClOrdID]: 'X2', [TAG.CxlRejResponseTo]: '2', [TAG.CxlRejReason]: '3' })));
    expect(c).toMatchObject({ cxlRejResponseTo: CxlRejResponseTo.Replace, cxlRejReason: CxlRejReason.AlreadyPending });
  });

  it.each([
    ['0', CxlRejReason.TooLateToCancel], ['1', CxlRejReason.UnknownOrder], ['2', CxlRejReason.BrokerOption], ['3', CxlRejReason.AlreadyPending],
    ['6', CxlRejReason.DuplicateClOrdId], ['99', CxlRejReason.Other],
    ['4', CxlRejReason.Other], ['5', CxlRejReason.Other], ['18', CxlRejReason.Other], ['1000', CxlRejReason.Other], ['x', CxlRejReason.Other], ['', CxlRejReason.Other],
  ])('CxlRejReason %j -> %s', (raw, reason) => {
    pendingCancel('X3');
    const c = cancelReject(fromOrderCancelReject(h.core.state, VENUE, fix({ [TAG.ClOrdID]: 'X3-C', [TAG.OrigClOrdID]: 'X3', [TAG.CxlRejResponseTo]: '1', [TAG.CxlRejReason]: raw })));
    expect(c.cxlRejReason).toBe(reason);
  });

  it('an absent CxlRejReason is Other; an absent OrigClOrdID falls back to the ClOrdID', () => {
    pendingCancel('X4');
    const c = cancelReject(fromOrderCancelReject(h.core.state, VENUE, fix({ [TAG.ClOrdID]: 'X4-C', [TAG.CxlRejResponseTo]: '1' })));
    expect(c).toMatchObject({ clOrdId: 'X4-C', origClOrdId: 'X4-C', cxlRejReason: CxlRejReason.Other, text: '' });
  });

  it('refuses a missing ClOrdID and an unknown order', () => {
    pendingCancel('X5');
    expect(fromOrderCancelReject(h.core.state, VENUE, fix({ [TAG.OrigClOrdID]: 'X5', [TAG.CxlRejResponseTo]: '1' })))
      .toMatchObject({ kind: 'refused', reason: 'missing_field' });
    expect(fromOrderCancelReject(h.core.state, VENUE, fix({ [TAG.ClOrdID]: 'NOPE', [TAG.OrigClOrdID]: 'NOPE-TOO', [TAG.CxlRejResponseTo]: '1' })))
      .toMatchObject({ kind: 'refused', reason: 'unknown_order' });
    expect(fromOrderCancelReject(h.core.state, DEMO.venues.SIM, fix({ [TAG.ClOrdID]: 'X5-C', [TAG.OrigClOrdID]: 'X5', [TAG.CxlRejResponseTo]: '1' })))
      .toMatchObject({ kind: 'refused', reason: 'unknown_order' });
  });
});

describe('fromRequestReject', () => {
  it('a session Reject of a NewOrderSingle naming OrdType (371=40): UnsupportedOrderCharacteristic with the venue text', () => {
    place({ clOrdId: 'J1', ordType: OrdType.Market, price: 0 });
    const sent: SentRequest = { msgType: MSG_TYPE.NewOrderSingle, clOrdId: 'J1', origClOrdId: '' };
    const inbound = fromRequestReject(h.core.state, VENUE, sent, fix({
      [TAG.RefSeqNum]: '7', [TAG.RefTagID]: '40', [TAG.RefMsgType]: 'D', [TAG.Text]: 'Unsupported OrdType',
    }), MSG_TYPE.Reject);
    expect(inbound).toStrictEqual({
      kind: 'command',
      command: {
        type: Command.VenueExecReport, venueId: VENUE, execId: execKey(order('J1').orderId, 'reject-3-7'), clOrdId: 'J1', origClOrdId: '',
        execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, lastQty: 0, lastPx: 0, leavesQty: 0,
        ordRejReason: RejectCode.UnsupportedOrderCharacteristic, venueOrderId: '', text: 'venue session reject: Unsupported OrdType',
      },
    });
    expect(reports(submit(execReport(inbound)))).toMatchObject([{
      execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, ordRejReason: RejectCode.UnsupportedOrderCharacteristic,
      text: 'venue session reject: Unsupported OrdType',
    }]);
  });

  it('other session rejects of a NewOrderSingle are BrokerOption; SessionRejectReason 5 and a business reject 380=3 are unsupported', () => {
    place({ clOrdId: 'J2' });
    const sent: SentRequest = { msgType: MSG_TYPE.NewOrderSingle, clOrdId: 'J2', origClOrdId: '' };
    const plain = execReport(fromRequestReject(h.core.state, VENUE, sent, fix({ [TAG.RefSeqNum]: '8', [TAG.RefTagID]: '44', [TAG.SessionRejectReason]: '1' }), MSG_TYPE.Reject));
    expect(plain).toMatchObject({ ordRejReason: RejectCode.BrokerOption, text: 'venue session reject: no text' });
    const badValue = execReport(fromRequestReject(h.core.state, VENUE, sent, fix({ [TAG.RefSeqNum]: '8', [TAG.SessionRejectReason]: '5' }), MSG_TYPE.Reject));
    expect(badValue.ordRejReason).toBe(RejectCode.UnsupportedOrderCharacteristic);
    const business = execReport(fromRequestReject(h.core.state, VENUE, sent, fix({
      [TAG.RefSeqNum]: '9', [TAG.BusinessRejectReason]: '3', [TAG.Text]: 'Unsupported Message Type',
    }), MSG_TYPE.BusinessMessageReject));
    expect(business).toMatchObject({
      ordRejReason: RejectCode.UnsupportedOrderCharacteristic, text: 'venue business reject: Unsupported Message Type',
      execId: execKey(order('J2').orderId, 'reject-j-9'),
    });
    const long = execReport(fromRequestReject(h.core.state, VENUE, sent, fix({ [TAG.Text]: 'y'.repeat(1000) }), MSG_TYPE.Reject));
    expect(long.text.length).toBe(200);
    expect(long.execId).toBe(execKey(order('J2').orderId, 'reject-3-?'));
  });

  it('a reject of a NewOrderSingle whose order is no longer pending new is ignored', () => {
    place({ clOrdId: 'J3' });
    ack('J3');
    const sent: SentRequest = { msgType: MSG_TYPE.NewOrderSingle, clOrdId: 'J3', origClOrdId: '' };
    expect(fromRequestReject(h.core.state, VENUE, sent, fix({ [TAG.RefSeqNum]: '1' }), MSG_TYPE.Reject).kind).toBe('ignored');
  });

  it('a reject of a cancel is a VenueCancelReject (Other) with the venue text; of a replace, the same for Replace', () => {
    place({ clOrdId: 'J4' });
    ack('J4');
    expect(venueRequests(h.send(DEMO.users.trader, { type: Command.CancelOrder, clOrdId: 'J4-C', origClOrdId: 'J4', accountId: DEMO.accounts.GROWTH }))).toHaveLength(1);
    const sent: SentRequest = { msgType: MSG_TYPE.OrderCancelRequest, clOrdId: 'J4-C', origClOrdId: 'J4' };
    const inbound = fromRequestReject(h.core.state, VENUE, sent, fix({ [TAG.RefSeqNum]: '12', [TAG.Text]: 'cancels not supported' }), MSG_TYPE.BusinessMessageReject);
    expect(inbound).toStrictEqual({
      kind: 'command',
      command: {
        type: Command.VenueCancelReject, venueId: VENUE, clOrdId: 'J4-C', origClOrdId: 'J4', cxlRejResponseTo: CxlRejResponseTo.Cancel,
        cxlRejReason: CxlRejReason.Other, text: 'venue business reject: cancels not supported',
      },
    });
    expect(submit(cancelReject(inbound)).events).toMatchObject([{ kind: 'cancel_reject', clOrdId: 'J4-C', text: 'venue business reject: cancels not supported' }]);

    const replace = cancelReject(fromRequestReject(h.core.state, VENUE, { msgType: MSG_TYPE.OrderCancelReplaceRequest, clOrdId: 'J4-R', origClOrdId: 'J4' },
      fix({}), MSG_TYPE.Reject));
    expect(replace).toMatchObject({ cxlRejResponseTo: CxlRejResponseTo.Replace, cxlRejReason: CxlRejReason.Other, clOrdId: 'J4-R', origClOrdId: 'J4' });
  });

  it('a reject of an OrderStatusRequest is refused: the order stays as it is', () => {
    place({ clOrdId: 'J5' });
    const sent: SentRequest = { msgType: MSG_TYPE.OrderStatusRequest, clOrdId: 'J5', origClOrdId: '' };
    const inbound = fromRequestReject(h.core.state, VENUE, sent, fix({ [TAG.Text]: 'no status' }), MSG_TYPE.Reject);
    expect(inbound).toMatchObject({ kind: 'refused', reason: 'status_unsupported' });
    expect(order('J5').baseStatus).toBe(OrdStatus.PendingNew);
  });

  it('a reject of a request for an order that is not this venue\'s is refused', () => {
    h.newOrder({ clOrdId: 'J6', venueId: DEMO.venues.SIM });
    for (const clOrdId of ['J6', 'NOPE']) {
      const sent: SentRequest = { msgType: MSG_TYPE.NewOrderSingle, clOrdId, origClOrdId: '' };
      expect(fromRequestReject(h.core.state, VENUE, sent, fix({}), MSG_TYPE.Reject)).toMatchObject({ kind: 'refused', reason: 'unknown_order' });
    }
  });
});

describe('unsentAnswer', () => {
  it('a new order that cannot be sent is rejected as ExchangeClosed with the reason; the core applies it', () => {
    const request = place({ clOrdId: 'N1' });
    const answer = unsentAnswer(request, request.orderId, 'session down');
    expect(answer).toStrictEqual({
      type: Command.VenueExecReport, venueId: VENUE, execId: `${request.orderId}:unsent-N1`, clOrdId: 'N1', origClOrdId: '',
      execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, lastQty: 0, lastPx: 0, leavesQty: 0, ordRejReason: RejectCode.ExchangeClosed,
      venueOrderId: '', text: 'session down',
    });
    expect(reports(submit(answer))).toMatchObject([{ execType: ExecType.Rejected, ordRejReason: RejectCode.ExchangeClosed, text: 'session down' }]);
    expect((unsentAnswer(request, request.orderId, 'w'.repeat(999)) as VenueExecReportCmd).text).toBe('w'.repeat(200));
  });

  it('a cancel or replace that cannot be sent is a cancel reject of that kind', () => {
    place({ clOrdId: 'N2' });
    ack('N2');
    const [cancel] = venueRequests(h.send(DEMO.users.trader, { type: Command.CancelOrder, clOrdId: 'N2-C', origClOrdId: 'N2', accountId: DEMO.accounts.GROWTH }));
    const answer = unsentAnswer(cancel, cancel.orderId, 'not logged on');
    expect(answer).toStrictEqual({
      type: Command.VenueCancelReject, venueId: VENUE, clOrdId: 'N2-C', origClOrdId: 'N2', cxlRejResponseTo: CxlRejResponseTo.Cancel,
      cxlRejReason: CxlRejReason.Other, text: 'not logged on',
    });
    expect(submit(answer).events).toMatchObject([{ kind: 'cancel_reject', clOrdId: 'N2-C', text: 'not logged on' }]);
    expect(unsentAnswer({ ...cancel, requestKind: VenueRequestKind.Replace }, cancel.orderId, 'x')).toMatchObject({ cxlRejResponseTo: CxlRejResponseTo.Replace });
  });
});
