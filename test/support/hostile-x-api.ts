import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { STATUS_CODES } from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import { selfSignedCertificate } from './certificate'

/**
 * A hostile stand-in for GET https://api.x.com/2/tweets/search/recent. Where FakeXApi (fake-x-api.ts)
 * behaves like the API, this one misbehaves on purpose, at the byte level: it is a raw TLS server
 * (node:tls, no HTTP library between it and the socket) that answers every request from a SCRIPT —
 * any status line, any header values (rate-limit resets in the past, 'abc', 1e30), right, wrong or no
 * content-length, chunked bodies, invalid JSON, bodies of tens of MB generated lazily, bodies that
 * echo the bearer token, stalls before the headers, bodies dripped a few bytes at a time, connections
 * closed or reset mid-answer — and records every request so that tests can count them per hashtag.
 * It checks the bearer token like the API (401 without rate-limit headers otherwise). `stop()`
 * destroys every socket, so it never waits for a script that stalls forever.
 */

/** A header value: literal text, or Unix seconds relative to the moment the answer is sent. */
export type HeaderValue = string | { inSeconds: number }

/** The x-rate-limit-* headers: a value left out keeps the default window's, null omits that header. */
export interface ScriptRateLimit {
  limit?: HeaderValue | null
  remaining?: HeaderValue | null
  reset?: HeaderValue | null
}

/** How the ways the API or a proxy might echo a bearer token could spell it. */
export type TokenForm = 'raw' | 'json-escaped' | 'url-encoded' | 'url-decoded' | 'base64'

export type ScriptBody =
  /** Any JSON value, serialized as is (a search page, a problem, a wrong shape). */
  | { kind: 'json'; value: unknown }
  /** Sent byte for byte (invalid JSON, HTML, nothing). */
  | { kind: 'text'; text: string }
  /** `{"meta":{"result_count":0}}`, the API's answer when nothing matches. */
  | { kind: 'empty' }
  /**
   * A JSON object (a page) with one more string field of filler, so that the body is at least
   * `bytes` long: generated chunk by chunk, never held whole. The filler character may be multi-byte.
   */
  | { kind: 'padded'; page: Record<string, unknown>; bytes: number; filler?: string }
  /** A page whose `errors[]` holds `count` partial errors, generated chunk by chunk; `echo` puts the token into each `detail`. */
  | { kind: 'partial-errors'; page: Record<string, unknown>; count: number; echo?: TokenForm }
  /** A problem+json body whose title, detail and errors[] repeat the bearer token in the given forms. */
  | { kind: 'echo-token'; forms: TokenForm[]; title?: string }

export interface Script {
  /** Status of the final answer, 100-599 (default 200). A 1xx final answer is sent and the connection closed. */
  status?: number
  statusText?: string
  /** Interim answers (100, 102, 103) sent before the final one. */
  informational?: number[]
  /** Default: a window of 450 with requests left, resetting in 15 minutes. 'missing': no x-rate-limit-* header. */
  rateLimit?: ScriptRateLimit | 'missing'
  /** Default: application/json (problem+json for status >= 400); null: no content-type header. */
  contentType?: string | null
  /**
   * How the body is delimited: 'length' (a right content-length, the default), 'chunked', 'close'
   * (neither header: the body ends when the connection does), or a content-length that is off by
   * `lengthDelta` bytes (positive: it promises more than is sent).
   */
  framing?: 'length' | 'chunked' | 'close' | { lengthDelta: number }
  /** More headers, or overrides (location for a redirect). */
  headers?: Record<string, string>
  body?: ScriptBody
  /** Wait this long before sending anything (Infinity: forever, until the client or stop() ends the connection). */
  stallBeforeHeadersMs?: number
  /** Close the connection instead of answering (after the stall, if any). */
  closeBeforeHeaders?: boolean
  /** Reset the connection (TCP RST) instead of answering. */
  reset?: boolean
  /** Send the framed body `bytes` at a time, one piece every `everyMs` ms. */
  drip?: { bytes: number; everyMs: number }
  /** Close the connection once this many bytes of the framed body are sent. */
  closeAfterBodyBytes?: number
  /**
   * After the body: keep the connection for the next request (the default for 'length' and 'chunked'),
   * close it (the default otherwise), or keep it open without answering anything more.
   */
  afterBody?: 'keep-alive' | 'close' | 'stall'
}

export interface HostileRequest {
  /** 0-based, over all requests. */
  index: number
  /** 0-based, over the requests of the same hashtag. */
  tagIndex: number
  /** Date.now() when the request head arrived. */
  at: number
  method: string
  path: string
  /** Lowercase, without '#': the first `#tag` of the query, '' if none. */
  tag: string
  query: string | null
  sinceId: string | null
  nextToken: string | null
  authorization: string | null
}

/**
 * How the server speaks TLS: properly; with a certificate the client was not given; with a valid
 * certificate for another host; or not at all (plain HTTP on the port the client expects TLS on).
 */
export type TlsMode = 'ok' | 'untrusted' | 'wrong-host' | 'plaintext'

export interface HostileXApiOptions {
  token?: string
  /** Per request index (then the empty result for every request past the list), or a function of the request. */
  script?: Script[] | ((request: HostileRequest) => Script)
  tls?: TlsMode
}

const encoder = new TextEncoder()
const CHUNK = 64 * 1024

/** The forms a token takes once echoed through JSON, a URL or base64. */
export function tokenForms(token: string): Record<TokenForm, string> {
  let decoded = token
  try {
    decoded = decodeURIComponent(token)
  } catch {}
  return {
    raw: token,
    'json-escaped': JSON.stringify(token).slice(1, -1),
    'url-encoded': encodeURIComponent(token),
    'url-decoded': decoded,
    base64: Buffer.from(token).toString('base64'),
  }
}

/**
 * A search page as the API builds it: `meta` counted from `data` (whatever the tweets hold), newest
 * and oldest id from the first and last tweet, `includes` only when there are users.
 */
export function searchPage(
  data: Record<string, unknown>[],
  users: Record<string, unknown>[],
  options: { nextToken?: string; errors?: unknown[] } = {},
): Record<string, unknown> {
  if (data.length === 0 && options.nextToken === undefined && options.errors === undefined) return { meta: { result_count: 0 } }
  return {
    ...(data.length > 0 ? { data } : {}),
    ...(users.length > 0 ? { includes: { users } } : {}),
    meta: {
      result_count: data.length,
      ...(data.length > 0 ? { newest_id: data[0]!.id, oldest_id: data.at(-1)!.id } : {}),
      ...(options.nextToken === undefined ? {} : { next_token: options.nextToken }),
    },
    ...(options.errors === undefined ? {} : { errors: options.errors }),
  }
}

/** A body: its exact length in bytes and its bytes, in pieces of at most CHUNK, made on demand. */
interface RenderedBody {
  length: number
  chunks(): Generator<Uint8Array>
}

const whole = (text: string): RenderedBody => {
  const bytes = encoder.encode(text)
  return {
    length: bytes.length,
    *chunks() {
      for (let i = 0; i < bytes.length; i += CHUNK) yield bytes.subarray(i, i + CHUNK)
    },
  }
}

/** `prefix`, then `count` repetitions of `item` (joined by `separator`), then `suffix`; lazily. */
function repeated(prefix: string, item: (i: number) => string, count: number, separator: string, suffix: string): RenderedBody {
  let length = Buffer.byteLength(prefix) + Buffer.byteLength(suffix) + Math.max(0, count - 1) * Buffer.byteLength(separator)
  for (let i = 0; i < count; i++) length += Buffer.byteLength(item(i))
  return {
    length,
    *chunks() {
      let buffer = prefix
      for (let i = 0; i < count; i++) {
        buffer += (i === 0 ? '' : separator) + item(i)
        if (buffer.length >= CHUNK / 4) {
          yield encoder.encode(buffer)
          buffer = ''
        }
      }
      yield encoder.encode(buffer + suffix)
    },
  }
}

/** The JSON of an object without its closing brace, ready for one more field. */
const openObject = (value: Record<string, unknown>) => {
  const text = JSON.stringify(value)
  return text === '{}' ? '{' : `${text.slice(0, -1)},`
}

export function renderBody(body: ScriptBody | undefined, token: string): RenderedBody {
  if (body === undefined) return whole('')
  switch (body.kind) {
    case 'json':
      return whole(JSON.stringify(body.value))
    case 'text':
      return whole(body.text)
    case 'empty':
      return whole('{"meta":{"result_count":0}}')
    case 'padded': {
      const filler = body.filler ?? 'x'
      const prefix = `${openObject(body.page)}"padding":"`
      const unit = encoder.encode(filler).length
      const repeat = Math.max(0, Math.ceil((body.bytes - encoder.encode(prefix).length - 2) / unit))
      const perPiece = Math.max(1, Math.floor(CHUNK / unit))
      const pieces = Math.floor(repeat / perPiece)
      const rest = repeat - pieces * perPiece
      const piece = filler.repeat(perPiece)
      return repeated(prefix, (i) => (i < pieces ? piece : filler.repeat(rest)), pieces + 1, '', '"}')
    }
    case 'partial-errors': {
      const echo = body.echo === undefined ? '' : `,"detail":${JSON.stringify(`token ${tokenForms(token)[body.echo]}`)}`
      return repeated(
        `${openObject(body.page)}"errors":[`,
        (i) => `{"title":"Not Found Error","value":"${i}"${echo}}`,
        body.count,
        ',',
        ']}',
      )
    }
    case 'echo-token': {
      const forms = tokenForms(token)
      const spelled = body.forms.map((form) => forms[form])
      return whole(
        JSON.stringify({
          title: `${body.title ?? 'Invalid Request'} ${spelled[0] ?? ''}`.trim(),
          detail: `Bearer ${spelled.join(' ')}`,
          type: 'https://api.x.com/2/problems/invalid-request',
          errors: spelled.map((value) => ({ message: `token ${value}`, parameters: { authorization: [value] } })),
          authorization: `Bearer ${spelled[0] ?? ''}`,
        }),
      )
    }
  }
}

/** Bytes of a script's body before framing: what a byte cap is measured against. */
export const bodyLength = (script: Script, token: string): number => renderBody(script.body, token).length

/** The framed body: chunked transfer coding applied when asked. */
function* framed(body: RenderedBody, chunked: boolean): Generator<Uint8Array> {
  for (const chunk of body.chunks()) {
    if (chunk.length === 0) continue
    if (chunked) yield encoder.encode(`${chunk.length.toString(16)}\r\n`)
    yield chunk
    if (chunked) yield encoder.encode('\r\n')
  }
  if (chunked) yield encoder.encode('0\r\n\r\n')
}

type Connection = net.Socket

/** Resolves after `ms`, or as soon as the connection closes (then `false`). */
const pause = (socket: Connection, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (socket.destroyed) return resolve(false)
    const done = (open: boolean) => {
      if (timer !== undefined) clearTimeout(timer)
      socket.off('close', closed)
      resolve(open)
    }
    const closed = () => done(false)
    const timer = Number.isFinite(ms) ? setTimeout(() => done(!socket.destroyed), ms) : undefined
    socket.once('close', closed)
  })

/** Writes, waiting for 'drain' when the socket's buffer is full; `false` once the connection is gone. */
const send = (socket: Connection, bytes: Uint8Array | string) =>
  new Promise<boolean>((resolve) => {
    if (socket.destroyed) return resolve(false)
    if (socket.write(bytes)) return resolve(true)
    const done = (open: boolean) => {
      socket.off('drain', drained)
      socket.off('close', closed)
      resolve(open)
    }
    const drained = () => done(true)
    const closed = () => done(false)
    socket.once('drain', drained)
    socket.once('close', closed)
  })

const MAX_HEAD_BYTES = 64 * 1024

export class HostileXApi {
  readonly token: string
  readonly requests: HostileRequest[] = []
  readonly tls: TlsMode
  script: Script[] | ((request: HostileRequest) => Script)
  private server: net.Server | undefined
  private readonly sockets = new Set<Connection>()
  private readonly dir = mkdtempSync(join(tmpdir(), 'hostile-x-api-'))

  constructor(options: HostileXApiOptions = {}) {
    // Characters that JSON, URL and base64 each spell differently, so that every form is a distinct string.
    this.token = options.token ?? 'hostile-test-token/0123456789+abcdefghij%3Dklmnop=qrstuvwxyz"quote\\slash'
    this.script = options.script ?? []
    this.tls = options.tls ?? 'ok'
  }

  /** The certificate the client is told to trust (TWITTER_API_CA_FILE). */
  get caFile() {
    return join(this.dir, 'ca.pem')
  }

  get baseUrl() {
    const address = this.server?.address()
    if (address === null || address === undefined || typeof address === 'string') throw new Error('not started')
    return `https://127.0.0.1:${address.port}`
  }

  /** Requests of one hashtag, in order. */
  requestsFor(tag: string) {
    return this.requests.filter((request) => request.tag === tag)
  }

  async start(): Promise<this> {
    const trusted = selfSignedCertificate(this.dir, 'trusted', '127.0.0.1', 'IP:127.0.0.1,DNS:localhost')
    const served =
      this.tls === 'untrusted'
        ? selfSignedCertificate(this.dir, 'untrusted', '127.0.0.1', 'IP:127.0.0.1,DNS:localhost')
        : this.tls === 'wrong-host'
          ? selfSignedCertificate(this.dir, 'wrong-host', 'wrong.example', 'DNS:wrong.example')
          : trusted
    await Bun.write(this.caFile, readFileSync(this.tls === 'wrong-host' ? served.cert : trusted.cert))
    const accept = (socket: Connection) => this.accept(socket)
    this.server =
      this.tls === 'plaintext'
        ? net.createServer(accept)
        : tls.createServer({ cert: readFileSync(served.cert), key: readFileSync(served.key) }, accept)
    // A client that gives up during the handshake is no failure of the server.
    this.server.on('tlsClientError', () => {})
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject)
      this.server!.listen(0, '127.0.0.1', () => resolve())
    })
    return this
  }

  /** Destroys every connection, stalled ones included, then closes the port. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    this.sockets.clear()
    const server = this.server
    this.server = undefined
    if (server !== undefined) {
      await Promise.race([new Promise<void>((resolve) => server.close(() => resolve())), Bun.sleep(1_000)])
    }
    rmSync(this.dir, { recursive: true, force: true })
  }

  private accept(socket: Connection) {
    if (this.server === undefined) {
      socket.destroy()
      return
    }
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    // Clients that hang up or reset mid-answer are part of the game.
    socket.on('error', () => {})
    if (this.tls === 'plaintext') {
      // Whatever arrives (a TLS ClientHello), the answer is plain HTTP.
      socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'))
      return
    }
    let buffered = Buffer.alloc(0)
    let busy = false
    const next = async () => {
      if (busy) return
      const end = buffered.indexOf('\r\n\r\n')
      if (end === -1) {
        if (buffered.length > MAX_HEAD_BYTES) socket.destroy()
        return
      }
      const head = buffered.subarray(0, end).toString('latin1')
      buffered = buffered.subarray(end + 4)
      busy = true
      const keep = await this.answer(socket, head).catch(() => false)
      busy = false
      if (!keep) {
        // An answer that ended the connection itself (end()) is still flushing: destroying the
        // socket now would drop its tail, and the client would see a body cut short.
        if (!socket.destroyed && !socket.writableEnded) socket.destroy()
        return
      }
      void next()
    }
    socket.on('data', (chunk: Buffer) => {
      // Read on while an answer is under way (a paused socket would not tell that the client left).
      buffered = Buffer.concat([buffered, chunk])
      if (buffered.length > MAX_HEAD_BYTES) socket.destroy()
      else void next()
    })
  }

  private record(head: string): HostileRequest {
    const [requestLine = '', ...lines] = head.split('\r\n')
    const [method = '', target = ''] = requestLine.split(' ')
    const headers = new Map<string, string>()
    for (const line of lines) {
      const colon = line.indexOf(':')
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
    }
    const url = new URL(target, 'https://127.0.0.1')
    const query = url.searchParams.get('query')
    const tag = /^#([^\s()]+)/u.exec(query ?? '')?.[1]?.toLowerCase() ?? ''
    const request: HostileRequest = {
      index: this.requests.length,
      tagIndex: this.requests.filter((r) => r.tag === tag).length,
      at: Date.now(),
      method,
      path: url.pathname,
      tag,
      query,
      sinceId: url.searchParams.get('since_id'),
      nextToken: url.searchParams.get('next_token'),
      authorization: headers.get('authorization') ?? null,
    }
    this.requests.push(request)
    return request
  }

  private scriptFor(request: HostileRequest): Script {
    if (request.method !== 'GET' || request.path !== '/2/tweets/search/recent')
      return { status: 404, body: { kind: 'json', value: { title: 'Not Found Error', detail: `no route ${request.path}` } } }
    // The API's 401 carries no rate-limit headers.
    if (request.authorization !== `Bearer ${this.token}`)
      return {
        status: 401,
        rateLimit: 'missing',
        body: { kind: 'json', value: { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' } },
      }
    if (typeof this.script === 'function') return this.script(request)
    return this.script[request.index] ?? { body: { kind: 'empty' } }
  }

  /** Answers one request as its script says; true when the connection may carry the next one. */
  private async answer(socket: Connection, head: string): Promise<boolean> {
    const request = this.record(head)
    const script = this.scriptFor(request)
    if (script.stallBeforeHeadersMs !== undefined && !(await pause(socket, script.stallBeforeHeadersMs))) return false
    if (script.reset) {
      socket.resetAndDestroy()
      return false
    }
    if (script.closeBeforeHeaders) {
      socket.end()
      return false
    }
    for (const status of script.informational ?? []) {
      if (!(await send(socket, `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Informational'}\r\n\r\n`))) return false
    }
    const status = script.status ?? 200
    const text = script.statusText ?? STATUS_CODES[status] ?? 'Unknown'
    const noBody = status < 200 || status === 204 || status === 304
    const body = noBody ? whole('') : renderBody(script.body, this.token)
    const framing = script.framing ?? 'length'
    const headers: [string, string][] = [
      ['date', new Date().toUTCString()],
      ['server', 'hostile-x-api'],
    ]
    const type =
      script.contentType === undefined
        ? status >= 400
          ? 'application/problem+json'
          : 'application/json; charset=utf-8'
        : script.contentType
    if (type !== null && !noBody) headers.push(['content-type', type])
    headers.push(...this.rateLimitHeaders(script.rateLimit))
    if (!noBody) {
      if (framing === 'length') headers.push(['content-length', String(body.length)])
      else if (framing === 'chunked') headers.push(['transfer-encoding', 'chunked'])
      else if (typeof framing === 'object')
        headers.push(['content-length', String(Math.max(0, body.length + framing.lengthDelta))])
    }
    const after =
      script.afterBody ??
      (status < 200 ? 'close' : framing === 'length' || framing === 'chunked' || noBody ? 'keep-alive' : 'close')
    headers.push(['connection', after === 'keep-alive' ? 'keep-alive' : 'close'])
    for (const [name, value] of Object.entries(script.headers ?? {})) {
      const at = headers.findIndex(([existing]) => existing === name.toLowerCase())
      if (at === -1) headers.push([name, value])
      else headers[at] = [name, value]
    }
    const statusLine = `HTTP/1.1 ${status} ${text}\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`
    if (!(await send(socket, statusLine))) return false
    if (status < 200) {
      socket.end()
      return false
    }
    let sent = 0
    for (const piece of framed(body, framing === 'chunked')) {
      let chunk = piece
      const cut = script.closeAfterBodyBytes !== undefined && sent + chunk.length >= script.closeAfterBodyBytes
      if (cut) chunk = chunk.subarray(0, script.closeAfterBodyBytes! - sent)
      if (script.drip === undefined) {
        if (!(await send(socket, chunk))) return false
      } else {
        for (let i = 0; i < chunk.length; i += script.drip.bytes) {
          if (!(await send(socket, chunk.subarray(i, i + script.drip.bytes)))) return false
          if (!(await pause(socket, script.drip.everyMs))) return false
        }
      }
      sent += chunk.length
      if (cut) {
        socket.destroy()
        return false
      }
    }
    if (after === 'stall') {
      await pause(socket, Number.POSITIVE_INFINITY)
      return false
    }
    if (after === 'close') {
      socket.end()
      return false
    }
    return true
  }

  private rateLimitHeaders(spec: Script['rateLimit']): [string, string][] {
    if (spec === 'missing') return []
    const now = Math.floor(Date.now() / 1000)
    const value = (given: HeaderValue | null | undefined, fallback: string): string | null =>
      given === null ? null : given === undefined ? fallback : typeof given === 'string' ? given : String(now + given.inSeconds)
    const entries: [string, string | null][] = [
      ['x-rate-limit-limit', value(spec?.limit, '450')],
      ['x-rate-limit-remaining', value(spec?.remaining, '449')],
      ['x-rate-limit-reset', value(spec?.reset, String(now + 900))],
    ]
    return entries.filter((entry): entry is [string, string] => entry[1] !== null)
  }
}
