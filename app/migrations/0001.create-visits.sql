-- phase: expand
-- The visits table; release 1 records where each visit came from (client).
CREATE TABLE visits (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    client text
);
