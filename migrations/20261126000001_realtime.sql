-- The realtime hub's durable side: chat messages (Redis holds their order and recent history,
-- never the only copy) and the budget alerts already raised (once per category, level, month).
CREATE TABLE chat_messages (
    family_id   TEXT NOT NULL REFERENCES families (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    -- the sender's id for the message: a resend with the same id is the same message
    client_id   TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    -- its place in the family channel, once published
    epoch       TEXT,
    seq         BIGINT,
    PRIMARY KEY (family_id, user_id, client_id)
);
CREATE INDEX chat_messages_family_time ON chat_messages (family_id, created_at);

CREATE TABLE budget_alerts (
    family_id   TEXT NOT NULL REFERENCES families (id),
    category_id TEXT NOT NULL REFERENCES categories (id),
    month       TEXT NOT NULL,
    level       BIGINT NOT NULL,
    raised_at   BIGINT NOT NULL,
    PRIMARY KEY (family_id, category_id, month, level)
);
