-- Tweet kinds, and the indexes that count the edges of a time range. Rows stored before this file
-- were collected without referenced_tweets: a retweet is still recognisable by its text ("RT @user:"
-- is how X writes every retweet's text), every other one stays unknown. Their hashtags are known only
-- as far as they were tracked. The counts of 004_analysis.sql are rebuilt from the rows after this
-- (see src/db/counts.ts).
ALTER TABLE tweets
  ADD COLUMN kind VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'unknown'
    COMMENT 'original, reply, quote or retweet (referenced_tweets); unknown for rows stored before kinds were',
  ADD KEY tweets_by_time (created_at), -- the edges of a range without hash, minute timelines
  ADD KEY tweets_by_hashtag_time (hashtag, created_at); -- the same under one hashtag

UPDATE tweets SET kind = 'retweet' WHERE LEFT(text, 4) COLLATE utf8mb4_bin = 'RT @';

INSERT IGNORE INTO tweet_hashtags (id, tag) SELECT id, hashtag FROM tweets;

-- Recorded as applied (see 000_migrations.sql).
INSERT IGNORE INTO schema_migrations (name) VALUES ('005_kinds');
