-- keyrelay schema, version 7: whether a message's sender has had its delay warning (queue.delay_warning), so it
-- gets one, not one per attempt. Portable SQL (PostgreSQL and H2).

ALTER TABLE queue_messages ADD COLUMN delay_warned BOOLEAN DEFAULT FALSE NOT NULL;
