-- 008_smime: S/MIME signing certificates (contract §16.5). One per account
-- and sender address (the From address, lowercase bare); txmail-smime signs
-- with it, "txmailctl smime add|list|remove" manages it. The chain is public
-- PEM; the private key is encrypted under master_key_file
-- (crypto_secret_encrypt: "v1:" + base64), never stored or shown in clear.
CREATE TABLE smime_cert (
  account_id  BIGINT NOT NULL,
  address     VARCHAR(254) NOT NULL COMMENT 'lowercase bare sender address',
  cert_pem    MEDIUMTEXT CHARACTER SET ascii NOT NULL COMMENT 'signer certificate, PEM',
  chain_pem   MEDIUMTEXT CHARACTER SET ascii NULL COMMENT 'intermediate certificates, PEM',
  key_enc     BLOB NOT NULL COMMENT 'encrypted PEM private key',
  subject     VARCHAR(1024) NULL,
  fingerprint CHAR(64) CHARACTER SET ascii NOT NULL COMMENT 'SHA-256 of the DER certificate',
  not_before  DATETIME(3) NOT NULL,
  not_after   DATETIME(3) NOT NULL,
  created_at  DATETIME(3) NOT NULL,
  PRIMARY KEY (account_id, address),
  CONSTRAINT smime_cert_account_fk FOREIGN KEY (account_id) REFERENCES account (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
