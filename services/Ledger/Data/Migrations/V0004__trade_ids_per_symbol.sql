-- V0004: a fill is identified by venue, symbol and exchange trade id. Released migrations are never edited.

-- Binance numbers trades per symbol (GET /fapi/v1/userTrades takes a symbol; ids of two symbols overlap), so a trade id
-- alone is not unique within a venue: two symbols' fills with the same id were refused as duplicates.
ALTER TABLE trades DROP CONSTRAINT trades_venue_exchange_trade_id_key;
ALTER TABLE trades ADD CONSTRAINT trades_venue_symbol_exchange_trade_id_key UNIQUE (venue, symbol, exchange_trade_id);

-- RecordTrade's idempotency key becomes venue + U+001F + symbol + U+001F + exchange trade id, under the RPC name
-- 'RecordTrade/symbol-fill'. A retry that straddles this migration still replays: every key of the previous form that
-- recorded a trade is copied under its new form, with the same request hash and response.
INSERT INTO idempotency_keys (rpc, key, request_hash, response, created_at)
SELECT 'RecordTrade/symbol-fill', t.venue || chr(31) || t.symbol || chr(31) || t.exchange_trade_id, k.request_hash, k.response, k.created_at
FROM idempotency_keys k
JOIN trades t ON k.key = t.venue || chr(31) || t.exchange_trade_id
WHERE k.rpc = 'RecordTrade/fill'
ON CONFLICT DO NOTHING;
