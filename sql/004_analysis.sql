-- repeatable: every statement is idempotent, so the service runs this file on every start.
-- What the analysis endpoints read: per-tweet metrics, every hashtag a tweet carries, and counts over
-- time kept beside the rows (like 002_counts.sql) so that no request over a long range reads the
-- range's tweets. The collector writes all of them in the transaction of the page they come from.

-- One row per tweet, whatever number of tracked hashtags it is stored under: its public metrics as
-- last collected (by the search that found it, then by lookups while it is young), and the facts of
-- the tweet that /tweets/top filters on, so that the ranking reads this table alone. A tweet stored
-- before metrics were collected has no row until a lookup measures it.
CREATE TABLE IF NOT EXISTS tweet_metrics (
  id BIGINT UNSIGNED NOT NULL,
  created_at DATETIME(3) NOT NULL COMMENT 'UTC, as in tweets',
  lang VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'as in tweets',
  kind VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'as in tweets',
  likes BIGINT UNSIGNED NOT NULL,
  retweets BIGINT UNSIGNED NOT NULL,
  replies BIGINT UNSIGNED NOT NULL,
  quotes BIGINT UNSIGNED NOT NULL,
  impressions BIGINT UNSIGNED NULL COMMENT 'NULL when the API did not give it (older posts, some access levels)',
  engagement BIGINT UNSIGNED NOT NULL COMMENT 'likes + retweets + replies + quotes',
  updated_at DATETIME(3) NOT NULL COMMENT 'UTC, when the metrics were read from the API',
  PRIMARY KEY (id), -- a page's metrics, a tweet's refresh
  KEY metrics_by_likes (likes, id), -- /tweets/top?by=likes, walked from the top, ties newest first
  KEY metrics_by_retweets (retweets, id), -- /tweets/top?by=retweets
  KEY metrics_by_replies (replies, id), -- /tweets/top?by=replies
  KEY metrics_by_quotes (quotes, id), -- /tweets/top?by=quotes
  KEY metrics_by_engagement (engagement, id), -- /tweets/top?by=engagement
  KEY metrics_by_age (created_at) -- which tweets are young enough to refresh
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Every hashtag a tweet carries, tracked or not, lowercase and without '#'.
CREATE TABLE IF NOT EXISTS tweet_hashtags (
  id BIGINT UNSIGNED NOT NULL,
  tag VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (id, tag) -- the hashtags of the tweets at the edges of a range
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Tweets per tracked hashtag, language, kind and quarter hour (counted from 1970-01-01 UTC), and
-- their sums: an empty hashtag counts every tweet once (at its first stored row), an empty lang every
-- language, an empty kind every kind. Any filter of hashtag, lang and kind is then one row per quarter
-- hour; quarter hours align with every UTC offset in use.
CREATE TABLE IF NOT EXISTS tweet_counts (
  hashtag VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  lang VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  kind VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  quarter INT UNSIGNED NOT NULL,
  tweets INT UNSIGNED NOT NULL,
  PRIMARY KEY (hashtag, lang, kind, quarter), -- timelines, by_hour and hashtags/all within a range
  KEY counts_by_time (kind, quarter) -- by_lang within a range
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Per tracked hashtag and hour (counted from 1970-01-01 UTC): how many of its tweets carry each
-- other hashtag.
CREATE TABLE IF NOT EXISTS related_counts (
  hashtag VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  hour INT UNSIGNED NOT NULL,
  related VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  tweets INT UNSIGNED NOT NULL,
  PRIMARY KEY (hashtag, hour, related) -- /hashtags/{tag}/related within a range
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Recorded as applied (see 000_migrations.sql).
INSERT IGNORE INTO schema_migrations (name) VALUES ('004_analysis');
