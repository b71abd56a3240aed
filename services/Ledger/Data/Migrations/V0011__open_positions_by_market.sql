-- V0011: an index for the open position of a market. Released migrations are never edited.

-- GetPosition by its open key (venue, symbol, and an account only when the caller names one: Execution asks it before
-- every close) wants the oldest open position of the market. positions_one_open leads with the account, so without it the
-- read was a scan of that whole index, or of the table, or a walk of positions_by_opened through every position ever
-- opened; and the generic plan a connection caches while the table is a page or two (a sequential scan, cheapest then)
-- was kept as the table grew (bench/TradeEngine.ExecutionLoad: 1.8 ms a close, reading every position). Open positions
-- only: it holds a handful of rows, and a close, which leaves the predicate, adds nothing to it.
CREATE INDEX positions_open_by_market ON positions (venue, symbol, opened_at) WHERE status = 'open';
