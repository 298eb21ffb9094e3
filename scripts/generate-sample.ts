/**
 * Generates src/collector/sample/recent-search.sample.json: the synthetic data set loaded when no
 * X API token is set. Reproducible: the same seed gives the same file.
 *
 *   bun scripts/generate-sample.ts [--seed 42]
 *
 * It imitates real recent-search traffic: every default hashtag but #logmonitoring has tweets,
 * #devops needs two pages, languages are skewed towards English, some tweets carry two tracked
 * hashtags, follower counts are heavy-tailed, ids are snowflakes (beyond 2^53) consistent with
 * created_at, which spans the seven days before `generated_at`. Tweets come in the four kinds, as
 * `referenced_tweets` gives them (about 45% originals, 35% retweets, 12% replies, 8% quotes, some of
 * them replies too); a retweet's text is "RT @user: " and the retweeted text cut at 140 characters,
 * its entities those of what is left. Every tweet has public_metrics: likes heavy-tailed (most 0-5,
 * a few in the hundreds or thousands), other reactions rarer, impression_count left out on about one
 * in seven, and a retweet with the retweeted post's retweet_count and nothing of its own, as the API
 * gives them. Beside the tracked hashtags, 0-3 untracked ones (#Kubernetes, #aws...) drawn by Zipf,
 * most often among each tracked hashtag's favourite companions, written in mixed case.
 */
import { writeFileSync } from 'node:fs'
import type { SearchPage } from '../src/collector/page'
import { SAMPLE_FILE, type SampleFile } from '../src/collector/sample-source'
import { commandLine, wholeNumber } from '../src/command-line'
import { mulberry32, pareto, pick, roundRandomly, weighted, zipf } from './random'

const values = commandLine({
  name: 'bun scripts/generate-sample.ts',
  summary:
    'Writes the bundled synthetic sample data (src/collector/sample/recent-search.sample.json); the same seed gives the same file.',
  options: { seed: { value: 'N', description: 'seed of the random choices', default: '42', parse: wholeNumber(0, 2 ** 32 - 1) } },
})
const random = mulberry32(values.seed)

const GENERATED_AT = Date.UTC(2026, 10, 28, 0, 0, 0)
const SNOWFLAKE_EPOCH = 1288834974657n

/** Tweets per hashtag; logmonitoring stays empty, as it often is on the real API. */
const VOLUME: Record<string, number> = {
  devops: 140,
  sre: 60,
  observability: 55,
  microservices: 45,
  metrics: 35,
  oauth: 30,
  openbanking: 25,
  opentracing: 15,
  remediation: 12,
  logmonitoring: 0,
}

/** A second tracked hashtag some tweets also carry. */
const COMPANIONS: Record<string, string[]> = {
  devops: ['sre', 'microservices'],
  sre: ['devops', 'observability'],
  observability: ['metrics', 'opentracing'],
  microservices: ['devops'],
  metrics: ['observability'],
  oauth: ['openbanking'],
  openbanking: ['oauth'],
  opentracing: ['observability'],
  remediation: ['sre'],
}

const LANGS: [string, number][] = [
  ['en', 55],
  ['pt', 10],
  ['es', 9],
  ['ja', 7],
  ['de', 6],
  ['fr', 5],
  ['und', 4],
  ['it', 2],
  ['zh', 2],
]

const PHRASES: Record<string, string[]> = {
  en: [
    'Shipping on a Friday again',
    'Our error budget is gone',
    'Great talk on',
    'Lessons learned from a long outage',
    'Dashboards or it did not happen',
    'Automate the boring parts',
  ],
  pt: [
    'Deploy na sexta-feira de novo',
    'Nosso orçamento de erros acabou',
    'Ótima palestra sobre',
    'Lições de um incidente longo',
  ],
  es: [
    'Otra vez desplegando en viernes',
    'Se nos acabó el presupuesto de errores',
    'Gran charla sobre',
    'Lecciones de una caída larga',
  ],
  ja: ['金曜日にまたデプロイ', 'エラーバジェットを使い切った', '素晴らしい講演でした', '長い障害からの教訓'],
  de: [
    'Schon wieder am Freitag deployt',
    'Unser Fehlerbudget ist aufgebraucht',
    'Toller Vortrag über',
    'Lehren aus einem langen Ausfall',
  ],
  fr: ['Encore un déploiement le vendredi', "Plus de budget d'erreur", 'Super conférence sur', "Leçons d'une longue panne"],
  und: ['👀', '🔥🔥🔥', '📈📉', '🚀'],
  it: ['Di nuovo un rilascio di venerdì', 'Ottimo talk su'],
  zh: ['又在周五发布了', '关于可观测性的精彩演讲'],
}
const EMOJI = ['🚀', '🔥', '📈', '🛠️', '✅', '😅', '🤖', '☁️', '🔐', '💸', '🧪', '👩‍💻']

const FIRST = ['Ana', 'João', 'María', 'Yuki', 'Lena', 'Chloé', 'Sam', 'Priya', 'Wei', 'Omar', 'Zoë', 'Luca', 'Noah', 'Aiko']
const LAST = ['Silva', 'García', 'Tanaka', 'Müller', 'Dubois', 'Smith', 'Rossi', 'Chen', 'Haddad', 'Kowalski']

interface SampleUser {
  id: string
  username: string
  name: string
  public_metrics: { followers_count: number }
}

/** Heavy-tailed follower counts: most accounts have a few hundred, a few have hundreds of thousands. */
const followers = () => Math.floor(20 / (1 - random()) ** 1.6) + Math.floor(random() * 50)

const users: SampleUser[] = Array.from({ length: 160 }, (_, i) => {
  const first = pick(random, FIRST)
  const last = pick(random, LAST)
  return {
    id: String(1_000_000_000_000_000_000n + BigInt(i) * 7_919_000_003n + BigInt(Math.floor(random() * 1e6))),
    username: `${first}_${last}_${i}`
      .normalize('NFD')
      .replace(/[^A-Za-z0-9_]/g, '')
      .slice(0, 15),
    name: random() < 0.25 ? `${first} ${last} ${pick(random, EMOJI)}` : `${first} ${last}`,
    public_metrics: { followers_count: followers() },
  }
})

/** Hashtags nobody tracks, most used first (Zipf over this order), written as people often write them. */
const UNTRACKED = [
  'Kubernetes',
  'cloud',
  'AWS',
  'golang',
  'Python',
  'AI',
  'Terraform',
  'linux',
  'security',
  'Grafana',
  'Prometheus',
  'Docker',
  'Azure',
  'OpenTelemetry',
  'CICD',
  'GitOps',
  'PlatformEngineering',
  'opensource',
  'automation',
  'serverless',
  'Rust',
  'Java',
  'API',
  'DevSecOps',
  'CyberSecurity',
  'monitoring',
  'logging',
  'tracing',
  'OnCall',
  'FinTech',
]
/** Each tracked hashtag's favourite untracked companions, most frequent first. */
const FAVOURITES: Record<string, string[]> = {
  devops: ['Kubernetes', 'Docker', 'CICD', 'Terraform', 'AWS'],
  sre: ['OnCall', 'Prometheus', 'linux', 'Kubernetes'],
  observability: ['OpenTelemetry', 'Grafana', 'Prometheus', 'tracing'],
  microservices: ['Kubernetes', 'Java', 'golang', 'API'],
  metrics: ['Prometheus', 'Grafana', 'monitoring'],
  oauth: ['security', 'API', 'CyberSecurity'],
  openbanking: ['FinTech', 'API', 'security'],
  opentracing: ['OpenTelemetry', 'tracing', 'golang'],
  remediation: ['security', 'DevSecOps', 'automation'],
}
const FAVOURITE_SHARE = 0.7
const UNTRACKED_PER_TWEET: [number, number][] = [
  [0, 40],
  [1, 30],
  [2, 20],
  [3, 10],
]

/** Kinds of post in the shares of hashtag traffic; a reply can quote too (it then counts as a quote). */
type Kind = 'original' | 'retweet' | 'reply' | 'quote' | 'reply_quote'
const KINDS: [Kind, number][] = [
  ['original', 45],
  ['retweet', 35],
  ['reply', 12],
  ['quote', 6],
  ['reply_quote', 2],
]
/** Likes a kind gets, relative to an original of the same author. */
const REACH: Record<Exclude<Kind, 'retweet'>, number> = { original: 1, reply: 0.3, quote: 0.6, reply_quote: 0.4 }
const MAX_LIKES = 50_000
/** Share of tweets without impression_count (older posts, some access levels): left out, never 0. */
const NO_IMPRESSIONS = 0.15
/** X cuts a retweet's text ("RT @user: " and the retweeted text) at this many characters. */
const RETWEET_TEXT = 140

/** A sentence more some tweets end with, after their hashtags. */
const TAILS: Record<string, string[]> = {
  en: [
    'Slides and the recording are in the thread below 👇',
    'Wrote up what we changed and what we would do differently next time',
    'Still not sure whether to laugh or cry',
    'Hiring, by the way: DMs open',
  ],
  pt: ['Os slides estão no fio abaixo 👇', 'Escrevi sobre o que mudamos depois disso'],
  es: ['Las diapositivas están en el hilo 👇', 'Escribí lo que cambiamos después'],
  de: ['Die Folien sind im Thread unten 👇', 'Was wir danach geändert haben, steht im Blog'],
  fr: ['Les slides sont dans le fil 👇', 'Ce que nous avons changé ensuite, en détail'],
}

interface Entity {
  start: number
  end: number
  tag: string
}

interface PublicMetrics {
  retweet_count: number
  reply_count: number
  like_count: number
  quote_count: number
  bookmark_count: number
  impression_count?: number
}

interface SampleTweet {
  id: string
  text: string
  author_id: string
  created_at: string
  lang: string
  entities: { hashtags: Entity[] }
  referenced_tweets?: { type: 'retweeted' | 'quoted' | 'replied_to'; id: string }[]
  public_metrics: PublicMetrics
}

/** A post's own words, found by the searches of `tags` (lowercase): a sample tweet, or a post outside the sample that one refers to. */
interface Post {
  id: string
  text: string
  author: SampleUser
  lang: string
  entities: Entity[]
  tags: Set<string>
  metrics: PublicMetrics
}

/** A snowflake id for a creation time: time in the high bits, a sequence number in the low 22. */
const snowflake = (ms: number, sequence: number) => String(((BigInt(ms) - SNOWFLAKE_EPOCH) << 22n) | BigInt(sequence & 0x3fffff))
const length = (text: string) => [...text].length

/** How people write a tag: as it is usually spelled, lowercase, now and then in capitals. */
function written(tag: string): string {
  const roll = random()
  return roll < 0.55 ? tag.toLowerCase() : roll < 0.95 ? tag : tag.toUpperCase()
}

const overall = zipf(random, UNTRACKED.length, 1.1)
const favourite = new Map(Object.entries(FAVOURITES).map(([tag, list]) => [tag, zipf(random, list.length, 1.3)]))

/** The untracked hashtags of a tweet carrying the tracked `tags`, each drawn for one of them, without repeats. */
function untracked(tags: string[]): string[] {
  const drawn = new Map<string, string>()
  const count = weighted(random, UNTRACKED_PER_TWEET)
  for (let i = 0; i < count; i++) {
    const tag = pick(random, tags)
    const list = FAVOURITES[tag] ?? []
    const chosen = list.length > 0 && random() < FAVOURITE_SHARE ? list[favourite.get(tag)!()]! : UNTRACKED[overall()]!
    drawn.set(chosen.toLowerCase(), written(chosen))
  }
  return [...drawn.values()]
}

/** Text made of plain strings and hashtags (given without '#'), with the hashtags' entities at code-point offsets. */
function compose(parts: (string | { hashtag: string })[]): { text: string; entities: Entity[] } {
  let text = ''
  const entities: Entity[] = []
  for (const part of parts) {
    if (typeof part === 'string') text += part
    else {
      const start = length(text)
      text += `#${part.hashtag}`
      entities.push({ start, end: start + 1 + length(part.hashtag), tag: part.hashtag })
    }
  }
  return { text, entities }
}

/** A post's own words for `tag`: a phrase, its hashtags (tracked ones first), now and then one more sentence. */
function words(tag: string, lang: string) {
  const tags = [tag]
  const companions = COMPANIONS[tag] ?? []
  if (companions.length > 0 && random() < 0.2) tags.push(pick(random, companions))
  const tracked = tags.map((t) => (random() < 0.3 ? `${t[0]!.toUpperCase()}${t.slice(1)}` : t))
  const hashtags = [...tracked, ...untracked(tags)]
  const phrase = pick(random, PHRASES[lang]!)
  const parts: (string | { hashtag: string })[] = [`${phrase} ${random() < 0.5 ? `${pick(random, EMOJI)} ` : ''}`]
  for (const [i, hashtag] of hashtags.entries()) parts.push(...(i > 0 ? [' '] : []), { hashtag })
  const tails = TAILS[lang]
  if (tails !== undefined && random() < 0.35) parts.push(`. ${pick(random, tails)}`)
  return { ...compose(parts), tags: new Set(tags) }
}

/** Heavy-tailed reactions to a post of `author`: most get a few likes, some hundreds or thousands. */
function reactions(kind: Exclude<Kind, 'retweet'>, author: SampleUser): PublicMetrics {
  const popularity = Math.min(20, Math.max(0.3, (author.public_metrics.followers_count / 100) ** 0.5))
  const likes = Math.floor(Math.min(MAX_LIKES, REACH[kind] * popularity * pareto(random, 0.75)))
  const metrics: PublicMetrics = {
    retweet_count: roundRandomly(random, likes * 0.3 * random()),
    reply_count: roundRandomly(random, likes * 0.15 * random()),
    like_count: likes,
    quote_count: roundRandomly(random, likes * 0.05 * random()),
    bookmark_count: roundRandomly(random, likes * 0.1 * random()),
  }
  if (random() >= NO_IMPRESSIONS)
    metrics.impression_count = Math.floor((likes + 1) * (15 + 185 * random()) + popularity * 50 * random())
  return metrics
}

let sequence = 0
/** Posts outside the sample have sequence numbers of their own, so that their ids never meet the sample's. */
let outsideSequence = 0x300000

/** A post the sample does not hold (older, or not found by the searches), for a tweet to refer to. */
function outside(tag: string, beforeMs: number): Post {
  const ms = beforeMs - 60_000 - Math.floor(random() * 3 * 24 * 3_600_000)
  const lang = weighted(random, LANGS)
  const { text, entities, tags } = words(tag, lang)
  const author = pick(random, users)
  const post = {
    id: snowflake(ms, outsideSequence++),
    text,
    author,
    lang,
    entities,
    tags,
    metrics: reactions('original', author),
  }
  posts.set(post.id, post)
  return post
}

/** "RT @user: " and the retweeted text, cut at 140 characters (never inside a hashtag), with the entities of what is left. */
function retweetText(source: Post): { text: string; entities: Entity[] } {
  const prefix = `RT @${source.author.username}: `
  const shift = length(prefix)
  const full = [...prefix, ...source.text]
  const entities = source.entities.map((e) => ({ ...e, start: e.start + shift, end: e.end + shift }))
  if (full.length <= RETWEET_TEXT) return { text: full.join(''), entities }
  let cut = RETWEET_TEXT - 1
  const inside = entities.find((e) => e.start < cut && cut < e.end)
  if (inside !== undefined) cut = inside.start
  while (cut > shift && full[cut - 1] === ' ') cut--
  return { text: `${full.slice(0, cut).join('')}…`, entities: entities.filter((e) => e.end <= cut) }
}

/** Tweets the sample holds so far (oldest first), each with the tracked hashtags whose searches find it. */
const made: { tweet: SampleTweet; post: Post; kind: Kind }[] = []
/** Every post a tweet can refer to, in the sample or outside it, by id. */
const posts = new Map<string, Post>()

function tweet(tag: string, ms: number): { tweet: SampleTweet; post: Post; kind: Kind } {
  const id = snowflake(ms, sequence++)
  const kind = weighted(random, KINDS)
  const author = pick(random, users)
  const created_at = new Date(ms).toISOString()
  if (kind === 'retweet') {
    // What gets retweeted is mostly what people liked: a post of the sample found by the same search, or one outside it.
    const candidates = made.filter((m) => m.kind !== 'retweet' && m.post.tags.has(tag))
    const source =
      candidates.length > 0 && random() < 0.6
        ? weighted(
            random,
            candidates.map((m) => [m.post, m.post.metrics.like_count + 1] as const),
          )
        : outside(tag, ms)
    const { text, entities } = retweetText(source)
    const metrics: PublicMetrics = { retweet_count: 0, reply_count: 0, like_count: 0, quote_count: 0, bookmark_count: 0 }
    if (random() >= NO_IMPRESSIONS) metrics.impression_count = 0
    const sampleTweet: SampleTweet = {
      id,
      text,
      author_id: author.id,
      created_at,
      lang: source.lang,
      entities: { hashtags: entities },
      referenced_tweets: [{ type: 'retweeted', id: source.id }],
      public_metrics: metrics,
    }
    return { tweet: sampleTweet, kind, post: { ...source, id, author, metrics } }
  }
  const lang = weighted(random, LANGS)
  const own = words(tag, lang)
  const referenced: NonNullable<SampleTweet['referenced_tweets']> = []
  let text = own.text
  let entities = own.entities
  const earlier = made.filter((m) => m.kind !== 'retweet')
  const target = () => (earlier.length > 0 && random() < 0.5 ? pick(random, earlier).post : outside(tag, ms))
  if (kind === 'reply' || kind === 'reply_quote') {
    // A reply's text starts with whom it answers.
    const answered = target()
    const prefix = `@${answered.author.username} `
    text = `${prefix}${text}`
    entities = entities.map((e) => ({ ...e, start: e.start + length(prefix), end: e.end + length(prefix) }))
    referenced.push({ type: 'replied_to', id: answered.id })
  }
  if (kind === 'quote' || kind === 'reply_quote') {
    const quoted = target()
    text = `${text} https://t.co/${quoted.id.slice(-10)}`
    referenced.push({ type: 'quoted', id: quoted.id })
  }
  const metrics = reactions(kind, author)
  const post = { id, text, author, lang, entities, tags: own.tags, metrics }
  posts.set(id, post)
  return {
    tweet: {
      id,
      text,
      author_id: author.id,
      created_at,
      lang,
      entities: { hashtags: entities },
      ...(referenced.length > 0 ? { referenced_tweets: referenced } : {}),
      public_metrics: metrics,
    },
    kind,
    post,
  }
}

/** Splits tweets (newest first) into pages of 100 chained by next_token, with their authors expanded. */
function toPages(tag: string, tweets: SampleTweet[]): SearchPage[] {
  if (tweets.length === 0) return [{ meta: { result_count: 0 } }]
  const pages: SearchPage[] = []
  for (let start = 0; start < tweets.length; start += 100) {
    const data = tweets.slice(start, start + 100)
    const authors = new Set(data.map((t) => t.author_id))
    const last = start + 100 >= tweets.length
    pages.push({
      data,
      includes: { users: users.filter((u) => authors.has(u.id)) },
      meta: {
        result_count: data.length,
        newest_id: data[0]!.id,
        oldest_id: data[data.length - 1]!.id,
        ...(last ? {} : { next_token: `sample-${tag}-${pages.length + 1}` }),
      },
    })
  }
  return pages
}

// Made oldest first, so that a tweet refers only to posts older than itself.
const planned = Object.entries(VOLUME)
  .flatMap(([tag, count]) =>
    Array.from({ length: count }, () => ({ tag, ms: GENERATED_AT - Math.floor(random() * 7 * 24 * 3_600_000) })),
  )
  .sort((a, b) => a.ms - b.ms)
for (const { tag, ms } of planned) made.push(tweet(tag, ms))

// A post has at least the retweets, replies and quotes the sample shows of it, and a retweet carries
// the retweeted post's retweet_count, as the API gives it.
const FIELD = { retweeted: 'retweet_count', replied_to: 'reply_count', quoted: 'quote_count' } as const
const shown = new Map<string, number>()
for (const { tweet } of made) {
  for (const { type, id } of tweet.referenced_tweets ?? []) shown.set(`${id} ${type}`, (shown.get(`${id} ${type}`) ?? 0) + 1)
}
for (const [key, count] of shown) {
  const [id, type] = key.split(' ') as [string, keyof typeof FIELD]
  const metrics = posts.get(id)!.metrics
  metrics[FIELD[type]] = Math.max(metrics[FIELD[type]], count)
}
for (const { tweet, kind } of made) {
  if (kind === 'retweet') tweet.public_metrics.retweet_count = posts.get(tweet.referenced_tweets![0]!.id)!.metrics.retweet_count
}

const all = made.map((m) => m.tweet).reverse()
// As on the API, a search for a tag also finds the tweets made for another tag that carry it, and
// the retweets of posts that carry it, even when the cut text no longer shows it.
const pages = Object.fromEntries(
  Object.keys(VOLUME).map((tag) => [
    tag,
    toPages(
      tag,
      made
        .filter((m) => m.post.tags.has(tag))
        .map((m) => m.tweet)
        .reverse(),
    ),
  ]),
)

const file: SampleFile = {
  notice:
    'SYNTHETIC DATA. Generated by scripts/generate-sample.ts, not collected from X: the accounts, texts and ids are made up. Loaded when TWITTER_BEARER_TOKEN is not set.',
  generated_at: new Date(GENERATED_AT).toISOString(),
  pages,
}
writeFileSync(SAMPLE_FILE, `${JSON.stringify(file, null, 1)}\n`)
console.log(`wrote ${SAMPLE_FILE}: ${all.length} tweets, ${users.length} users`)
