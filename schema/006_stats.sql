-- 006_stats: the live counters of GET /email/v2/stats (contract §12.4),
-- written by txmail-monitor (workers/monitor) from events.monitor: one row
-- per account, UTC minute and counter, added to with
-- INSERT ... ON DUPLICATE KEY UPDATE n = n + VALUES(n). Counters:
-- accepted, delivered, deferred, bounced.HARD_BOUNCE, bounced.SOFT_BOUNCE,
-- dropped.<subType>, opened, clicked, unsubscribed, complaints.
-- txmail-monitor deletes rows older than 45 days (monitor_retention).
-- The stats query reads a range of one account's minutes (primary key);
-- the retention sweep reads by minute (stat_minute_minute).
CREATE TABLE stat_minute (
  account_id  BIGINT NOT NULL,
  minute      DATETIME NOT NULL COMMENT 'UTC, start of the minute',
  counter     VARCHAR(48) CHARACTER SET ascii NOT NULL,
  n           BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, minute, counter),
  KEY stat_minute_minute (minute)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
