-- 005_search_indexes: what the status and search endpoints (contract
-- §12.1-§12.3) read, each query by an index in newest-first order without
-- sorting the account's history (docs/OPERATIONS.md "Search and lookups").
-- Generated VIRTUAL columns: computed from the stored ones, nothing to
-- write for the producers; only their indexes are stored.
--   from_lc      the sender's bare address (inside <> when given), lowercase
--   from_domain  its domain
--   addr_domain  the recipient's domain (addr is already bare and lowercase)
-- The (account, key, received_at, rid) indexes replace the narrower
-- (account, key) ones they extend.

ALTER TABLE message
  ADD COLUMN from_lc VARCHAR(320)
    AS (LOWER(TRIM(TRAILING '>' FROM TRIM(SUBSTRING_INDEX(mail_from, '<', -1))))) VIRTUAL,
  ADD COLUMN from_domain VARCHAR(320)
    AS (SUBSTRING_INDEX(LOWER(TRIM(TRAILING '>' FROM TRIM(SUBSTRING_INDEX(mail_from, '<', -1)))), '@', -1)) VIRTUAL,
  ADD COLUMN addr_domain VARCHAR(254) AS (SUBSTRING_INDEX(addr, '@', -1)) VIRTUAL,
  DROP INDEX message_account_received,
  DROP INDEX message_account_addr,
  DROP INDEX message_account_from,
  ADD KEY message_account_received (account_id, received_at, rid),
  ADD KEY message_account_addr (account_id, addr, received_at, rid),
  ADD KEY message_account_addr_domain (account_id, addr_domain, received_at, rid),
  ADD KEY message_account_sender (account_id, from_lc, received_at, rid),
  ADD KEY message_account_sender_domain (account_id, from_domain, received_at, rid);
