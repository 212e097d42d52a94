-- Recurring expenses: a rule ("rent, 950.00, Housing, on the 1st of each month") makes an
-- expense on each of its days in the family's time zone, each day once, whatever the number
-- of servers: the expense names its rule and the day it was made for, unique together.
CREATE TABLE recurring_rules (
    id           TEXT PRIMARY KEY,
    family_id    TEXT NOT NULL REFERENCES families (id),
    category_id  TEXT NOT NULL REFERENCES categories (id),
    amount_minor BIGINT NOT NULL,
    note         TEXT,
    -- 'week', 'month' or 'year': on starts_on's weekday, day of month (the month's last day
    -- when it is shorter) or date
    every        TEXT NOT NULL,
    -- days, YYYY-MM-DD in the family's time zone, both included
    starts_on    TEXT NOT NULL,
    ends_on      TEXT,
    -- the next day the rule makes an expense on; NULL once it has ended
    next_on      TEXT,
    -- the last day it made an expense for (a change of the rule never makes it again)
    last_on      TEXT,
    created_by   TEXT NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX recurring_rules_family ON recurring_rules (family_id, created_at);
CREATE INDEX recurring_rules_due ON recurring_rules (next_on);

ALTER TABLE expenses ADD COLUMN recurring_id TEXT REFERENCES recurring_rules (id);
ALTER TABLE expenses ADD COLUMN occurrence TEXT;
CREATE UNIQUE INDEX expenses_occurrence ON expenses (recurring_id, occurrence);
