-- V0009: a risk event names the event it is about, and risk events are read back by type, newest first. Released
-- migrations are never edited.

-- The id of the event a record is about (e.g. the MarginAlertRaised event id of a margin alert): a restarted Risk reads
-- its last margin alert back and publishes that alert again under the same id, which Execution's inbox takes as done.
ALTER TABLE risk_events ADD COLUMN correlation_id uuid NULL;

-- GetRiskEvents: one type's newest events in index order, paged by (occurred_at, risk_event_id) descending. A read of
-- several types (Risk's three margin types at start) takes those types' rows from it and sorts them: risk events are few.
CREATE INDEX risk_events_by_type_newest ON risk_events (event_type, occurred_at DESC, risk_event_id DESC);
