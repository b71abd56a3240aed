-- V0010: drop an index nothing reads. Released migrations are never edited.

-- V0001's index on pnl_snapshots (equity DESC, taken_at) served GetPeakEquity until V0008, which reads the peak of
-- equity less the transfers booked before each snapshot from pnl_snapshots_by_equity_less_transfers. Since then it is
-- only written: every snapshot (one per margin-monitor tick) paid for its upkeep. Dropping it takes a short lock on the
-- table and frees its pages; no query plan uses it.
DROP INDEX IF EXISTS pnl_snapshots_by_equity;
