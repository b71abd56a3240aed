-- V0012: the asset each trade's commission was paid in. Released migrations are never edited.

-- Binance charges a USD-M commission in BNB (at a discount) when the account turns its BNB fee discount on and holds
-- the BNB: the fill's commissionAsset is then BNB and its commission a BNB amount. Until now every fee was taken for
-- USDT, so such a fill booked BNB units as dollars. Each trade now keeps its commission as the venue charged it, with
-- its asset; a position's fees (and so the day's) stay the USDT the wallet paid. Every row before this was booked as
-- USDT. A constant default adds the column without rewriting the table.
ALTER TABLE trades ADD COLUMN fee_asset varchar(16) NOT NULL DEFAULT 'USDT' CHECK (fee_asset ~ '^[A-Z0-9]{2,16}$');
