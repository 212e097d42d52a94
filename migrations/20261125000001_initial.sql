-- Hearth's system of record. Written in the SQL that SQLite and PostgreSQL share:
-- ids are UUID text, times are Unix milliseconds, money is BIGINT minor units.
CREATE TABLE families (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    currency    TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    invite_code TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    family_id     TEXT REFERENCES families (id),
    role          TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX users_family ON users (family_id);

CREATE TABLE categories (
    id         TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES families (id),
    name       TEXT NOT NULL,
    color      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (family_id, name)
);

-- A limit set for a month holds for the months after it until another is set.
CREATE TABLE budget_limits (
    family_id   TEXT NOT NULL REFERENCES families (id),
    category_id TEXT NOT NULL REFERENCES categories (id),
    month       TEXT NOT NULL,
    limit_minor BIGINT NOT NULL,
    PRIMARY KEY (family_id, category_id, month)
);

CREATE TABLE expenses (
    id           TEXT PRIMARY KEY,
    family_id    TEXT NOT NULL REFERENCES families (id),
    category_id  TEXT NOT NULL REFERENCES categories (id),
    amount_minor BIGINT NOT NULL,
    note         TEXT,
    spent_on     TEXT NOT NULL,
    created_by   TEXT NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    -- what the creating request said, so a replay with another body is told apart
    body_hash    TEXT NOT NULL
);
CREATE INDEX expenses_family_day ON expenses (family_id, spent_on);
