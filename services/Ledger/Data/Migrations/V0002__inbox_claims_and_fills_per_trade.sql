-- V0002: inbox claims with leases, and one trade row per fill. Released migrations are never edited; add a new file instead.

-- The inbox becomes a claim table (ClaimInbox / CompleteInbox / ReleaseInbox): a consumer claims an event before it
-- acts, for a lease; completing marks it processed, releasing (the work failed) deletes the claim, and an expired
-- lease may be claimed again. Rows written by RecordInbox, and every row before this migration, are processed.
ALTER TABLE inbox
    ADD COLUMN status       varchar(12)  NOT NULL DEFAULT 'processed' CHECK (status IN ('in_progress', 'processed')),
    ADD COLUMN claim_token  uuid,
    ADD COLUMN claimed_at   timestamptz,
    ADD COLUMN lease_until  timestamptz,
    ADD COLUMN claims       integer      NOT NULL DEFAULT 0;
ALTER TABLE inbox ALTER COLUMN processed_at DROP NOT NULL;
ALTER TABLE inbox ADD CONSTRAINT inbox_status_consistent CHECK (
    (status = 'processed' AND processed_at IS NOT NULL)
    OR (status = 'in_progress' AND processed_at IS NULL AND claim_token IS NOT NULL AND lease_until IS NOT NULL));

-- A market order can fill in several trades: a fill is identified by its venue and exchange trade id (already
-- unique), and the client order id is an ordinary, repeatable column.
ALTER TABLE trades DROP CONSTRAINT trades_client_order_id_key;
CREATE INDEX trades_by_client_order_id ON trades (client_order_id);

-- RecordTrade's idempotency key becomes venue + U+001F + exchange trade id, under the RPC name 'RecordTrade/fill'
-- (a namespace of its own, so no old client-order-id key can collide with a new key). A retry that straddles this
-- migration still replays: every old key that recorded a trade is copied under its new key, with the same request
-- hash and response.
INSERT INTO idempotency_keys (rpc, key, request_hash, response, created_at)
SELECT 'RecordTrade/fill', t.venue || chr(31) || t.exchange_trade_id, k.request_hash, k.response, k.created_at
FROM idempotency_keys k
JOIN trades t ON t.client_order_id = k.key
WHERE k.rpc = 'RecordTrade'
ON CONFLICT DO NOTHING;
