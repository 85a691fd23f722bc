-- phase: contract
-- Nothing from release 2 on reads or writes client: drop it. Release 1 reads it, so this can
-- only run once release 1 can no longer be rolled back to (after release 2 is finalized).
ALTER TABLE visits DROP COLUMN client;
