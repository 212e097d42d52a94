-- Savings challenges a member invites the family to, who took part, and the achievements the
-- family earned (each once: its key is unique per family).
CREATE TABLE challenges (
    id           TEXT PRIMARY KEY,
    family_id    TEXT NOT NULL REFERENCES families (id),
    created_by   TEXT NOT NULL REFERENCES users (id),
    -- 'category_cap' (keep one category under a limit) or 'no_spend' (spend nothing)
    kind         TEXT NOT NULL,
    category_id  TEXT REFERENCES categories (id),
    limit_minor  BIGINT,
    -- the days it covers, both included, YYYY-MM-DD in the family's time zone
    starts_on    TEXT NOT NULL,
    ends_on      TEXT NOT NULL,
    -- 'active', then 'won' or 'lost' once settled
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX challenges_family ON challenges (family_id, created_at);

CREATE TABLE challenge_members (
    challenge_id TEXT NOT NULL REFERENCES challenges (id),
    user_id      TEXT NOT NULL REFERENCES users (id),
    joined_at    BIGINT NOT NULL,
    PRIMARY KEY (challenge_id, user_id)
);

CREATE TABLE achievements (
    family_id   TEXT NOT NULL REFERENCES families (id),
    key         TEXT NOT NULL,
    title       TEXT NOT NULL,
    awarded_at  BIGINT NOT NULL,
    PRIMARY KEY (family_id, key)
);
