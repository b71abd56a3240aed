-- V0007: an index for the positions closed since an instant. Released migrations are never edited.

-- GetPositions with closed_since (Execution's reconciliation and resumed closes, Funding's accrual pass over the
-- backfill window) wants the few positions closed lately, newest opened first. With only (opened_at DESC, position_id
-- DESC) indexed, PostgreSQL walked that index, or scanned the table, through every position ever closed to find them:
-- the cost grew with the whole history, not with the answer. Open positions have no closed_at and are left out.
CREATE INDEX positions_by_closed_at ON positions (closed_at) WHERE closed_at IS NOT NULL;
