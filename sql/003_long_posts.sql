-- Long posts: X allows 25,000 characters in a post, up to 4 bytes each in utf8mb4, which is 100,000
-- bytes; TEXT holds 65,535. MEDIUMTEXT holds 16 MiB, more than a whole API page may be. A database
-- created before this file keeps its rows; the column is widened in place.
ALTER TABLE tweets MODIFY text MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL;

-- Recorded as applied (see 000_migrations.sql).
INSERT IGNORE INTO schema_migrations (name) VALUES ('003_long_posts');
