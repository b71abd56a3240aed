-- V0001: the ledger's initial schema. Released migrations are never edited; add a new file instead.
-- Money and prices are NUMERIC(28,8): exact, 8 decimal places (posted funding and fees stay exact).
-- Every timestamp is timestamptz and written in UTC.

CREATE TABLE positions (
    position_id        uuid          PRIMARY KEY,
    account            varchar(64)   NOT NULL,
    venue              varchar(32)   NOT NULL,
    symbol             varchar(32)   NOT NULL,
    side               varchar(5)    NOT NULL CHECK (side IN ('long', 'short')),
    -- Open size (absolute, base asset); at close it keeps the size that was closed.
    quantity           numeric(28,8) NOT NULL CHECK (quantity > 0),
    entry_price        numeric(28,8) NOT NULL CHECK (entry_price > 0),
    -- Quantity-weighted average of every exit so far.
    exit_price         numeric(28,8),
    closed_quantity    numeric(28,8) NOT NULL DEFAULT 0 CHECK (closed_quantity >= 0),
    leverage           integer       NOT NULL CHECK (leverage BETWEEN 1 AND 125),
    margin_type        varchar(8)    NOT NULL CHECK (margin_type IN ('isolated', 'cross')),
    status             varchar(10)   NOT NULL CHECK (status IN ('open', 'closed', 'liquidated')),
    -- Gross of fees and funding.
    realized_pnl       numeric(28,8) NOT NULL DEFAULT 0,
    fees               numeric(28,8) NOT NULL DEFAULT 0 CHECK (fees >= 0),
    -- Positive when we paid.
    funding            numeric(28,8) NOT NULL DEFAULT 0,
    strategy           varchar(64),
    stop_loss_price    numeric(28,8),
    take_profit_price  numeric(28,8),
    opened_at          timestamptz   NOT NULL,
    closed_at          timestamptz,
    exit_reason        varchar(256),
    updated_at         timestamptz   NOT NULL DEFAULT now(),
    CHECK ((status = 'open') = (closed_at IS NULL)),
    CHECK (closed_at IS NULL OR closed_at >= opened_at)
);

-- One open position per account, venue and symbol.
CREATE UNIQUE INDEX positions_one_open ON positions (account, venue, symbol) WHERE status = 'open';
CREATE INDEX positions_by_opened ON positions (opened_at DESC, position_id DESC);

-- Every change to a position (open, add, reduce, close, liquidation): the journal daily PnL is summed from.
CREATE TABLE position_changes (
    change_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    position_id   uuid          NOT NULL REFERENCES positions (position_id),
    kind          varchar(10)   NOT NULL CHECK (kind IN ('open', 'add', 'reduce', 'close', 'liquidate')),
    quantity      numeric(28,8) NOT NULL CHECK (quantity > 0),
    price         numeric(28,8) NOT NULL CHECK (price > 0),
    realized_pnl  numeric(28,8) NOT NULL DEFAULT 0,
    fee           numeric(28,8) NOT NULL DEFAULT 0 CHECK (fee >= 0),
    reason        varchar(256),
    occurred_at   timestamptz   NOT NULL
);
CREATE INDEX position_changes_by_time ON position_changes (occurred_at);
CREATE INDEX position_changes_by_position ON position_changes (position_id);

-- Every fill, as the venue reported it. One row per client order id; exchange trade ids are unique per venue.
CREATE TABLE trades (
    trade_id           uuid          PRIMARY KEY,
    client_order_id    varchar(64)   NOT NULL UNIQUE,
    venue              varchar(32)   NOT NULL,
    exchange_trade_id  varchar(64)   NOT NULL,
    exchange_order_id  varchar(64),
    symbol             varchar(32)   NOT NULL,
    side               varchar(4)    NOT NULL CHECK (side IN ('buy', 'sell')),
    price              numeric(28,8) NOT NULL CHECK (price > 0),
    quantity           numeric(28,8) NOT NULL CHECK (quantity > 0),
    fee                numeric(28,8) NOT NULL CHECK (fee >= 0),
    realized_pnl       numeric(28,8) NOT NULL DEFAULT 0,
    executed_at        timestamptz   NOT NULL,
    position_id        uuid          REFERENCES positions (position_id),
    strategy           varchar(64),
    recorded_at        timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (venue, exchange_trade_id)
);
CREATE INDEX trades_by_position ON trades (position_id) WHERE position_id IS NOT NULL;

CREATE TABLE risk_events (
    risk_event_id  uuid          PRIMARY KEY,
    event_type     varchar(64)   NOT NULL,
    severity       varchar(10)   NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    reason         varchar(1024) NOT NULL,
    symbol         varchar(32),
    metric_value   numeric(28,8),
    limit_value    numeric(28,8),
    occurred_at    timestamptz   NOT NULL,
    recorded_at    timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX risk_events_by_time ON risk_events (occurred_at);

CREATE TABLE funding_events (
    funding_event_id  uuid          PRIMARY KEY,
    position_id       uuid          NOT NULL REFERENCES positions (position_id),
    symbol            varchar(32)   NOT NULL,
    venue             varchar(32)   NOT NULL,
    -- Positive: longs pay shorts.
    funding_rate      numeric(28,8) NOT NULL,
    -- Signed: long positive.
    position_size     numeric(28,8) NOT NULL,
    mark_price        numeric(28,8) NOT NULL CHECK (mark_price > 0),
    notional          numeric(28,8) NOT NULL,
    -- Positive when we paid.
    payment           numeric(28,8) NOT NULL,
    funding_time      timestamptz   NOT NULL,
    recorded_at       timestamptz   NOT NULL DEFAULT now(),
    -- A settlement is never counted twice.
    UNIQUE (position_id, funding_time)
);
CREATE INDEX funding_events_by_symbol_time ON funding_events (symbol, venue, funding_time);
CREATE INDEX funding_events_by_time ON funding_events (funding_time);

CREATE TABLE pnl_snapshots (
    snapshot_id     uuid          PRIMARY KEY,
    balance         numeric(28,8) NOT NULL,
    unrealized_pnl  numeric(28,8) NOT NULL,
    realized_pnl    numeric(28,8) NOT NULL,
    total_pnl       numeric(28,8) NOT NULL,
    equity          numeric(28,8) NOT NULL,
    margin_ratio    numeric(28,8),
    open_positions  integer       NOT NULL CHECK (open_positions >= 0),
    taken_at        timestamptz   NOT NULL,
    recorded_at     timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX pnl_snapshots_by_time ON pnl_snapshots (taken_at);
CREATE INDEX pnl_snapshots_by_equity ON pnl_snapshots (equity DESC, taken_at);

-- The kill switch's current state (one row) and every change to it.
CREATE TABLE kill_switch (
    id          smallint     PRIMARY KEY CHECK (id = 1),
    active      boolean      NOT NULL,
    trigger     varchar(64)  NOT NULL,
    reason      varchar(1024) NOT NULL,
    actor       varchar(128) NOT NULL,
    changed_at  timestamptz  NOT NULL
);

CREATE TABLE kill_switch_history (
    change_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    active      boolean      NOT NULL,
    trigger     varchar(64)  NOT NULL,
    reason      varchar(1024) NOT NULL,
    actor       varchar(128) NOT NULL,
    changed_at  timestamptz  NOT NULL
);

-- Events to publish, written in the transaction of the row they describe. The relay publishes in id order
-- (so in order per aggregate), marks them sent, and wakes on NOTIFY ledger_outbox.
CREATE TABLE outbox (
    outbox_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        uuid         NOT NULL UNIQUE,
    aggregate_id    varchar(64)  NOT NULL,
    message_type    varchar(128) NOT NULL,
    payload         jsonb        NOT NULL,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    attempts        integer      NOT NULL DEFAULT 0,
    last_error      varchar(1024)
);
CREATE INDEX outbox_unsent ON outbox (outbox_id) WHERE sent_at IS NULL;

CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ledger_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_inserted AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Processed event ids of consumers outside the Ledger (CheckInbox / RecordInbox).
CREATE TABLE inbox (
    consumer      varchar(128) NOT NULL,
    event_id      uuid         NOT NULL,
    processed_at  timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Idempotency keys of mutating RPCs: a hash of the request and the response first given.
CREATE TABLE idempotency_keys (
    rpc           varchar(64)  NOT NULL,
    key           varchar(128) NOT NULL,
    request_hash  bytea        NOT NULL,
    response      bytea,
    created_at    timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (rpc, key)
);
