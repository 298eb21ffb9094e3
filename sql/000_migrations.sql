-- repeatable: every statement is idempotent, so the service runs this file on every start.
-- The record of which schema files have been applied to this database, in file-name order. Every
-- other file ends by recording itself here; the service applies, at start and under the schema
-- lock, only the files not recorded yet, and the MySQL container's first boot runs them all once.
-- A file is never changed once released: a change of the schema is a new file.
CREATE TABLE IF NOT EXISTS schema_migrations (
  name VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) COMMENT 'UTC',
  PRIMARY KEY (name) -- one row per applied file
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
