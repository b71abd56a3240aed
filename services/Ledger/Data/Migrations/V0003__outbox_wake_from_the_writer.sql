-- V0003: the outbox no longer NOTIFYs from a trigger. Released migrations are never edited; add a new file instead.

-- A NOTIFY inside a writing transaction takes PostgreSQL's notify-queue lock at commit, which serializes every
-- writing commit of the database, and wakes the relay once per write. The Ledger now wakes its own relay in process
-- after the commit and sends NOTIFY ledger_outbox itself, coalesced and after the commit, only when another instance
-- holds the relay (OutboxNotifier). The relay still LISTENs on ledger_outbox.
DROP TRIGGER outbox_inserted ON outbox;
DROP FUNCTION outbox_notify();
