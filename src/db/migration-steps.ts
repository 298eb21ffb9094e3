import { mysqlSplitterOptions, splitQuery } from 'dbgate-query-splitter'

/**
 * What the schema files are made of, statement by statement, in the forms the service can apply
 * safely whatever happened before: a start may have been killed after any statement (DDL commits by
 * itself), or a table may have been dropped and re-created by hand. So each statement is one of
 *
 * - `create`: CREATE TABLE IF NOT EXISTS, idempotent by itself;
 * - `alter`: ALTER TABLE made of clauses whose effect can be read in the catalogue (ADD COLUMN,
 *   ADD KEY/INDEX, MODIFY COLUMN, DROP COLUMN, DROP KEY/INDEX): only the clauses not in effect yet
 *   are run;
 * - `data`: INSERT, UPDATE, DELETE or REPLACE. Those of a file not recorded yet run in one
 *   transaction that ends with the file's record, so the record is written exactly when they are.
 *   A crash before that commit runs them again, so they must give the same rows when run twice.
 *
 * Any other statement is refused when the files are read: a migration that cannot be made safe is
 * a bug of the release, found by its tests, not by a start on a deployed database.
 */

export type Clause =
  | { kind: 'add-column'; column: string; definition: ColumnDefinition; text: string }
  | { kind: 'modify-column'; column: string; definition: ColumnDefinition; text: string }
  | { kind: 'drop-column'; column: string; text: string }
  | { kind: 'add-index'; index: string; text: string }
  | { kind: 'drop-index'; index: string; text: string }

/** What a column definition says that the catalogue can confirm. */
export interface ColumnDefinition {
  /** The base type, lowercase: `mediumtext`, `varchar`, `bigint`. */
  type: string
  /** The length in characters for the string types that declare one. */
  length: number | null
  nullable: boolean
}

export type Step =
  | { kind: 'create'; table: string; sql: string }
  | { kind: 'alter'; table: string; clauses: Clause[]; sql: string }
  | { kind: 'data'; sql: string }

export class UnsafeMigrationError extends Error {
  override name = 'UnsafeMigrationError'
}

/** The statements of one file, in order, without their comments. */
export function statementsOf(text: string): string[] {
  return (splitQuery(text, mysqlSplitterOptions) as string[]).map(withoutComments).filter((sql) => sql.length > 0)
}

/** The text without `--` and `#` line comments and `/* … *\/` comments; quoted strings kept whole. */
export function withoutComments(text: string): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === "'" || c === '"' || c === '`') {
      const end = closingQuote(text, i)
      out += text.slice(i, end + 1)
      i = end
    } else if ((c === '-' && text.startsWith('-- ', i)) || c === '#' || (c === '-' && text.startsWith('--\n', i))) {
      const end = text.indexOf('\n', i)
      i = end === -1 ? text.length : end - 1
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end === -1 ? text.length : end + 1
      out += ' '
    } else {
      out += c
    }
  }
  return out.trim()
}

/** Where the quoted string starting at `start` ends (a doubled quote or a backslash escapes one). */
function closingQuote(text: string, start: number): number {
  const quote = text[start]!
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\' && quote !== '`') i++
    else if (text[i] === quote) {
      if (text[i + 1] === quote) i++
      else return i
    }
  }
  return text.length - 1
}

/** `text` cut at the commas outside parentheses and quotes. */
export function topLevelParts(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === "'" || c === '"' || c === '`') i = closingQuote(text, i)
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(from, i).trim())
      from = i + 1
    }
  }
  parts.push(text.slice(from).trim())
  return parts
}

const NAME = '`?(\\w+)`?'
const CREATE = new RegExp(`^CREATE\\s+TABLE\\s+IF\\s+NOT\\s+EXISTS\\s+${NAME}`, 'i')
const ALTER = new RegExp(`^ALTER\\s+TABLE\\s+${NAME}\\s+([\\s\\S]+)$`, 'i')
const DATA = /^(INSERT|UPDATE|DELETE|REPLACE)\b/i
const ADD_COLUMN = new RegExp(`^ADD\\s+(?:COLUMN\\s+)?${NAME}\\s+([\\s\\S]+)$`, 'i')
const MODIFY_COLUMN = new RegExp(`^MODIFY\\s+(?:COLUMN\\s+)?${NAME}\\s+([\\s\\S]+)$`, 'i')
const DROP_COLUMN = new RegExp(`^DROP\\s+(?:COLUMN\\s+)?${NAME}$`, 'i')
const ADD_INDEX = new RegExp(`^ADD\\s+(?:UNIQUE\\s+)?(?:KEY|INDEX)\\s+${NAME}\\s*\\(`, 'i')
const DROP_INDEX = new RegExp(`^DROP\\s+(?:KEY|INDEX)\\s+${NAME}$`, 'i')
/** ADD followed by one of these words adds something other than a column. */
const NOT_A_COLUMN = /^ADD\s+(KEY|INDEX|UNIQUE|PRIMARY|CONSTRAINT|FOREIGN|FULLTEXT|SPATIAL|CHECK|PARTITION)\b/i

/** The type, length and nullability a column definition declares. */
export function columnDefinition(definition: string): ColumnDefinition {
  const match = /^(\w+)\s*(?:\(\s*(\d+)\s*\))?/.exec(definition)
  if (match === null) throw new UnsafeMigrationError(`not a column definition: ${definition}`)
  const type = match[1]!.toLowerCase()
  return {
    type,
    length: match[2] !== undefined && /char|binary/.test(type) ? Number(match[2]) : null,
    nullable: !/\bNOT\s+NULL\b/i.test(definition) && !/\bPRIMARY\s+KEY\b/i.test(definition),
  }
}

/** The result of the first rule whose pattern matches `text`, or undefined. */
export function firstMatch<T>(text: string, rules: [RegExp, (match: RegExpExecArray) => T][]): T | undefined {
  for (const [pattern, make] of rules) {
    const match = pattern.exec(text)
    if (match !== null) return make(match)
  }
  return undefined
}

const CLAUSES: [RegExp, (match: RegExpExecArray) => Omit<Clause, 'text'>][] = [
  [ADD_INDEX, (m) => ({ kind: 'add-index', index: m[1]! })],
  [NOT_A_COLUMN, () => unsafe()],
  [ADD_COLUMN, (m) => ({ kind: 'add-column', column: m[1]!, definition: columnDefinition(m[2]!) })],
  [MODIFY_COLUMN, (m) => ({ kind: 'modify-column', column: m[1]!, definition: columnDefinition(m[2]!) })],
  [DROP_INDEX, (m) => ({ kind: 'drop-index', index: m[1]! })],
  [DROP_COLUMN, (m) => ({ kind: 'drop-column', column: m[1]! })],
]

const unsafe = (): never => {
  throw new UnsafeMigrationError('an ALTER TABLE clause whose effect cannot be checked in the catalogue')
}

function clauseOf(text: string): Clause {
  try {
    const clause = firstMatch(text, CLAUSES) ?? unsafe()
    return { ...clause, text } as Clause
  } catch (error) {
    if (error instanceof UnsafeMigrationError) throw new UnsafeMigrationError(`${error.message}: ${text}`)
    throw error
  }
}

/** One statement as a step; UnsafeMigrationError for a statement that could not be applied again safely. */
export function stepOf(sql: string): Step {
  const step = firstMatch<Step>(sql, [
    [CREATE, (m) => ({ kind: 'create', table: m[1]!, sql })],
    [ALTER, (m) => ({ kind: 'alter', table: m[1]!, clauses: topLevelParts(m[2]!).map(clauseOf), sql })],
    [DATA, () => ({ kind: 'data', sql })],
  ])
  if (step === undefined) throw new UnsafeMigrationError(`a statement the service cannot apply again safely: ${sql.slice(0, 80)}`)
  return step
}
