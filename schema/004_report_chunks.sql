-- 004_report_chunks: daily reports stored in bounded pieces (txmail-report,
-- lib/global/report/). A part's CSV is written as report_chunk rows of at
-- most 1 MiB each (seq 0, 1, ...), so neither the writer nor a reader ever
-- holds a whole part and max_allowed_packet never matters; report_part
-- keeps each part's row count, byte count and chunk count. A build
-- replaces a day's report, parts and chunks in one transaction.
-- report_schedule: the claim of the one process that publishes a day's
-- report jobs (published_at NULL until every job is confirmed).
ALTER TABLE report_part
  DROP COLUMN csv,
  ADD COLUMN `rows`  INT NOT NULL DEFAULT 0 COMMENT 'data rows, without the header',
  ADD COLUMN bytes   BIGINT NOT NULL DEFAULT 0 COMMENT 'CSV bytes of the part',
  ADD COLUMN chunks  INT NOT NULL DEFAULT 0 COMMENT 'report_chunk rows of the part';

CREATE TABLE report_chunk (
  account_id  BIGINT NOT NULL,
  day         DATE NOT NULL,
  part        INT NOT NULL,
  seq         INT NOT NULL,
  data        MEDIUMBLOB NOT NULL,
  PRIMARY KEY (account_id, day, part, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE report_schedule (
  day          DATE NOT NULL PRIMARY KEY,
  owner        VARCHAR(100) NOT NULL COMMENT 'host:pid of the claiming process',
  claimed_at   DATETIME(3) NOT NULL,
  published_at DATETIME(3) NULL,
  accounts     INT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
