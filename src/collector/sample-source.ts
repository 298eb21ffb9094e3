import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SearchPage } from './page'
import type { SearchRequest, SearchResponse, SearchSource } from './source'

/**
 * The bundled sample: recent-search response pages in the API's own JSON shape, replayed through
 * the same parsing and storage as real ones. The data is synthetic (scripts/generate-sample.ts
 * makes it); its timestamps are shifted at load so that it always covers the last seven days.
 */

export const SAMPLE_FILE = join(import.meta.dir, 'sample', 'recent-search.sample.json')

export interface SampleFile {
  notice: string
  /** When the file was generated; every created_at is moved by (load time - generated_at). */
  generated_at: string
  /** Pages per hashtag, newest first, chained by meta.next_token like the API's. */
  pages: Record<string, SearchPage[]>
}

const EMPTY: SearchPage = { meta: { result_count: 0 } }

/** The page's tweets newer than `sinceId`, with created_at moved by `shiftMs`; meta recomputed as the API would. */
function replay(page: SearchPage, sinceId: string | null, shiftMs: number): SearchPage {
  const data = (page.data ?? [])
    .filter((tweet) => sinceId === null || BigInt(tweet.id) > BigInt(sinceId))
    .map((tweet) => ({ ...tweet, created_at: new Date(Date.parse(tweet.created_at) + shiftMs).toISOString() }))
  if (data.length === 0) return EMPTY
  const authors = new Set(data.map((tweet) => tweet.author_id))
  // A page cut by since_id is the last one: everything after it is older still.
  const cut = data.length < (page.data ?? []).length
  return {
    data,
    includes: { users: (page.includes?.users ?? []).filter((user) => authors.has(user.id)) },
    meta: {
      result_count: data.length,
      newest_id: data[0]!.id,
      oldest_id: data[data.length - 1]!.id,
      ...(cut || page.meta.next_token === undefined ? {} : { next_token: page.meta.next_token }),
    },
  }
}

export function createSampleSource(file = SAMPLE_FILE, now = Date.now()): SearchSource {
  const sample = JSON.parse(readFileSync(file, 'utf8')) as SampleFile
  const shiftMs = now - Date.parse(sample.generated_at)
  return {
    name: 'sample',
    async search({ tag, sinceId, nextToken }: SearchRequest): Promise<SearchResponse> {
      // Own properties only: a hashtag may be named like a member of Object.prototype (#constructor).
      const pages = Object.hasOwn(sample.pages, tag) ? sample.pages[tag]! : [EMPTY]
      const index = nextToken === null ? 0 : pages.findIndex((_, i) => i > 0 && pages[i - 1]!.meta.next_token === nextToken)
      const page = index === -1 ? EMPTY : replay(pages[index]!, sinceId, shiftMs)
      return { body: page, rateLimit: null }
    },
  }
}
