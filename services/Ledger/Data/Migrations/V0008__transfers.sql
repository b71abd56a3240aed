-- V0008: transfers into and out of the futures account, and each snapshot's net of them. Released migrations are never edited.

-- A deposit or a withdrawal (the venue's TRANSFER income) moves equity without being trading PnL. Booked once per venue
-- and transfer id (the venue's tranId), whatever idempotency key it arrives with. Signed: positive into the account.
CREATE TABLE transfers (
    transfer_id     uuid          PRIMARY KEY,
    venue           varchar(32)   NOT NULL,
    tran_id         varchar(64)   NOT NULL,
    asset           varchar(16)   NOT NULL,
    amount          numeric(28,8) NOT NULL CHECK (amount <> 0),
    transferred_at  timestamptz   NOT NULL,
    recorded_at     timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (venue, tran_id)
);
CREATE INDEX transfers_by_time ON transfers (transferred_at);

-- The net of the transfers booked with transferred_at <= taken_at: set when the snapshot is written, and moved by every
-- transfer booked later with a time at or before it (LogTransfer). equity - transfers_before ranks snapshots in today's
-- money (adding the net of every transfer, a constant, changes no order), so the peak is one read of this index.
-- Existing snapshots start at 0: no transfer was booked before this migration.
ALTER TABLE pnl_snapshots ADD COLUMN transfers_before numeric(28,8) NOT NULL DEFAULT 0;
CREATE INDEX pnl_snapshots_by_equity_less_transfers ON pnl_snapshots ((equity - transfers_before) DESC, taken_at);
