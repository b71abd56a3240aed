-- V0006: one index for a look-up of trades by client order id and venue. Released migrations are never edited.

-- GetOrderTrades finds an order's trades by client order id and venue (and symbol, when given): Execution asks it
-- before every order whether the id is already spent. With only (client_order_id) indexed, the plan PostgreSQL made
-- while the table had no statistics combined that index with a scan of the venue's prefix of
-- (venue, symbol, exchange_trade_id), which reads every trade of the venue on each call (bench/TradeEngine.ExecutionLoad:
-- 9 ms a call on average as the table grew). An index on both columns answers the look-up alone. It replaces the
-- client-order-id index, which is its prefix, so a trade's insert maintains no more indexes than before.
CREATE INDEX trades_by_client_order_id_venue ON trades (client_order_id, venue);
DROP INDEX trades_by_client_order_id;
