import { connect } from 'node:net'

/**
 * HTTP/1.x over a raw TCP socket, for tests that must put on the wire exactly what they mean: odd
 * Host headers or none, absolute-form targets, HTTP/1.0, broken escapes, pipelined requests. A
 * fetch() client would repair or refuse most of them.
 */

export interface RawAnswer {
  status: number
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Record<string, string>
  body: string
}

/**
 * Writes `bytes` on a new connection to 127.0.0.1:port and returns every byte that came back, once
 * the server has closed the connection or `idleMs` passed without a byte (a server that keeps the
 * connection open after its last answer).
 */
export function exchange(port: number, bytes: string | Buffer, options: { idleMs?: number; timeoutMs?: number } = {}) {
  const { idleMs = 10_000, timeoutMs = 10_000 } = options
  return new Promise<Buffer>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const deadline = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
    socket.setTimeout(idleMs, () => socket.end())
    socket.on('connect', () => socket.write(bytes))
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', (error) => {
      clearTimeout(deadline)
      // A server may reset a connection it refuses; what it sent before still counts.
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') resolve(Buffer.concat(chunks))
      else reject(error)
    })
    socket.on('close', () => {
      clearTimeout(deadline)
      resolve(Buffer.concat(chunks))
    })
  })
}

/** Decodes a chunked body; the rest of the text after it is returned too. */
function dechunk(text: string): { body: string; rest: string } {
  let rest = text
  let body = ''
  for (;;) {
    const lineEnd = rest.indexOf('\r\n')
    if (lineEnd === -1) return { body, rest: '' }
    const size = Number.parseInt(rest.slice(0, lineEnd), 16)
    if (!(size > 0)) return { body, rest: rest.slice(rest.indexOf('\r\n\r\n', lineEnd) + 4 || rest.length) }
    body += rest.slice(lineEnd + 2, lineEnd + 2 + size)
    rest = rest.slice(lineEnd + 2 + size + 2)
  }
}

/**
 * The responses in `bytes`, in order. `heads` says, per response, whether it answers a HEAD (no
 * body whatever its Content-Length says); bodies are decoded as UTF-8 (the API sends JSON).
 */
export function parseAnswers(bytes: Buffer, heads: boolean[] = []): RawAnswer[] {
  const answers: RawAnswer[] = []
  let text = bytes.toString('latin1')
  while (text.startsWith('HTTP/')) {
    const end = text.indexOf('\r\n\r\n')
    if (end === -1) break
    const [statusLine, ...lines] = text.slice(0, end).split('\r\n')
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
    }
    const status = Number(statusLine?.split(' ')[1])
    let rest = text.slice(end + 4)
    let body = ''
    const bodiless = heads[answers.length] === true || status === 304 || status === 204 || (status >= 100 && status < 200)
    if (!bodiless && headers['transfer-encoding'] === 'chunked') {
      ;({ body, rest } = dechunk(rest))
    } else if (!bodiless && headers['content-length'] !== undefined) {
      const length = Number(headers['content-length'])
      body = rest.slice(0, length)
      rest = rest.slice(length)
    } else if (!bodiless && headers.connection === 'close') {
      body = rest
      rest = ''
    }
    answers.push({ status, headers, body: Buffer.from(body, 'latin1').toString('utf8') })
    text = rest
  }
  return answers
}

/** One request on its own connection; its answer, or null when the server closed without one. */
export async function rawRequest(port: number, request: string | Buffer, head = false): Promise<RawAnswer | null> {
  return parseAnswers(await exchange(port, request), [head])[0] ?? null
}

/** Bun's own refusal of a request it cannot parse, sent before the app sees anything. */
export const isParserRefusal = (answer: RawAnswer): boolean =>
  answer.body === '' && answer.headers['content-type'] === undefined && answer.headers.connection === 'close'
