import { BUMP_VERSION, bumpVersion } from '../db/data-version'
import { LockLostError, stillHeld } from '../db/lock'
import type { Database, Row, Sql, Statement } from '../db/sql'
import { quarterOf as absoluteQuarterOf, hourOf } from '../domain/buckets'
import type { Clock } from '../domain/clock'
import { engagementOf } from '../domain/engagement'
import { toMysqlUtc } from '../domain/time'
import { advancesSinceId, type HashtagOutcome } from './outcome'
import type { ParsedPage, SkippedTweet, TweetRecord } from './page'

/**
 * The collector's SQL. A page is written in one transaction with multi-row statements — rows,
 * their counts and the data version together — so it lands whole or not at all, and writing it
 * again changes nothing. The statements travel in two batches, the transaction's start and commit
 * included (one round trip each): throughput is bounded by round trips more than by the statements.
 */

export interface PageCounts {
  /** (tweet, hashtag) rows this page added. */
  newRows: number
  /** Tweets of the page not stored before under any hashtag. */
  newTweets: number
  /** Tweets of the page already stored. */
  knownTweets: number
  users: number
}

/** Makes sure every tracked hashtag has its row: /hashtags/all lists them before their first tweet. */
export async function registerHashtags(db: Database, tags: string[]): Promise<void> {
  if (tags.length === 0) return
  await db.transaction(async (tx) => {
    // IGNORE is safe here: the only possible conflict is the tag already being there.
    const { affectedRows } = await tx.run('INSERT IGNORE INTO hashtags (tag) VALUES ?', [tags.map((tag) => [tag])])
    if (affectedRows > 0) await bumpVersion(tx)
  })
}

/** The clock's time as a UTC DATETIME(3) literal. */
const utcLiteral = (clock: Clock) => toMysqlUtc(new Date(clock()).toISOString())

/*
 * Upserts name the proposed row with VALUES(col). MySQL 8.0.20+ (8.4 included) deprecates it in
 * favour of a row alias (INSERT … AS new … UPDATE x = new.x) but still runs it, with warning 1287;
 * MariaDB and TiDB do not understand the alias. VALUES() is the form all three run.
 */

/**
 * Inserts new authors and refreshes known ones. updated_at is assigned first (MySQL applies the
 * assignments in order) and only moves when something changed, so unchanged users are not written.
 */
const upsertUsers = (page: ParsedPage, now: string): Statement => ({
  sql: `INSERT INTO users (id, username, name, followers_count, updated_at) VALUES ?
        ON DUPLICATE KEY UPDATE
          updated_at = IF(username <=> VALUES(username) AND name <=> VALUES(name) AND followers_count <=> VALUES(followers_count),
                          updated_at, VALUES(updated_at)),
          username = VALUES(username), name = VALUES(name), followers_count = VALUES(followers_count)`,
  params: [page.users.map((user) => [user.id, user.username, user.name, user.followersCount, now])],
})

/** Ids compared as exact unsigned integers (CAST): with strings, MySQL's IN list is twice as slow on a large table. */
const storedRows = (page: ParsedPage): Statement => ({
  sql: `SELECT id, hashtag FROM tweets WHERE id IN (${page.tweets.map(() => 'CAST(? AS UNSIGNED)').join(', ')})`,
  params: page.tweets.map((tweet) => tweet.id),
})

interface KeyRow extends Row {
  id: string
  hashtag: string
}

interface NewRow {
  tweet: TweetRecord
  tag: string
}

/** The (tweet, hashtag) rows of the page that are not stored yet, and the tweets already known. */
function newRowsOf(page: ParsedPage, existing: KeyRow[]): { rows: NewRow[]; known: Set<string> } {
  const stored = new Set(existing.map((row) => `${row.id}|${row.hashtag}`))
  const known = new Set(existing.map((row) => row.id))
  const rows = page.tweets.flatMap((tweet) =>
    tweet.hashtags.filter((tag) => !stored.has(`${tweet.id}|${tag}`)).map((tag) => ({ tweet, tag })),
  )
  return { rows, known }
}

/** ON DUPLICATE KEY (not INSERT IGNORE, which would also hide foreign-key and truncation errors). */
const insertTweets = (rows: NewRow[]): Statement => ({
  sql: 'INSERT INTO tweets (id, hashtag, author_id, lang, text, created_at, kind) VALUES ? ON DUPLICATE KEY UPDATE id = id',
  params: [rows.map(({ tweet, tag }) => [tweet.id, tag, tweet.authorId, tweet.lang, tweet.text, tweet.createdAt, tweet.kind])],
})

/** Every hashtag of the tweets that gained rows: what related hashtags are counted from. */
function insertHashtags(tweets: TweetRecord[]): Statement {
  return {
    sql: 'INSERT INTO tweet_hashtags (id, tag) VALUES ? ON DUPLICATE KEY UPDATE id = id',
    params: [tweets.flatMap((tweet) => tweet.allHashtags.map((tag) => [tweet.id, tag]))],
  }
}

/**
 * The metrics the search gave, for every tweet of the page that has them (known tweets too: the
 * counts have grown since). The tweet's own facts are written once, with its first metrics.
 */
function upsertMetrics(tweets: TweetRecord[], now: string): Statement {
  return {
    sql: `INSERT INTO tweet_metrics (id, created_at, lang, kind, likes, retweets, replies, quotes, impressions, engagement, updated_at)
          VALUES ?
          ON DUPLICATE KEY UPDATE likes = VALUES(likes), retweets = VALUES(retweets), replies = VALUES(replies),
            quotes = VALUES(quotes), impressions = VALUES(impressions), engagement = VALUES(engagement), updated_at = VALUES(updated_at)`,
    params: [
      tweets.flatMap(({ id, createdAt, lang, kind, metrics: m }) =>
        m === null
          ? []
          : [[id, createdAt, lang, kind, m.likes, m.retweets, m.replies, m.quotes, m.impressions, engagementOf(m), now]],
      ),
    ],
  }
}

/** Quarter hour of the day (0-95) of a UTC DATETIME literal 'YYYY-MM-DD hh:mm:ss.sss'. */
const quarterOf = (datetime: string): number =>
  Number(datetime.slice(11, 13)) * 4 + Math.floor(Number(datetime.slice(14, 16)) / 15)

/**
 * The new rows added to the counts, in multi-row upserts: every new row counts under its hashtag; a
 * tweet stored for the first time also counts once over all hashtags (first_seen, and the rows of
 * tweet_counts with an empty hashtag), at its first new row. tweet_counts also keeps the sums over
 * languages and kinds (empty lang, empty kind), and related_counts the other hashtags of each new row.
 */
function addCounts(rows: NewRow[], known: Set<string>): Statement[] {
  const counts = new Map<string, [string, string, number, number, number]>()
  const overTime = new Map<string, [string, string, string, number, number]>()
  const related = new Map<string, [string, number, string, number]>()
  const add = <T extends unknown[]>(map: Map<string, T>, key: string, initial: T, index: number) => {
    const entry = map.get(key) ?? map.set(key, initial).get(key)!
    ;(entry[index] as number)++
  }
  const firstSeen = new Set<string>()
  for (const { tweet, tag } of rows) {
    const quarter = quarterOf(tweet.createdAt)
    const key = `${tag}|${tweet.lang}|${quarter}`
    const entry = counts.get(key) ?? counts.set(key, [tag, tweet.lang, quarter, 0, 0]).get(key)!
    entry[3]++
    const first = !known.has(tweet.id) && !firstSeen.has(tweet.id)
    if (first) {
      firstSeen.add(tweet.id)
      entry[4]++
    }
    const absolute = absoluteQuarterOf(tweet.createdAt)
    for (const hashtag of first ? [tag, ''] : [tag])
      for (const lang of [tweet.lang, ''])
        for (const kind of [tweet.kind, ''])
          add(overTime, `${hashtag}|${lang}|${kind}|${absolute}`, [hashtag, lang, kind, absolute, 0], 4)
    const hour = hourOf(tweet.createdAt)
    for (const other of tweet.allHashtags) if (other !== tag) add(related, `${tag}|${hour}|${other}`, [tag, hour, other, 0], 3)
  }
  return [
    {
      sql: `INSERT INTO hashtag_counts (hashtag, lang, quarter, tweets, first_seen) VALUES ?
            ON DUPLICATE KEY UPDATE tweets = tweets + VALUES(tweets), first_seen = first_seen + VALUES(first_seen)`,
      params: [[...counts.values()]],
    },
    {
      sql: `INSERT INTO tweet_counts (hashtag, lang, kind, quarter, tweets) VALUES ?
            ON DUPLICATE KEY UPDATE tweets = tweets + VALUES(tweets)`,
      params: [[...overTime.values()]],
    },
    ...(related.size === 0
      ? []
      : [
          {
            sql: `INSERT INTO related_counts (hashtag, hour, related, tweets) VALUES ?
                  ON DUPLICATE KEY UPDATE tweets = tweets + VALUES(tweets)`,
            params: [[...related.values()]],
          },
        ]),
  ]
}

/** The hashtags of the tweets that gained rows, when any of them carries one. */
function hashtagsOf(rows: NewRow[]): Statement[] {
  const tweets = [...new Set(rows.map((row) => row.tweet))].filter((tweet) => tweet.allHashtags.length > 0)
  return tweets.length === 0 ? [] : [insertHashtags(tweets)]
}

/** What a run remembers of the users it stored (id → username, name, followers), to skip unchanged ones. */
export type StoredUsers = Map<string, string>

const signatureOf = (user: ParsedPage['users'][number]) => `${user.username}\u0000${user.name}\u0000${user.followersCount}`

/** What storing a page did, and the tweets the database refused. */
export interface StoredPage extends PageCounts {
  refused: SkippedTweet[]
}

/**
 * Stores one page, its counts, the hashtag's progress and a new data version in one transaction.
 * Users already stored by this run with the same values are left out: prolific authors appear on
 * page after page, and the run is the only writer (it holds the collector lock). With `fence`, the
 * lock's check runs in the transaction, and a page whose run lost the lock is rolled back.
 *
 * The page's records were checked against the columns before (page.ts); should the database still
 * refuse one (a constraint or a setting of that server), the page is stored in halves, again and
 * again, down to the tweet it refuses: one refused tweet costs that tweet and about 2·log2(page)
 * transactions, never the page.
 */
export async function storePage(
  db: Database,
  tag: string,
  page: ParsedPage,
  resultCountSoFar: number,
  { storedUsers = new Map(), fence, clock }: PageWrite,
): Promise<StoredPage> {
  const write = { storedUsers, fence, now: utcLiteral(clock) }
  const store = (tweets: TweetRecord[]) => storeTweets(db, tag, subPage(page, tweets), resultCountSoFar, write)
  async function storeOrSplit(tweets: TweetRecord[]): Promise<StoredPage> {
    try {
      return { ...(await store(tweets)), refused: [] }
    } catch (error) {
      const refused = refusedValue(error)
      // A page without tweets has nothing to split: what failed is the page's own bookkeeping.
      if (refused === null || tweets.length === 0) throw error
      if (tweets.length === 1)
        return { ...EMPTY_COUNTS, refused: [{ id: tweets[0]!.id, reason: 'refused_by_database', detail: refused }] }
      const half = Math.ceil(tweets.length / 2)
      const [first, second] = [await storeOrSplit(tweets.slice(0, half)), await storeOrSplit(tweets.slice(half))]
      return {
        newRows: first.newRows + second.newRows,
        newTweets: first.newTweets + second.newTweets,
        knownTweets: first.knownTweets + second.knownTweets,
        users: first.users + second.users,
        refused: [...first.refused, ...second.refused],
      }
    }
  }
  return storeOrSplit(page.tweets)
}

/** How a page is written: which users this run wrote already, the lock's fence, the clock that dates the rows. */
export interface PageWrite {
  storedUsers?: StoredUsers
  fence?: Statement
  clock: Clock
}

const EMPTY_COUNTS: PageCounts = { newRows: 0, newTweets: 0, knownTweets: 0, users: 0 }

/** The page narrowed to some of its tweets and their authors. */
function subPage(page: ParsedPage, tweets: TweetRecord[]): ParsedPage {
  if (tweets === page.tweets) return page
  const authors = new Set(tweets.map((tweet) => tweet.authorId))
  return { ...page, tweets, users: page.users.filter((user) => authors.has(user.id)) }
}

/**
 * Errors the server gives for one value it will not store (SQLSTATE class 22: data exception; 23:
 * integrity constraint, CHECK constraints included; and MySQL's HY000 for a string the column's
 * character set cannot hold): the name of the error, for the log, or null for any other error.
 */
function refusedValue(error: unknown): string | null {
  const { sqlState, errno, code } = error as { sqlState?: unknown; errno?: unknown; code?: unknown }
  if (typeof sqlState !== 'string' || typeof errno !== 'number') return null
  const refused = sqlState.startsWith('22') || sqlState.startsWith('23') || errno === 1366 || errno === 1300
  return refused ? `${typeof code === 'string' ? code : 'error'} (${errno})` : null
}

async function storeTweets(
  db: Database,
  tag: string,
  page: ParsedPage,
  resultCountSoFar: number,
  { storedUsers, fence, now }: { storedUsers: StoredUsers; fence: Statement | undefined; now: string },
): Promise<PageCounts> {
  const changedUsers = page.users.filter((user) => storedUsers.get(user.id) !== signatureOf(user))
  const counts = await db.transaction(async (tx) => {
    const reads: Statement[] = [
      ...(fence === undefined ? [] : [fence]),
      ...(changedUsers.length > 0 ? [upsertUsers({ ...page, users: changedUsers }, now)] : []),
      ...(page.tweets.length > 0 ? [storedRows(page)] : []),
    ]
    const results = reads.length > 0 ? await tx.batch(reads) : []
    if (fence !== undefined && !stillHeld(results[0])) throw new LockLostError('another session holds it now')
    const existing = (page.tweets.length > 0 ? results.at(-1) : []) as KeyRow[]
    const { rows, known } = newRowsOf(page, existing)
    await tx.batch(
      [
        ...(rows.length > 0 ? [insertTweets(rows), ...addCounts(rows, known), ...hashtagsOf(rows)] : []),
        ...(page.tweets.some((tweet) => tweet.metrics !== null) ? [upsertMetrics(page.tweets, now)] : []),
        {
          sql: `UPDATE hashtags SET last_collected_at = UTC_TIMESTAMP(3), last_result_count = ?, last_outcome = 'in_progress' WHERE tag = ?`,
          params: [resultCountSoFar, tag],
        },
        { sql: BUMP_VERSION },
      ],
      { commit: true },
    )
    const newTweets = page.tweets.filter((tweet) => !known.has(tweet.id)).length
    return { newRows: rows.length, newTweets, knownTweets: page.tweets.length - newTweets, users: page.users.length }
  })
  // Only once committed: a page rolled back leaves its users to be written again.
  for (const user of changedUsers) storedUsers.set(user.id, signatureOf(user))
  return counts
}

/** Records how the hashtag's collection ended; `newestId` (its next since_id) only moves forward. */
export async function finishHashtag(
  db: Database,
  tag: string,
  outcome: HashtagOutcome,
  resultCount: number,
  newestId: string | null,
): Promise<void> {
  const success = advancesSinceId(outcome)
  await db.transaction(async (tx) => {
    await tx.run(
      `UPDATE hashtags
          SET last_outcome = ?, last_result_count = ?, last_collected_at = UTC_TIMESTAMP(3),
              last_success_at = IF(?, UTC_TIMESTAMP(3), last_success_at),
              newest_id = IF(? IS NULL, newest_id, GREATEST(COALESCE(newest_id, 0), CAST(? AS UNSIGNED)))
        WHERE tag = ?`,
      [outcome, resultCount, success ? 1 : 0, newestId, newestId, tag],
    )
    await bumpVersion(tx)
  })
}

/**
 * Outcomes a killed run left in_progress become interrupted; called by a run that holds the
 * collector lock, when no other run can be going on. Returns how many hashtags it corrected.
 */
export async function settleAbandonedRuns(db: Database): Promise<number> {
  return db.transaction(async (tx) => {
    const { affectedRows } = await tx.run("UPDATE hashtags SET last_outcome = 'interrupted' WHERE last_outcome = 'in_progress'")
    if (affectedRows > 0) await bumpVersion(tx)
    return affectedRows
  })
}

/** Drops a since_id the API refused (older than its window): the next request goes without one. */
export async function dropSinceId(sql: Sql, tag: string): Promise<void> {
  await sql.run('UPDATE hashtags SET newest_id = NULL WHERE tag = ?', [tag])
}

interface StateRow extends Row {
  newest_id: string | null
}

export async function sinceIdOf(sql: Sql, tag: string): Promise<string | null> {
  const [row] = await sql.rows<StateRow>('SELECT newest_id FROM hashtags WHERE tag = ?', [tag])
  return row?.newest_id ?? null
}
