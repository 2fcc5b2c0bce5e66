// OpenAPI 3.1 description of the HTTP JSON API (gateway/http-api.ts), served at GET /v1/openapi.json.
// Hand-written: keep it in step with http-api.ts (test/http-api.test.ts checks that every route is here and
// that nothing here is unrouted).

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const decimal = (description: string): Schema => ({ type: 'string', pattern: '^\\d+(\\.\\d+)?$', description });
const signedDecimal = (description: string): Schema => ({ type: 'string', pattern: '^-?\\d+(\\.\\d+)?$', description });
const nullable = (schema: Schema): Schema => ({ oneOf: [schema, { type: 'null' }] });
const integer = (description: string, minimum = 0): Schema => ({ type: 'integer', minimum, description });
const time = (description: string): Schema => ({ type: 'string', format: 'date-time', description });
const object = (properties: Record<string, Schema>, required: string[] = []): Schema =>
  ({ type: 'object', additionalProperties: false, properties, required });
const enumeration = (values: string[], description: string): Schema =>
  ({ type: 'string', description: `${description} One of ${values.join(', ')}; case-insensitive, "_" and "-" ignored.` });

const problem = (description: string): Schema => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });
const json = (description: string, schema: Schema): Schema => ({ description, content: { 'application/json': { schema } } });
const body = (schema: Schema): Schema => ({ required: true, content: { 'application/json': { schema } } });

const AUTH_PROBLEMS = {
  401: problem('Missing or unknown bearer token (reject_code UnknownUser).'),
  403: problem('The role may not use this endpoint (NotAuthorised), or the account is not entitled (NotEntitled).'),
};
const BAD_REQUEST = {
  400: problem('Malformed JSON (MalformedFrame), unknown field or wrong type (InvalidField), too many decimals (WrongPrecision), out of range (ValueOutOfRange).'),
};
const COMMAND_PROBLEMS = {
  ...AUTH_PROBLEMS, ...BAD_REQUEST,
  413: problem(`The body exceeds HTTP_BODY_BYTES_MAX (16 KiB) (OversizedFrame).`),
  422: problem('The core refused the command; reject_code is its RejectCode, seq the journal entry of the refusal.'),
  503: problem('The core queue is full or the service is stopping; retry (RateLimited).'),
};
const CL_ORD_ID = { name: 'cl_ord_id', in: 'path', required: true, schema: { type: 'string' }, description: 'Any ClOrdID of the order (for cancel/replace: its current one), percent-encoded.' };
const VENUE_ID_PARAM = { name: 'venue_id', in: 'path', required: true, schema: { type: 'integer' }, description: 'The venue id (DefineVenue) a FIX session serves.' };
const NOT_FOUND_ORDER = { 404: problem('No such order on an account the user is entitled to (UnknownOrder).') };
const SECURITY = [{ bearer: [] }];

const ORDER_TERMS = {
  cl_ord_id: { type: 'string', minLength: 1, maxLength: 64, description: 'Client order id, unique for ever.' },
  qty: decimal('Quantity in instrument units, at most qty_precision decimals.'),
  price: decimal('Limit price in the instrument currency, at most price_precision decimals.'),
  stop_px: decimal('Stop (trigger) price.'),
  ord_type: enumeration(['market', 'limit', 'stop', 'stop_limit'], 'Default: limit if price, stop if stop_px, stop_limit if both, else market.'),
  time_in_force: enumeration(['day', 'gtc', 'ioc', 'fok', 'gtd'], 'Default day.'),
  expire_time: time('GTD only: RFC 3339, up to microseconds.'),
  text: { type: 'string', maxLength: 256 },
};

const ORDER_ANSWER = object({
  seq: integer('Journal sequence number of the command.', 1),
  request_id: integer('Request id the gateway stamped.', 1),
  reports: { type: 'array', items: ref('ExecutionReport') },
  order: nullable(ref('Order')),
});

const SCHEMAS: Record<string, Schema> = {
  Problem: {
    type: 'object', required: ['type', 'title', 'status', 'detail', 'reject_code', 'reject_code_name'],
    properties: {
      type: { type: 'string', description: 'urn:oms:reject:<RejectCode name>' }, title: { type: 'string' }, status: { type: 'integer' },
      detail: { type: 'string' }, reject_code: { type: 'integer', description: 'RejectCode (schemas/oms.fbs), as on the WebSocket API.' },
      reject_code_name: { type: 'string' }, seq: { type: 'integer', description: 'Journal seq of a refusal the core journaled.' },
    },
  },
  NewOrder: object({
    ...ORDER_TERMS, account_id: integer('Account.', 1), symbol: { type: 'string' }, instrument_id: integer('Instead of, or agreeing with, symbol.', 1),
    side: enumeration(['buy', 'sell', 'sell_short'], 'Side.'),
    venue_id: integer('0 or absent: a parent order held by the OMS; otherwise a placement at that venue (traders only).'),
    parent_cl_ord_id: { type: 'string', description: 'Makes a venue placement a child of this parent.' },
  }, ['cl_ord_id', 'account_id', 'side', 'qty']),
  ChildOrder: object({ ...ORDER_TERMS, venue_id: integer('Venue of the placement.', 1) }, ['cl_ord_id', 'qty', 'venue_id']),
  Cancel: object({ cl_ord_id: ORDER_TERMS.cl_ord_id }, ['cl_ord_id']),
  Replace: object({
    cl_ord_id: ORDER_TERMS.cl_ord_id, qty: ORDER_TERMS.qty, price: ORDER_TERMS.price, stop_px: ORDER_TERMS.stop_px,
    time_in_force: ORDER_TERMS.time_in_force, expire_time: ORDER_TERMS.expire_time,
  }, ['cl_ord_id', 'qty']),
  OrderAnswer: ORDER_ANSWER,
  Order: {
    type: 'object', description: 'An order from the replica. Quantities and prices are exact decimal strings; raw holds the scaled integers.',
    properties: {
      order_id: { type: 'integer' }, cl_ord_id: { type: 'string' }, orig_cl_ord_id: nullable({ type: 'string' }),
      account_id: { type: 'integer' }, instrument_id: { type: 'integer' }, symbol: { type: 'string' }, currency: { type: 'string' },
      side: { type: 'string' }, ord_type: { type: 'string' }, time_in_force: { type: 'string' },
      status: { type: 'string', description: 'FIX OrdStatus name, pending overlay included.' }, open: { type: 'boolean' },
      qty: decimal(''), price: nullable(decimal('')), stop_px: nullable(decimal('')), cum_qty: decimal(''), leaves_qty: decimal(''),
      avg_px: nullable(decimal('Exact to 6 digits beyond the price precision.')), expire_time: nullable(time('')),
      venue_id: { type: 'integer' }, parent_order_id: nullable({ type: 'integer' }), parent_cl_ord_id: nullable({ type: 'string' }),
      child_committed_qty: nullable(decimal('Parents: quantity placed with children.')), open_child_count: nullable({ type: 'integer' }),
      pending: nullable({ type: 'object' }), workflow_state: { type: 'string' }, user_id: { type: 'integer' },
      created_seq: { type: 'integer' }, transact_time: time('Entry time.'), raw: { type: 'object' },
    },
  },
  ExecutionReport: {
    type: 'object',
    properties: {
      exec_id: { type: 'string' }, exec_type: { type: 'string' }, ord_status: { type: 'string' }, order_id: { type: 'integer' },
      cl_ord_id: { type: 'string' }, orig_cl_ord_id: nullable({ type: 'string' }), account_id: { type: 'integer' },
      instrument_id: { type: 'integer' }, symbol: nullable({ type: 'string' }), side: nullable({ type: 'string' }),
      qty: decimal(''), price: nullable(decimal('')), stop_px: nullable(decimal('')), last_qty: decimal(''), last_px: nullable(decimal('')),
      cum_qty: decimal(''), leaves_qty: decimal(''), avg_px: nullable(decimal('')), ord_rej_reason: nullable({ type: 'string' }),
      text: { type: 'string' }, venue_id: { type: 'integer' }, transact_time: time(''), raw: { type: 'object' },
    },
  },
  OrderPage: object({ orders: { type: 'array', items: ref('Order') }, next_cursor: nullable({ type: 'string', description: 'Pass as cursor for the next (older) page.' }) }),
  OrderDetail: object({ order: ref('Order') }),
  OrderHistory: object({
    order: ref('Order'), original_cl_ord_id: { type: 'string' }, truncated: { type: 'boolean' },
    history: {
      type: 'array', description: 'Every journaled command that touched the order (and its children), with the events it produced.',
      items: {
        type: 'object', properties: {
          seq: { type: 'integer' }, time_us: { type: 'integer' }, time: time(''), user_id: { type: 'integer' }, user_name: nullable({ type: 'string' }),
          session_id: { type: 'integer' }, request_id: { type: 'integer' },
          command: { type: 'object', description: 'The command as journaled (enum names, exact scaled integers).' },
          events: { type: 'array', items: { type: 'object' } },
        },
      },
    },
  }),
  Position: {
    type: 'object',
    properties: {
      account_id: { type: 'integer' }, instrument_id: { type: 'integer' }, symbol: { type: 'string' }, currency: { type: 'string' },
      qty: signedDecimal('Signed: long > 0.'), avg_cost: nullable(decimal('Average cost price.')), cost: signedDecimal('Open cost.'),
      mark: nullable(decimal('')), market_value: nullable(signedDecimal('')), realised_pnl: signedDecimal(''),
      unrealised_pnl: nullable(signedDecimal('At the mark.')), total_pnl: signedDecimal(''), gross_exposure: decimal(''),
      open_buy_qty: decimal(''), open_sell_qty: decimal(''), raw: { type: 'object' },
    },
  },
  Positions: object({ positions: { type: 'array', items: ref('Position') }, truncated: { type: 'boolean' } }),
  Accounts: object({
    accounts: {
      type: 'array', items: {
        type: 'object', properties: {
          account_id: { type: 'integer' }, name: { type: 'string' }, portfolio: { type: 'string' }, open_orders: { type: 'integer' },
          gross_exposure: { type: 'object', additionalProperties: decimal('') }, kill_switch_engaged: { type: 'boolean' },
        },
      },
    },
  }),
  Instruments: object({
    instruments: {
      type: 'array', items: {
        type: 'object', properties: {
          instrument_id: { type: 'integer' }, symbol: { type: 'string' }, asset_class: { type: 'string' }, currency: { type: 'string' },
          price_precision: { type: 'integer' }, qty_precision: { type: 'integer' }, tick_size: decimal(''), lot_size: decimal(''),
          multiplier: { type: 'integer' }, mark: nullable(decimal('')), expiry: nullable({ type: 'integer' }), strike: nullable(decimal('')),
          put_call: nullable({ type: 'string' }), base_currency: nullable({ type: 'string' }), quote_currency: nullable({ type: 'string' }),
          settle_date: nullable({ type: 'integer' }), tradable: { type: 'boolean' }, restricted: { type: 'boolean' }, raw: { type: 'object' },
        },
      },
    },
  }),
  LimitSet: {
    type: 'object', description: 'null = not set at this scope.',
    properties: {
      scope: { type: 'string' }, scope_id: { type: 'integer' }, symbol: nullable({ type: 'string' }),
      max_order_qty: nullable(decimal('Instrument scope: instrument units; other scopes: raw scaled quantity units.')),
      max_order_notional: nullable(decimal('Currency units (exact to micro-units).')), price_collar_bps: nullable({ type: 'integer' }),
      max_position: nullable(decimal('As max_order_qty.')), max_gross_exposure: nullable(decimal('Currency units.')),
      max_open_orders: nullable({ type: 'integer' }), max_orders_per_second: nullable({ type: 'integer' }), raw: { type: 'object' },
    },
  },
  Limits: object({ global: ref('LimitSet'), accounts: { type: 'array', items: ref('LimitSet') }, instruments: { type: 'array', items: ref('LimitSet') } }),
  PutLimits: object({
    scope: enumeration(['global', 'account', 'instrument'], 'Scope.'), scope_id: integer('0 for global.'),
    max_order_qty: nullable(decimal('Absent: unchanged; null: clear.')), max_order_notional: nullable(decimal('Currency, at most 6 decimals.')),
    price_collar_bps: nullable(integer('')), max_position: nullable(decimal('')), max_gross_exposure: nullable(decimal('Currency, at most 6 decimals.')),
    max_open_orders: nullable(integer('')), max_orders_per_second: nullable(integer('')),
  }, ['scope']),
  LimitsAnswer: object({ seq: { type: 'integer' }, limits: ref('LimitSet') }),
  KillSwitch: object({ global: { type: 'boolean' }, accounts: { type: 'array', items: { type: 'integer' } }, users: { type: 'array', items: { type: 'integer' } } }),
  PutKillSwitch: object({
    scope: enumeration(['global', 'account', 'user'], 'Scope.'), scope_id: integer('0 for global.'), engaged: { type: 'boolean' },
    text: { type: 'string', maxLength: 256 },
  }, ['scope', 'engaged']),
  KillSwitchAnswer: object({ seq: { type: 'integer' }, kill_switch: ref('KillSwitch') }),
  Venue: object({
    venue_id: { type: 'integer' }, name: { type: 'string' },
    state: { enum: ['admin_down', 'out_of_schedule', 'connecting', 'logged_on', 'backoff', 'closed'] }, logged_on: { type: 'boolean' },
    host: { type: 'string' }, port: { type: 'integer' }, sender_comp_id: { type: 'string' }, target_comp_id: { type: 'string' },
    next_sender_seq: { type: 'integer' }, durable_target_seq: { type: 'integer', description: 'Incoming MsgSeqNum below which everything is journaled.' },
    messages_in: { type: 'integer' }, messages_out: { type: 'integer' }, rejects_in: { type: 'integer' }, refused_in: { type: 'integer' },
    garbled_in: { type: 'integer' }, logons: { type: 'integer' }, connect_failures: { type: 'integer' }, status_requests_sent: { type: 'integer' },
    last_error: { type: 'string' }, last_logon_time: { type: 'string' },
  }),
  Venues: object({ venues: { type: 'array', items: ref('Venue') } }),
  VenueAnswer: object({ venue: ref('Venue') }),
};

const query = (name: string, schema: Schema, description: string): Schema => ({ name, in: 'query', required: false, schema, description });

export const OPENAPI_DOCUMENT: Readonly<Record<string, unknown>> = {
  openapi: '3.1.0',
  info: {
    title: 'OMS HTTP API', version: '1',
    description: 'Order entry, blotter, positions, reference data, limits and kill switch. Commands are journaled and answered once durable. '
      + 'Amounts are exact decimal strings in instrument units; too many decimals is refused (WrongPrecision), never rounded. '
      + 'Errors are application/problem+json with the RejectCode of the WebSocket API.',
  },
  servers: [{ url: '/' }],
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The same tokens as the WebSocket API (auth.tokens).' } },
    schemas: SCHEMAS,
  },
  security: SECURITY,
  paths: {
    '/v1/orders': {
      post: {
        summary: 'New order: a parent (venue_id 0) or a venue placement', requestBody: body(ref('NewOrder')),
        responses: { 201: json('Accepted; the durable execution report(s) and the order.', ref('OrderAnswer')), ...COMMAND_PROBLEMS },
      },
      get: {
        summary: 'Blotter: orders on entitled accounts, newest first',
        parameters: [
          query('status', { type: 'string' }, 'Comma-separated OrdStatus names (New, PartiallyFilled, Filled, Canceled, ...).'),
          query('account_id', { type: 'integer' }, ''), query('instrument_id', { type: 'integer' }, ''), query('symbol', { type: 'string' }, ''),
          query('user_id', { type: 'integer' }, 'The user who entered the order.'), query('parent_cl_ord_id', { type: 'string' }, 'Children of this parent.'),
          query('from', { type: 'string', format: 'date-time' }, 'Entered at or after.'), query('to', { type: 'string', format: 'date-time' }, 'Entered before.'),
          query('open', { type: 'boolean' }, 'true: working orders only; false: done ones only.'),
          query('limit', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, 'Page size (BLOTTER_PAGE_MAX 1000).'),
          query('cursor', { type: 'string' }, 'next_cursor of the previous page. A page may be short (100,000 orders examined per request) yet have a next_cursor.'),
        ],
        responses: { 200: json('One page.', ref('OrderPage')), ...AUTH_PROBLEMS, ...BAD_REQUEST, 404: problem('Unknown account (UnknownAccount).') },
      },
    },
    '/v1/orders/{cl_ord_id}': {
      get: {
        summary: 'One order', parameters: [CL_ORD_ID, query('history', { type: 'boolean' }, 'true: as /history.')],
        responses: { 200: json('The order (or its history with history=true).', { oneOf: [ref('OrderDetail'), ref('OrderHistory')] }), ...AUTH_PROBLEMS, ...NOT_FOUND_ORDER },
      },
    },
    '/v1/orders/{cl_ord_id}/history': {
      get: {
        summary: 'The order\'s full history, replayed from the journal off the main thread', parameters: [CL_ORD_ID],
        responses: { 200: json('History.', ref('OrderHistory')), ...AUTH_PROBLEMS, ...NOT_FOUND_ORDER, 503: problem('Too many replays waiting (RateLimited).') },
      },
    },
    '/v1/orders/{cl_ord_id}/cancel': {
      post: {
        summary: 'Cancel (path: the order\'s current ClOrdID; body: the cancel request\'s new ClOrdID)', parameters: [CL_ORD_ID],
        requestBody: body(ref('Cancel')),
        responses: { 200: json('Accepted (a venue placement is PendingCancel until the venue answers).', ref('OrderAnswer')), ...COMMAND_PROBLEMS, ...NOT_FOUND_ORDER },
      },
    },
    '/v1/orders/{cl_ord_id}/replace': {
      post: {
        summary: 'Cancel/replace; terms not given stay as they are', parameters: [CL_ORD_ID], requestBody: body(ref('Replace')),
        responses: { 200: json('Accepted (a venue placement is PendingReplace until the venue answers).', ref('OrderAnswer')), ...COMMAND_PROBLEMS, ...NOT_FOUND_ORDER },
      },
    },
    '/v1/orders/{cl_ord_id}/children': {
      post: {
        summary: 'Release a child placement of a parent order (its account, instrument and side)', parameters: [CL_ORD_ID],
        requestBody: body(ref('ChildOrder')),
        responses: { 201: json('Accepted.', ref('OrderAnswer')), ...COMMAND_PROBLEMS, ...NOT_FOUND_ORDER },
      },
    },
    '/v1/positions': {
      get: {
        summary: 'Positions on entitled accounts with average cost, realised and unrealised P&L at the mark',
        parameters: [query('account_id', { type: 'integer' }, ''), query('instrument_id', { type: 'integer' }, '')],
        responses: { 200: json('Positions.', ref('Positions')), ...AUTH_PROBLEMS, ...BAD_REQUEST, 404: problem('Unknown account.') },
      },
    },
    '/v1/accounts': { get: { summary: 'Entitled accounts with open orders and gross exposure', responses: { 200: json('Accounts.', ref('Accounts')), ...AUTH_PROBLEMS } } },
    '/v1/instruments': { get: { summary: 'Reference data: precision, tick, lot, multiplier, mark', responses: { 200: json('Instruments.', ref('Instruments')), ...AUTH_PROBLEMS } } },
    '/v1/limits': {
      get: { summary: 'Pre-trade limits of every scope (admin)', responses: { 200: json('Limits.', ref('Limits')), ...AUTH_PROBLEMS } },
      put: {
        summary: 'Set limits of one scope (admin); absent fields unchanged, null clears', requestBody: body(ref('PutLimits')),
        responses: { 200: json('The scope\'s limits now.', ref('LimitsAnswer')), ...COMMAND_PROBLEMS },
      },
    },
    '/v1/kill-switch': {
      get: { summary: 'Engaged kill switches (compliance, admin)', responses: { 200: json('Kill switches.', ref('KillSwitch')), ...AUTH_PROBLEMS } },
      put: {
        summary: 'Engage or disengage a kill switch (compliance, admin); cancels keep working', requestBody: body(ref('PutKillSwitch')),
        responses: { 200: json('Kill switches now.', ref('KillSwitchAnswer')), ...COMMAND_PROBLEMS },
      },
    },
    '/v1/venues': { get: { summary: 'FIX venue sessions: state, sequence numbers, message counts', responses: { 200: json('Venue sessions.', ref('Venues')), ...AUTH_PROBLEMS } } },
    '/v1/venues/{venue_id}/disconnect': {
      post: { summary: 'Log out of a FIX venue and stay down until connect (admin)', parameters: [VENUE_ID_PARAM], responses: { 200: json('The venue session.', ref('VenueAnswer')), ...AUTH_PROBLEMS, 404: problem('No FIX session serves the venue.') } },
    },
    '/v1/venues/{venue_id}/connect': {
      post: { summary: 'Connect to a FIX venue now (admin)', parameters: [VENUE_ID_PARAM], responses: { 200: json('The venue session.', ref('VenueAnswer')), ...AUTH_PROBLEMS, 404: problem('No FIX session serves the venue.') } },
    },
    '/v1/openapi.json': { get: { summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1 document.' } } } },
  },
};
