import { beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { advancesSinceId, HASHTAG_OUTCOMES, RUN_OUTCOMES } from '../../src/collector/outcome'
import { variables } from '../../src/config'
import { EVENT_ACTIONS, EVENTS } from '../../src/observability/events'
import { createCollectorMetrics } from '../../src/observability/metrics'
import { composeService } from '../../src/root'
import { MANUAL_FILES, manualLines, readManualFile } from '../support/manual'

/**
 * The manual's lists and tables (README.md and docs/) against the code they describe: configuration,
 * metrics, log events, outcomes, tables; and its links. Each failure names what to change. The configuration table's names and defaults
 * (from src/config/index.ts to the README) are checked by test/system/configuration-docs.test.ts; here the other direction
 * and the meanings.
 */

const ROOT = join(import.meta.dir, '..', '..')
const SRC = join(ROOT, 'src')
const README = manualLines()

/** The lines of a section: from its heading to the next heading of the same level or above. */
function section(heading: string): string[] {
  const start = README.indexOf(heading)
  if (start === -1) throw new Error(`the manual (README.md, docs/) has no heading "${heading}"; the test reads that section`)
  const level = heading.indexOf(' ')
  const end = README.findIndex((line, i) => i > start && /^#+ /.test(line) && line.indexOf(' ') <= level)
  return README.slice(start + 1, end === -1 ? undefined : end)
}

/** Body rows (cells trimmed) of the first table in `lines` whose header starts with `firstHeader`, or of the first table. */
function table(lines: string[], firstHeader?: string): string[][] {
  const cellsOf = (line: string) =>
    line
      .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
      .split('|')
      .map((cell) => cell.trim())
  const start = lines.findIndex(
    (line, i) =>
      line.startsWith('|') && !lines[i - 1]?.startsWith('|') && (firstHeader === undefined || cellsOf(line)[0] === firstHeader),
  )
  if (start === -1)
    throw new Error(`no table${firstHeader === undefined ? '' : ` with the header "${firstHeader}"`} in that section`)
  const end = lines.findIndex((line, i) => i > start && !line.startsWith('|'))
  return lines.slice(start + 2, end === -1 ? undefined : end).map(cellsOf)
}

/** `code` spans of a piece of Markdown. */
const codeSpans = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)

/** A bullet of a list, continuation lines included, found by how it starts. */
function bullet(lines: string[], start: string): string {
  const first = lines.findIndex((line) => line.startsWith(start))
  if (first === -1) throw new Error(`no bullet starting with "${start}" in that section`)
  const end = lines.findIndex((line, i) => i > first && (line.startsWith('- ') || line.trim() === ''))
  return lines
    .slice(first, end === -1 ? undefined : end)
    .map((line) => line.trim())
    .join(' ')
}

/** Production sources: not tests, not test helpers. */
const productionFiles = (dir = SRC): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'testing' ? [] : productionFiles(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : []
  })
const sources = productionFiles().map((path) => ({ file: relative(ROOT, path), text: readFileSync(path, 'utf8') }))
const lineAt = (text: string, index: number) => text.slice(0, index).split('\n').length

describe('the Configuration table', () => {
  const rows = () => table(section('# Configuration'))
  const normal = (text: string) => text.replace(/[`']/g, '').replace(/\s+/g, ' ').trim()

  test('every row names a variable src/config/index.ts declares', () => {
    const unknown = rows()
      .map(([name]) => name!.replace(/`/g, ''))
      .filter((name) => !Object.hasOwn(variables, name))
      .map(
        (name) => `${name}: the service reads no such variable; remove its row or declare it in variables (src/config/index.ts)`,
      )
    expect(unknown).toEqual([])
  })

  test("every row's meaning begins with its variable's description in src/config/index.ts (it may say more)", () => {
    const differing = rows().flatMap(([cell, , meaning]) => {
      const name = cell!.replace(/`/g, '')
      if (!Object.hasOwn(variables, name)) return []
      const description = normal(variables[name as keyof typeof variables].description).replace(/\.$/, '')
      return normal(meaning!).startsWith(description)
        ? []
        : [
            `${name}: start its meaning with "${description}" (its description in src/config/index.ts), or change that description`,
          ]
    })
    expect(differing).toEqual([])
  })
})

describe('the metrics tables', () => {
  interface Row {
    table: 'Collector metrics' | 'Metrics'
    names: string[]
    type: string
    meaning: string
  }
  const rowsOf = (heading: string, name: Row['table']): Row[] =>
    table(section(heading)).map(([names, type, meaning]) => ({
      table: name,
      names: codeSpans(names!).map((n) => n.replace(/\{.*\}$/, '')),
      type: type!,
      meaning: meaning!,
    }))
  let rows: Row[]
  let exact: (Row & { name: string })[]
  const matches = (pattern: string, name: string) => new RegExp(`^${pattern.replace(/\*/g, '\\w*')}$`).test(name)

  /** Metric name → type, from the `# TYPE` lines of an exposition: metrics without samples included. */
  const typesOf = (text: string) => new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]))

  let served: Map<string, string>
  let defaults: Map<string, string>
  let collector: Map<string, string>

  beforeAll(async () => {
    rows = [...rowsOf('## Collector metrics', 'Collector metrics'), ...rowsOf('## Metrics', 'Metrics')]
    exact = rows.flatMap((row) => row.names.filter((name) => !name.includes('*')).map((name) => ({ ...row, name })))
    // The service as it is composed, collector included, scraped once: whatever src/root.ts and
    // src/app.ts register is served here. No database is needed: the gauge read from it keeps its
    // last value (none) when the database does not answer.
    const service = composeService({
      MYSQL_URL: 'mysql://root@127.0.0.1:1/readme_metrics',
      MYSQL_CONNECT_TIMEOUT: '200ms',
      COLLECT_SOURCE: 'sample',
      LOG_LEVEL: 'fatal',
    })
    try {
      served = typesOf(await (await service.app.handle(new Request('http://localhost/metrics'))).text())
    } finally {
      await Promise.all([service.db.close(), service.writer?.close()])
    }
    const own = new Registry()
    collectDefaultMetrics({ register: own })
    defaults = typesOf(await own.metrics())
    const collecting = new Registry()
    createCollectorMetrics(collecting)
    collector = typesOf(await collecting.metrics())
  })

  test('every metric /metrics serves is in its table, with its type', () => {
    expect(served.size).toBeGreaterThan(defaults.size)
    const missing = [...served]
      .filter(([name]) => !defaults.has(name))
      .flatMap(([name, type]) => {
        const where = collector.has(name) ? 'Collector metrics' : 'Metrics'
        const row = exact.find((r) => r.name === name && r.table === where)
        if (row === undefined) return [`${name}: add a row | \`${name}\` | ${type} | … | to the ${where} table`]
        return row.type === type ? [] : [`${name}: its type is ${type}; the ${where} table says ${row.type}`]
      })
    expect(missing).toEqual([])
  })

  test('every metric the tables name is served, and listed in the table of its part', () => {
    const unknown = exact.flatMap(({ name, table }) => {
      if (!served.has(name) || defaults.has(name))
        return [`${name}: /metrics serves no such metric; remove its row from the ${table} table`]
      const where = collector.has(name) ? 'Collector metrics' : 'Metrics'
      return table === where ? [] : [`${name}: move its row from the ${table} table to the ${where} table`]
    })
    expect(unknown).toEqual([])
  })

  test("prom-client's default metrics are what the `various` row covers, and the names it quotes exist", () => {
    const various = rows.filter((row) => row.type === 'various')
    expect(various.length).toBeGreaterThan(0)
    const patterns = various.flatMap((row) => row.names)
    const problems = [
      ...[...defaults.keys()]
        .filter((name) => !served.has(name))
        .map((name) => `${name}: a default metric /metrics does not serve; see metricsPlugin`),
      ...[...defaults.keys()]
        .filter((name) => !patterns.some((pattern) => matches(pattern, name)))
        .map((name) => `${name}: a default metric no pattern of the \`various\` row covers; add its prefix to that row`),
      ...patterns
        .filter((pattern) => ![...defaults.keys()].some((name) => matches(pattern, name)))
        .map((pattern) => `${pattern}: matches no default metric; remove it from the \`various\` row`),
      ...various
        .flatMap((row) => codeSpans(row.meaning))
        .filter((name) => !defaults.has(name))
        .map((name) => `${name}: quoted by the \`various\` row but no default metric; change or remove it`),
    ]
    expect(problems).toEqual([])
  })

  test('a row naming a group of metrics by a pattern points at rows that list them one by one', () => {
    const pointers = rows.filter((row) => row.type !== 'various').flatMap((row) => row.names.filter((name) => name.includes('*')))
    const dangling = pointers
      .filter((pattern) => !exact.some(({ name }) => matches(pattern, name)))
      .map((pattern) => `${pattern}: no row of either table names a metric it matches; remove it or add those metrics`)
    expect(dangling).toEqual([])
  })
})

describe('the log events', () => {
  test('the events table is the list in src/observability/events.ts, in its order, with its meanings', () => {
    const documented = table(section('## Logs'), '`event.action`')
    const expected = EVENT_ACTIONS.map((action) => [`\`${action}\``, EVENTS[action]])
    if (!Bun.deepEquals(documented, expected)) {
      const rows = expected.map(([action, meaning]) => `| ${action} | ${meaning} |`).join('\n')
      throw new Error(`the README's events table differs from src/observability/events.ts; replace its rows with:\n${rows}`)
    }
  })

  test('every action the sources log is in the list', () => {
    const unlisted = sources.flatMap(({ file, text }) =>
      [...text.matchAll(/\baction:\s*(['"`])(.*?)\1/g)]
        .filter((m) => !Object.hasOwn(EVENTS, m[2]!))
        .map(
          (m) =>
            `${file}:${lineAt(text, m.index)}: ${m[2]} is not in EVENTS (src/observability/events.ts); add it with its meaning`,
        ),
    )
    expect(unlisted).toEqual([])
  })

  test('every action in the list is logged somewhere', () => {
    const used = new Set(sources.flatMap(({ text }) => [...text.matchAll(/\baction:\s*(['"`])(.*?)\1/g)].map((m) => m[2]!)))
    const unused = EVENT_ACTIONS.filter((action) => !used.has(action)).map(
      (action) => `${action}: no source logs it; remove it from EVENTS (src/observability/events.ts) and the README`,
    )
    expect(unused).toEqual([])
  })

  test('every log call in the sources names its event.action', () => {
    const calls = sources.flatMap(({ file, text }) => logCalls(text).map((call) => ({ file, ...call })))
    // The reading below found the calls at all: at least one per action logged.
    expect(calls.length).toBeGreaterThanOrEqual(EVENT_ACTIONS.length)
    const without = calls
      .filter((call) => call.action === null)
      .map(
        (call) =>
          `${call.file}:${call.line}: give this log call event: { action: '…' }, an action from src/observability/events.ts`,
      )
    expect(without).toEqual([])
  })

  test('the reading of log calls sees through strings, templates, comments and nested calls', () => {
    const sample = [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal, read as source
      "logger.info({ event: { action: 'a-b' }, twitter: { n: f(1) } }, `x ${g(`)`)} )`) // )",
      "deps.logger[level ? 'info' : 'warn']({ err, /* ) */ }, 'no action (here')",
      "createLogger({ values }).fatal({ event: { action: 'c-d' } }, message)",
      "say.error('not a logger')",
    ].join('\n')
    expect(logCalls(sample)).toEqual([
      { line: 1, action: 'a-b' },
      { line: 2, action: null },
      { line: 3, action: 'c-d' },
    ])
  })

  test('every event the README names elsewhere is in the list', () => {
    const prefixes = new Set(EVENT_ACTIONS.map((action) => action.split('-')[0]!))
    // Line by line, outside fenced blocks: their ``` would pair the backticks of the lines around them wrongly.
    let fenced = false
    const prose = README.filter((line) => {
      if (line.startsWith('```')) fenced = !fenced
      return !fenced && !line.startsWith('```')
    })
    const named = prose
      .flatMap(codeSpans)
      .map((span) => span.replace(/^event\.action: /, ''))
      .filter((span) => /^[a-z]+(-[a-z]+)+$/.test(span) && prefixes.has(span.split('-')[0]!))
    const unknown = [...new Set(named)]
      .filter((name) => !Object.hasOwn(EVENTS, name))
      .map((name) => `${name}: the README names an event no line carries; use one of src/observability/events.ts`)
    expect(unknown).toEqual([])
  })
})

describe('the outcomes', () => {
  const outcomesBullet = () => bullet(section('# Collector'), '- **Outcomes**')

  test('the outcomes per hashtag are HASHTAG_OUTCOMES (src/collector/outcome.ts), in its order', () => {
    const outcomes = outcomesBullet()
    const first = outcomes.slice(outcomes.indexOf(':') + 1, outcomes.indexOf('. '))
    expect({ listed: codeSpans(first).filter((span) => /^[a-z_]+$/.test(span)) }).toEqual({ listed: [...HASHTAG_OUTCOMES] })
  })

  test('the outcomes said to move the since_id forward are those advancesSinceId accepts', () => {
    const sentence =
      outcomesBullet()
        .split('. ')
        .find((s) => s.includes('since_id forward')) ?? ''
    expect({ advancing: codeSpans(sentence) }).toEqual({ advancing: HASHTAG_OUTCOMES.filter(advancesSinceId) })
  })

  test('in_progress is documented, and written by the collector', () => {
    expect({ readme: codeSpans(outcomesBullet()).includes('in_progress') }).toEqual({ readme: true })
    expect({ written: sources.some(({ text }) => text.includes("last_outcome = 'in_progress'")) }).toEqual({ written: true })
  })

  test('the run outcomes of twitter_collector_runs_total are RUN_OUTCOMES (src/collector/outcome.ts), in its order', () => {
    const row = table(section('## Collector metrics')).find(([name]) => name!.startsWith('`twitter_collector_runs_total'))
    const meaning = row?.[2] ?? ''
    expect({ listed: codeSpans(meaning.slice(meaning.indexOf(':') + 1)) }).toEqual({ listed: [...RUN_OUTCOMES] })
  })
})

describe('the schema paragraph', () => {
  const created = readdirSync(join(ROOT, 'sql'))
    .filter((name) => name.endsWith('.sql'))
    .flatMap((name) =>
      [...readFileSync(join(ROOT, 'sql', name), 'utf8').matchAll(/CREATE TABLE IF NOT EXISTS (\w+)/g)].map((m) => m[1]!),
    )
  const WORDS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten']

  test('it names every table sql/*.sql creates, and how many there are', () => {
    const schema = bullet(section('# Architecture'), '- **Schema**')
    const named = new Set(codeSpans(schema).filter((span) => /^[a-z_]+$/.test(span)))
    expect({ missing: created.filter((t) => !named.has(t)) }).toEqual({ missing: [] })
    expect({ count: schema.toLowerCase().includes(`${WORDS[created.length]} innodb tables`) }).toEqual({ count: true })
  })
})

/** Calls of a logger's level methods in a source, with the event.action their fields name (null: none). */
function logCalls(text: string): { line: number; action: string | null }[] {
  const call = /\b(?:logger|log|createLogger\([^()]*\))\s*(?:\.\s*(?:trace|debug|info|warn|error|fatal)|\[[^\]]*\])\s*\(/g
  return [...text.matchAll(call)].map((m) => {
    const open = m.index + m[0].length
    const args = text.slice(open, closing(text, open, ')'))
    const action = /\bevent\s*:\s*\{[^{}]*\baction\s*:\s*'([^']+)'/.exec(args)?.[1] ?? null
    return { line: lineAt(text, m.index), action }
  })
}

/** Index of the `closer` that ends the code starting at `i`: brackets nested, strings, templates and comments skipped. */
function closing(s: string, i: number, closer: string): number {
  const stack: string[] = []
  const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' }
  while (i < s.length) {
    const c = s[i]!
    if (stack.length === 0 && c === closer) return i
    if (c === "'" || c === '"') {
      i++
      while (i < s.length && s[i] !== c) i += s[i] === '\\' ? 2 : 1
    } else if (c === '`') {
      i++
      while (i < s.length && s[i] !== '`') {
        if (s[i] === '\\') i += 2
        else if (s[i] === '$' && s[i + 1] === '{') i = closing(s, i + 2, '}') + 1
        else i++
      }
    } else if (c === '/' && s[i + 1] === '/') {
      i = s.indexOf('\n', i) === -1 ? s.length : s.indexOf('\n', i)
      continue
    } else if (c === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2)
      i = end === -1 ? s.length : end + 1
    } else if (pairs[c] !== undefined) {
      stack.push(pairs[c]!)
    } else if (c === stack.at(-1)) {
      stack.pop()
    }
    i++
  }
  return i
}

describe('the manual: README.md as its front door, docs/ for the rest', () => {
  /** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as hyphens. */
  const anchorOf = (heading: string) =>
    heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
  const anchorsOf = (file: string) =>
    new Set(
      readManualFile(file)
        .split('\n')
        .filter((line) => /^#{1,6} /.test(line))
        .map((line) => anchorOf(line.replace(/^#+ /, ''))),
    )

  test('the README stays a front door: at most 250 lines', () => {
    expect(readManualFile('README.md').split('\n').length).toBeLessThanOrEqual(250)
  })

  test('the README links every document of docs/', () => {
    const readme = readManualFile('README.md')
    for (const file of MANUAL_FILES.filter((f) => f.startsWith('docs/')))
      expect({ file, linked: readme.includes(`](${file})`) }).toEqual({ file, linked: true })
  })

  test('every relative link of the manual leads to a file of the repository, and every #anchor to a heading of it', () => {
    const broken: string[] = []
    for (const file of MANUAL_FILES) {
      const text = readManualFile(file).replace(/```[\s\S]*?```/g, '')
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:)/.test(target!)) continue
        const [path, anchor] = target!.split('#') as [string, string | undefined]
        const resolved = path === '' ? file : relative(ROOT, join(ROOT, file, '..', path))
        if (!existsSync(join(ROOT, resolved))) {
          broken.push(`${file}: ${target} (no file ${resolved})`)
          continue
        }
        if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor))
          broken.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`)
      }
    }
    expect(broken).toEqual([])
  })
})
