-- repeatable: every statement is idempotent, so the service runs this file on every start.
-- Schema of twitter-hashtags. Applied in file-name order by the MySQL container on first boot
-- (docker-entrypoint-initdb.d, inside MYSQL_DATABASE) and by the service on every start.
-- Every statement is idempotent (IF NOT EXISTS) and portable: MySQL 8.4, MariaDB 10.11 and
-- MySQL-compatible distributed databases (no triggers, procedures or engine-specific options).
-- utf8mb4 everywhere: tweets carry emoji and other 4-byte characters.

-- Tracked hashtags, lowercase and without '#', with what the collector needs to resume.
CREATE TABLE IF NOT EXISTS hashtags (
  tag VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  newest_id BIGINT UNSIGNED NULL COMMENT 'since_id of the next collection',
  last_collected_at DATETIME(3) NULL COMMENT 'end of the last collection, UTC',
  last_outcome VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'how the last collection ended (ok, truncated, rate_limited, ...: HashtagOutcome); in_progress while it runs',
  last_result_count INT UNSIGNED NULL COMMENT 'tweets returned by the last collection',
  last_success_at DATETIME(3) NULL COMMENT 'end of the last successful collection, UTC',
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (tag)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Authors of stored tweets; follower counts are refreshed on every collection.
CREATE TABLE IF NOT EXISTS users (
  id BIGINT UNSIGNED NOT NULL,
  username VARCHAR(64) NOT NULL,
  name VARCHAR(255) NOT NULL,
  followers_count BIGINT UNSIGNED NOT NULL DEFAULT 0,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id), -- /users/all pages in id order
  KEY users_by_followers (followers_count DESC, id) -- /users/top5: most followers first, ties by id
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- One row per (tweet, tracked hashtag): a tweet carrying #devops and #sre has two rows.
CREATE TABLE IF NOT EXISTS tweets (
  id BIGINT UNSIGNED NOT NULL,
  hashtag VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  author_id BIGINT UNSIGNED NOT NULL,
  lang VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  text TEXT NOT NULL,
  created_at DATETIME(3) NOT NULL COMMENT 'UTC',
  PRIMARY KEY (id, hashtag), -- /tweets/all pages newest first, and every tweet's list of hashtags
  KEY tweets_by_hashtag (hashtag, id), -- /tweets?hash= pages
  KEY tweets_by_lang (lang, id), -- /tweets?lang= pages
  KEY tweets_by_hashtag_lang (hashtag, lang, id), -- /tweets?hash=&lang= pages
  KEY tweets_by_author (author_id, id), -- /tweets?author_id= pages, alone or with other filters
  CONSTRAINT tweets_hashtag_fk FOREIGN KEY (hashtag) REFERENCES hashtags (tag),
  CONSTRAINT tweets_author_fk FOREIGN KEY (author_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Recorded as applied (see 000_migrations.sql).
INSERT IGNORE INTO schema_migrations (name) VALUES ('001_schema');
