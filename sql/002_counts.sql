-- repeatable: every statement is idempotent, so the service runs this file on every start.
-- Counts kept beside the rows, so that no request has to scan the tweets table: the collector updates
-- them in the same transaction as the rows they count. Plain tables and INSERT ... ON DUPLICATE KEY
-- UPDATE, no triggers: MySQL-compatible distributed databases accept them as they are.

-- The version of the stored data: every write the API can show bumps it, in the writing transaction.
-- Cached responses are valid for one version; replicas compare versions, not clocks.
CREATE TABLE IF NOT EXISTS data_version (
  id TINYINT UNSIGNED NOT NULL,
  version BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (id) -- the one row, read before every cached answer
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- A random start: a database created again never repeats the versions (and ETags) of the one before.
INSERT IGNORE INTO data_version (id, version) VALUES (1, FLOOR(RAND() * 4611686018427387904));

-- Per hashtag, language and quarter hour of the day (UTC, 0-95): the (tweet, hashtag) rows, and the
-- tweets counted here once over all hashtags (each tweet at its first stored row), so that
-- /tweets/by_hour without hash counts a tweet under two hashtags once. Quarter hours let by_hour
-- shift into any UTC offset in use (they are all multiples of 15 minutes).
CREATE TABLE IF NOT EXISTS hashtag_counts (
  hashtag VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  lang VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  quarter SMALLINT UNSIGNED NOT NULL,
  tweets INT UNSIGNED NOT NULL,
  first_seen INT UNSIGNED NOT NULL,
  PRIMARY KEY (hashtag, lang, quarter) -- /tweets/by_hour, /tweets/by_lang, /hashtags/all
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Recorded as applied (see 000_migrations.sql).
INSERT IGNORE INTO schema_migrations (name) VALUES ('002_counts');
