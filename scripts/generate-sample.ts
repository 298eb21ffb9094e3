/**
 * Generates src/collector/sample/recent-search.sample.json: the synthetic data set loaded when no
 * X API token is set. Reproducible: the same seed gives the same file.
 *
 *   bun scripts/generate-sample.ts [--seed 42]
 *
 * It imitates real recent-search traffic: every default hashtag but #logmonitoring has tweets,
 * #devops needs two pages, languages are skewed towards English, some tweets carry two tracked
 * hashtags, follower counts are heavy-tailed, ids are snowflakes (beyond 2^53) consistent with
 * created_at, which spans the seven days before `generated_at`.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { SearchPage } from '../src/collector/page'
import { SAMPLE_FILE, type SampleFile } from '../src/collector/sample-source'
import { mulberry32, pick, weighted } from './random'

const { values } = parseArgs({ options: { seed: { type: 'string', default: '42' } } })
const random = mulberry32(Number(values.seed))

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

interface SampleTweet {
  id: string
  text: string
  author_id: string
  created_at: string
  lang: string
  entities: { hashtags: { start: number; end: number; tag: string }[] }
}

/** A snowflake id for a creation time: time in the high bits, a sequence number in the low 22. */
const snowflake = (ms: number, sequence: number) => String(((BigInt(ms) - SNOWFLAKE_EPOCH) << 22n) | BigInt(sequence & 0x3fffff))

let sequence = 0
function tweet(tag: string): SampleTweet {
  const ms = GENERATED_AT - Math.floor(random() * 7 * 24 * 3_600_000)
  const lang = weighted(random, LANGS)
  const tags = [tag]
  const companions = COMPANIONS[tag] ?? []
  if (companions.length > 0 && random() < 0.2) tags.push(pick(random, companions))
  const display = tags.map((t) => (random() < 0.3 ? `#${t[0]!.toUpperCase()}${t.slice(1)}` : `#${t}`))
  const phrase = pick(random, PHRASES[lang]!)
  const prefix = `${phrase} ${random() < 0.5 ? `${pick(random, EMOJI)} ` : ''}`
  let cursor = [...prefix].length
  const entities = display.map((text, i) => {
    const entity = { start: cursor, end: cursor + [...text].length, tag: text.slice(1) }
    cursor = entity.end + (i < display.length - 1 ? 1 : 0)
    return entity
  })
  return {
    id: snowflake(ms, sequence++),
    text: `${prefix}${display.join(' ')}`,
    author_id: pick(random, users).id,
    created_at: new Date(ms).toISOString(),
    lang,
    entities: { hashtags: entities },
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

const all = Object.entries(VOLUME)
  .flatMap(([tag, count]) => Array.from({ length: count }, () => tweet(tag)))
  .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
// As on the API, a search for a tag also finds the tweets made for another tag that carry it.
const pages = Object.fromEntries(
  Object.keys(VOLUME).map((tag) => [
    tag,
    toPages(
      tag,
      all.filter((t) => t.entities.hashtags.some((h) => h.tag.toLowerCase() === tag)),
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
