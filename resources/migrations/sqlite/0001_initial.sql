-- Hexsphere world store, schema version 1, SQLite: one file per world.
-- Applied by WorldStore::open() in one transaction and recorded in schema_migrations.
-- The loader splits this file into statements at every line that ends with ';' and
-- skips lines starting with "--": keep one statement per such block, no ';' elsewhere
-- at a line's end.
-- uint64 values (seed, state_hash, tick) are stored as the int64 of the same bits.
CREATE TABLE schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
);

CREATE TABLE worlds (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    seed INTEGER NOT NULL,
    subdivisions INTEGER NOT NULL,
    tick INTEGER NOT NULL DEFAULT 0,
    state_hash INTEGER NOT NULL DEFAULT 0,
    content_version TEXT NOT NULL DEFAULT '',
    token_key BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Several records of a chunk may exist while a flush is under way: the state at a
-- snapshot's tick S is each chunk's record with the largest tick <= S.
CREATE TABLE chunks (
    world INTEGER NOT NULL REFERENCES worlds(id) ON DELETE CASCADE,
    chunk INTEGER NOT NULL,
    tick INTEGER NOT NULL,
    cells BLOB NOT NULL,
    PRIMARY KEY (world, chunk, tick)
);

CREATE TABLE snapshots (
    world INTEGER NOT NULL REFERENCES worlds(id) ON DELETE CASCADE,
    tick INTEGER NOT NULL,
    state_hash INTEGER NOT NULL,
    machines BLOB NOT NULL,
    players BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (world, tick)
);

-- name_key is the lower-cased name: names are unique regardless of case.
CREATE TABLE players (
    world INTEGER NOT NULL REFERENCES worlds(id) ON DELETE CASCADE,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash BLOB,
    player_id INTEGER,
    view BLOB NOT NULL,
    inventory TEXT NOT NULL,
    last_seen TEXT,
    PRIMARY KEY (world, name_key)
);

-- Append-only. kind 0 = join (player, name), 1 = action (the action_* columns, result).
CREATE TABLE events (
    world INTEGER NOT NULL REFERENCES worlds(id) ON DELETE CASCADE,
    tick INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    player INTEGER NOT NULL,
    name TEXT NOT NULL,
    action_kind INTEGER NOT NULL,
    cell INTEGER NOT NULL,
    prototype INTEGER NOT NULL,
    orientation INTEGER NOT NULL,
    recipe INTEGER NOT NULL,
    item INTEGER NOT NULL,
    count INTEGER NOT NULL,
    client_seq INTEGER NOT NULL,
    result INTEGER NOT NULL,
    PRIMARY KEY (world, tick, seq)
);
