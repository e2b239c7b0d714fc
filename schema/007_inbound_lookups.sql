-- 007_inbound_lookups: the bounce domains' MX (txmail-smtpd with
-- smtpd_policy = inbound) looks up every RCPT it has not cached: which
-- account's sender domain has this bounce domain, which account maps this
-- rewrite address. Both compare case-insensitively; a lowercase STORED
-- copy with an index answers them without reading the whole table, so
-- mail to random addresses costs an index probe, not a scan.
ALTER TABLE sender_domain
  ADD COLUMN bounce_domain_lc VARCHAR(253) CHARACTER SET ascii
    AS (LOWER(bounce_domain)) STORED,
  ADD KEY sender_domain_bounce (bounce_domain_lc);

ALTER TABLE envelope_rewrite
  ADD COLUMN rewrite_from_lc VARCHAR(254) AS (LOWER(rewrite_from)) STORED,
  ADD KEY envelope_rewrite_from (rewrite_from_lc);
