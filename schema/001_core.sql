-- 001_core: configuration tables (accounts, credentials, sender domains).
-- Forward-only: never edit an applied migration; add a new one.

CREATE TABLE account (
  id                BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name              VARCHAR(100) NOT NULL,
  customer_no       VARCHAR(50) NOT NULL DEFAULT '',
  tenant            VARCHAR(100) NULL,
  capacity_per_hour INT NOT NULL DEFAULT 0 COMMENT '0 = unlimited',
  settings          MEDIUMTEXT NOT NULL COMMENT 'JSON: enabled features, defaults, limits, forbidden lists',
  notify_url        VARCHAR(1000) NULL COMMENT 'default notification endpoint',
  notify_headers    TEXT NULL COMMENT 'JSON object of custom headers',
  notify_user       VARCHAR(100) NULL,
  notify_password   VARBINARY(512) NULL COMMENT 'encrypted (master key)',
  webhook_secret    VARBINARY(512) NOT NULL COMMENT 'encrypted (master key)',
  webhook_secret_prev VARBINARY(512) NULL COMMENT 'encrypted; valid during rotation',
  webhook_secret_rotated_at DATETIME(3) NULL,
  created_at        DATETIME(3) NOT NULL,
  disabled          TINYINT NOT NULL DEFAULT 0,
  UNIQUE KEY account_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE credential (
  id           BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  account_id   BIGINT NOT NULL,
  username     VARCHAR(100) NOT NULL,
  pw_hash      VARCHAR(255) NOT NULL COMMENT 'pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>',
  allowed_ips  TEXT NULL COMMENT 'comma-separated IPv4/IPv6 addresses; NULL = any',
  ip_auth      TINYINT NOT NULL DEFAULT 0 COMMENT 'SMTP: authenticate by source IP',
  created_at   DATETIME(3) NOT NULL,
  disabled     TINYINT NOT NULL DEFAULT 0,
  UNIQUE KEY credential_user (username),
  KEY credential_account (account_id),
  CONSTRAINT credential_account_fk FOREIGN KEY (account_id) REFERENCES account (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE sender_domain (
  id                BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  account_id        BIGINT NOT NULL,
  domain            VARCHAR(253) CHARACTER SET ascii NOT NULL COMMENT 'lowercase A-label',
  dkim_selector     VARCHAR(63) CHARACTER SET ascii NULL,
  dkim_key          BLOB NULL COMMENT 'encrypted PEM private key (RSA)',
  dkim_public       TEXT NULL COMMENT 'base64 public key as published',
  dkim_ed_selector  VARCHAR(63) CHARACTER SET ascii NULL,
  dkim_ed_key       BLOB NULL COMMENT 'encrypted PEM private key (Ed25519)',
  dkim_ed_public    TEXT NULL,
  dkim_policy       VARCHAR(10) NOT NULL DEFAULT 'deliver' COMMENT 'deliver | drop',
  tls_enforced      TINYINT NOT NULL DEFAULT 0,
  relay_host        VARCHAR(255) NULL COMMENT 'host[:port]: Relay Service',
  ip_pool           VARCHAR(64) NULL,
  tracking_host     VARCHAR(255) NULL COMMENT 'base URL of a customer CNAME',
  bounce_domain     VARCHAR(253) CHARACTER SET ascii NULL,
  message_id_domain VARCHAR(253) CHARACTER SET ascii NULL,
  archive_bcc       VARCHAR(254) NULL,
  settings          TEXT NULL COMMENT 'JSON: further per-domain defaults',
  created_at        DATETIME(3) NOT NULL,
  UNIQUE KEY sender_domain_account (account_id, domain),
  KEY sender_domain_name (domain),
  CONSTRAINT sender_domain_account_fk FOREIGN KEY (account_id) REFERENCES account (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE envelope_rewrite (
  account_id   BIGINT NOT NULL,
  from_addr    VARCHAR(254) NOT NULL COMMENT 'lowercase bare address',
  rewrite_from VARCHAR(254) NOT NULL,
  PRIMARY KEY (account_id, from_addr),
  CONSTRAINT envelope_rewrite_account_fk FOREIGN KEY (account_id) REFERENCES account (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
