-- 002_jobs: jobs (acceptance records), idempotency keys, message state,
-- events, suppression, deliveries, webhooks, reports, trace store.
-- message, event and trace_store are partitioned by the job's UTC day of
-- acceptance (rday); "txmailctl db partitions" splits the catch-all
-- partition into daily ones ahead of time and drops expired days.

CREATE TABLE job (
  job_id        CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  account_id    BIGINT NOT NULL,
  entry         VARCHAR(4) NOT NULL COMMENT 'rest | smtp',
  received_at   DATETIME(3) NOT NULL,
  idem_key      VARCHAR(255) CHARACTER SET ascii NULL,
  http_status   SMALLINT NOT NULL DEFAULT 200,
  answer        MEDIUMTEXT NOT NULL COMMENT 'the synchronous answer, byte for byte',
  mail_from     VARCHAR(320) NOT NULL,
  reference_job VARCHAR(50) NULL,
  cost_center   VARCHAR(50) NULL,
  campaign_id   VARCHAR(50) NULL,
  notification  TEXT NULL COMMENT 'JSON endpoint; password encrypted',
  slip          VARCHAR(255) CHARACTER SET ascii NOT NULL,
  recipients    INT NOT NULL DEFAULT 0,
  parent_job_id CHAR(36) CHARACTER SET ascii NULL COMMENT 'follow-up jobs',
  KEY job_account_received (account_id, received_at),
  KEY job_parent (parent_job_id),
  KEY job_received (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE idempotency (
  account_id  BIGINT NOT NULL,
  idem_key    VARCHAR(255) CHARACTER SET ascii NOT NULL,
  state       VARCHAR(8) NOT NULL COMMENT 'pending | done',
  job_id      CHAR(36) CHARACTER SET ascii NULL,
  owner       CHAR(36) CHARACTER SET ascii NOT NULL COMMENT 'request that holds the key',
  created_at  DATETIME(3) NOT NULL,
  expires_at  DATETIME(3) NOT NULL,
  PRIMARY KEY (account_id, idem_key),
  KEY idempotency_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE message (
  rid           CHAR(54) CHARACTER SET ascii NOT NULL,
  rday          DATE NOT NULL,
  job_id        CHAR(36) CHARACTER SET ascii NOT NULL,
  account_id    BIGINT NOT NULL,
  block_index   INT NOT NULL,
  addr_index    INT NOT NULL,
  kind          VARCHAR(3) NOT NULL DEFAULT 'to' COMMENT 'to | cc | bcc',
  email         VARCHAR(320) NOT NULL COMMENT 'as submitted, trimmed',
  addr          VARCHAR(254) NOT NULL COMMENT 'bare address, lowercase',
  mail_from     VARCHAR(320) NOT NULL COMMENT 'as submitted',
  mime_from     VARCHAR(320) NULL,
  rewrite_from  VARCHAR(254) NULL,
  reference     VARCHAR(50) NULL,
  message_id    VARCHAR(400) NULL,
  entry         VARCHAR(4) NOT NULL,
  received_at   DATETIME(3) NOT NULL,
  last_phase    VARCHAR(16) NULL,
  last_state    VARCHAR(16) NULL,
  last_type     VARCHAR(24) NULL,
  last_subtype  VARCHAR(32) NULL,
  last_ts       DATETIME(3) NULL,
  final_at      DATETIME(3) NULL,
  size          INT NOT NULL DEFAULT 0,
  smtp_code     CHAR(3) NULL,
  deferrals     INT NOT NULL DEFAULT 0,
  provisioning_id BIGINT NULL COMMENT 'sender_domain.id used',
  trace_until   DATETIME(3) NULL,
  PRIMARY KEY (rid, rday),
  KEY message_job (job_id),
  KEY message_account_received (account_id, received_at),
  KEY message_account_final (account_id, final_at),
  KEY message_account_addr (account_id, addr),
  KEY message_account_from (account_id, mail_from(64)),
  KEY message_msgid (message_id(100))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  PARTITION BY RANGE COLUMNS (rday) (PARTITION pmax VALUES LESS THAN (MAXVALUE));

CREATE TABLE event (
  tag          CHAR(64) CHARACTER SET ascii NOT NULL,
  rday         DATE NOT NULL,
  seq          BIGINT NOT NULL AUTO_INCREMENT,
  rid          CHAR(54) CHARACTER SET ascii NOT NULL,
  job_id       CHAR(36) CHARACTER SET ascii NOT NULL,
  account_id   BIGINT NOT NULL,
  phase        VARCHAR(16) NOT NULL,
  state        VARCHAR(16) NOT NULL,
  type         VARCHAR(24) NOT NULL,
  subtype      VARCHAR(32) NOT NULL,
  ts           DATETIME(3) NOT NULL,
  event_key    VARCHAR(40) NOT NULL,
  description  TEXT NULL,
  notification MEDIUMTEXT NOT NULL COMMENT 'the element of notifications[] as posted',
  PRIMARY KEY (tag, rday),
  KEY event_seq (seq),
  KEY event_rid (rid),
  KEY event_account_ts (account_id, ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  PARTITION BY RANGE COLUMNS (rday) (PARTITION pmax VALUES LESS THAN (MAXVALUE));

CREATE TABLE suppression (
  account_id      BIGINT NOT NULL,
  address         VARCHAR(254) NOT NULL COMMENT 'lowercase, trimmed',
  type            VARCHAR(24) NOT NULL COMMENT 'PREVIOUSLY_BOUNCED | TEMPORARY_SUPPRESSED | MANUAL | UNSUBSCRIBED',
  created_at      DATETIME(3) NOT NULL,
  last_attempt_at DATETIME(3) NULL,
  expires_at      DATETIME(3) NULL COMMENT 'NULL = without end',
  lifetime_s      BIGINT NULL COMMENT 'reset length for types that reset on attempts',
  reason          TEXT NULL,
  rid             CHAR(54) CHARACTER SET ascii NULL,
  PRIMARY KEY (account_id, address),
  KEY suppression_account_created (account_id, created_at),
  KEY suppression_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE delivery_record (
  rid         CHAR(54) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  account_id  BIGINT NOT NULL,
  state       VARCHAR(8) NOT NULL COMMENT 'sent',
  smtp_code   CHAR(3) NULL,
  reply       TEXT NULL,
  host        VARCHAR(300) NULL,
  at          DATETIME(3) NOT NULL,
  KEY delivery_record_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE webhook_delivery (
  id            BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  account_id    BIGINT NOT NULL,
  tag           CHAR(64) CHARACTER SET ascii NOT NULL,
  job_id        CHAR(36) CHARACTER SET ascii NOT NULL,
  rid           CHAR(54) CHARACTER SET ascii NOT NULL,
  url           VARCHAR(1000) NOT NULL,
  state         VARCHAR(12) NOT NULL COMMENT 'dead | redelivered',
  attempts      INT NOT NULL,
  first_attempt_at DATETIME(3) NOT NULL,
  last_attempt_at  DATETIME(3) NOT NULL,
  last_result   VARCHAR(300) NOT NULL,
  notification  MEDIUMTEXT NOT NULL,
  created_at    DATETIME(3) NOT NULL,
  UNIQUE KEY webhook_delivery_tag (account_id, tag),
  KEY webhook_delivery_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE report (
  account_id  BIGINT NOT NULL,
  day         DATE NOT NULL,
  `rows`      INT NOT NULL,
  parts       INT NOT NULL,
  created_at  DATETIME(3) NOT NULL,
  PRIMARY KEY (account_id, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE report_part (
  account_id  BIGINT NOT NULL,
  day         DATE NOT NULL,
  part        INT NOT NULL,
  csv         LONGBLOB NOT NULL,
  PRIMARY KEY (account_id, day, part)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE trace_store (
  rid          CHAR(54) CHARACTER SET ascii NOT NULL,
  rday         DATE NOT NULL,
  account_id   BIGINT NOT NULL,
  stored_until DATETIME(3) NOT NULL,
  envelope     MEDIUMTEXT NOT NULL COMMENT 'JSON: sender, recipient, options',
  raw          LONGBLOB NOT NULL COMMENT 'the built message',
  PRIMARY KEY (rid, rday),
  KEY trace_store_until (stored_until)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  PARTITION BY RANGE COLUMNS (rday) (PARTITION pmax VALUES LESS THAN (MAXVALUE));
