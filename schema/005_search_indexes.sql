-- 005_search_indexes: what the status and search endpoints (contract
-- §12.1-§12.3) read, each query by an index in newest-first order without
-- sorting the account's history (docs/OPERATIONS.md "Search and lookups").
-- Generated STORED columns (computed by MariaDB on every write, nothing
-- for the programs to fill). Not VIRTUAL: MariaDB 10.11 loses rows of all
-- but the newest partition when it filters on an indexed VIRTUAL column
-- while reading whole rows in an ordered scan of this partitioned table
-- (case 122 found it); STORED columns are read, not recomputed.
--   from_lc      the sender's bare address (inside <> when given), lowercase
--   from_domain  its domain
--   addr_domain  the recipient's domain (addr is already bare and lowercase)
--   dstate       the delivery state searched by status (contract §12.3):
--                IN_PROGRESS or DEFERRED (no final state yet), else the
--                final type DELIVERED, BOUNCED or DROPPED
-- The (account, key, received_at, rid) indexes replace the narrower
-- (account, key) ones they extend.

ALTER TABLE message
  ADD COLUMN from_lc VARCHAR(320)
    AS (LOWER(TRIM(TRAILING '>' FROM TRIM(SUBSTRING_INDEX(mail_from, '<', -1))))) STORED,
  ADD COLUMN from_domain VARCHAR(320)
    AS (SUBSTRING_INDEX(LOWER(TRIM(TRAILING '>' FROM TRIM(SUBSTRING_INDEX(mail_from, '<', -1)))), '@', -1)) STORED,
  ADD COLUMN addr_domain VARCHAR(254) AS (SUBSTRING_INDEX(addr, '@', -1)) STORED,
  ADD COLUMN dstate VARCHAR(12) CHARACTER SET ascii
    AS (IF(final_at IS NULL, IF(last_type <=> 'DEFERRED', 'DEFERRED', 'IN_PROGRESS'), last_type)) STORED,
  DROP INDEX message_account_received,
  DROP INDEX message_account_addr,
  DROP INDEX message_account_from,
  ADD KEY message_account_received (account_id, received_at, rid),
  ADD KEY message_account_addr (account_id, addr, received_at, rid),
  ADD KEY message_account_addr_domain (account_id, addr_domain, received_at, rid),
  ADD KEY message_account_sender (account_id, from_lc, received_at, rid),
  ADD KEY message_account_sender_domain (account_id, from_domain, received_at, rid),
  ADD KEY message_account_dstate (account_id, dstate, received_at, rid);
