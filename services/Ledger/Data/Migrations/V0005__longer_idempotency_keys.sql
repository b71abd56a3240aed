-- V0005: room for every key the Ledger builds. Released migrations are never edited.

-- RecordTrade's key is venue (<= 32) + U+001F + symbol (<= 32) + U+001F + exchange trade id (<= 64): up to 130
-- characters, two more than the column held, so a trade whose fields were each within their limits failed on the key
-- (SQLSTATE 22001, answered as INTERNAL). Callers' own keys stay limited to 128 by validation. Widening a varchar
-- is a catalog change only: no table rewrite.
ALTER TABLE idempotency_keys ALTER COLUMN key TYPE varchar(160);
