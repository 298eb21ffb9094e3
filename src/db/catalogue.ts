import { type Clause, type ColumnDefinition, columnDefinition, firstMatch, type Step, topLevelParts } from './migration-steps'
import type { Row, Sql } from './sql'

/**
 * The shape of the tables: what the schema files declare (folded from their CREATE and ALTER steps)
 * and what the server's catalogue holds. The service runs on the second only when it holds the
 * first: columns with their types and nullability, indexes with their columns. What the catalogue
 * holds beyond it (an index added by an operator) is left alone.
 */

export interface TableShape {
  columns: Map<string, ColumnDefinition>
  /** Index name → its columns in order; the primary key is `PRIMARY`. */
  indexes: Map<string, string[]>
}

export type Shape = Map<string, TableShape>

const INDEX = /^(?:UNIQUE\s+)?(?:KEY|INDEX)\s+`?(\w+)`?\s*\(([^)]*)\)/i
const PRIMARY = /^PRIMARY\s+KEY\s*\(([^)]*)\)/i
const COLUMN = /^`?(\w+)`?\s+([\s\S]+)$/
/** Table items that are neither columns nor indexes the catalogue check reads. */
const OTHER_ITEM = /^(CONSTRAINT|FOREIGN|CHECK|FULLTEXT|SPATIAL)\b/i

/** `(a, b DESC, c(10))` → [a, b, c] */
const indexColumns = (list: string) => topLevelParts(list).map((part) => /^`?(\w+)`?/.exec(part)![1]!)

/** A CREATE TABLE's columns and indexes, from the text between its outer parentheses. */
function createdShape(sql: string): TableShape {
  const body = sql.slice(sql.indexOf('(') + 1, sql.lastIndexOf(')'))
  const shape: TableShape = { columns: new Map(), indexes: new Map() }
  for (const item of topLevelParts(body)) {
    firstMatch<unknown>(item, [
      [PRIMARY, (m) => shape.indexes.set('PRIMARY', indexColumns(m[1]!))],
      [INDEX, (m) => shape.indexes.set(m[1]!, indexColumns(m[2]!))],
      [OTHER_ITEM, () => undefined],
      [COLUMN, (m) => shape.columns.set(m[1]!, columnDefinition(m[2]!))],
    ])
  }
  return shape
}

function applyClause(table: TableShape, clause: Clause): void {
  switch (clause.kind) {
    case 'add-column':
    case 'modify-column':
      table.columns.set(clause.column, clause.definition)
      return
    case 'drop-column':
      table.columns.delete(clause.column)
      return
    case 'add-index': {
      const match = INDEX.exec(clause.text.replace(/^ADD\s+/i, ''))
      table.indexes.set(clause.index, match === null ? [] : indexColumns(match[2]!))
      return
    }
    case 'drop-index':
      table.indexes.delete(clause.index)
  }
}

/** The shape the steps declare, applied in order on an empty database. */
export function declaredShape(steps: readonly Step[]): Shape {
  const shape: Shape = new Map()
  for (const step of steps) {
    if (step.kind === 'create' && !shape.has(step.table)) shape.set(step.table, createdShape(step.sql))
    if (step.kind === 'alter') {
      const table = shape.get(step.table)
      if (table !== undefined) for (const clause of step.clauses) applyClause(table, clause)
    }
  }
  return shape
}

interface ColumnRow extends Row {
  table_name: string
  column_name: string
  data_type: string
  length: number | string | null
  nullable: string
}

interface IndexRow extends Row {
  table_name: string
  index_name: string
  column_name: string
}

/** The tables of the connection's current database, as the catalogue holds them. */
export async function readShape(sql: Pick<Sql, 'rows'>): Promise<Shape> {
  // Upper-case aliases are not portable through information_schema's column names: alias them all.
  const columns = await sql.rows<ColumnRow>(
    `SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name, LOWER(DATA_TYPE) AS data_type,
            CHARACTER_MAXIMUM_LENGTH AS length, IS_NULLABLE AS nullable
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`,
  )
  const indexes = await sql.rows<IndexRow>(
    `SELECT TABLE_NAME AS table_name, INDEX_NAME AS index_name, COLUMN_NAME AS column_name
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
  )
  const shape: Shape = new Map()
  const tableOf = (name: string): TableShape => {
    const table = shape.get(name) ?? { columns: new Map(), indexes: new Map() }
    shape.set(name, table)
    return table
  }
  for (const row of columns) {
    const type = row.data_type
    tableOf(row.table_name).columns.set(row.column_name, {
      type,
      length: /char|binary/.test(type) && row.length !== null ? Number(row.length) : null,
      nullable: row.nullable === 'YES',
    })
  }
  for (const row of indexes) {
    const table = tableOf(row.table_name)
    table.indexes.set(row.index_name, [...(table.indexes.get(row.index_name) ?? []), row.column_name])
  }
  return shape
}

const sameColumn = (a: ColumnDefinition, b: ColumnDefinition) =>
  a.type === b.type && a.length === b.length && a.nullable === b.nullable

const describeColumn = (c: ColumnDefinition) =>
  `${c.type}${c.length === null ? '' : `(${c.length})`}${c.nullable ? '' : ' not null'}`

/** Whether the clause's effect is in the table already (so running it again would fail or redo work). */
export function clauseInEffect(table: TableShape | undefined, clause: Clause): boolean {
  switch (clause.kind) {
    case 'add-column':
      return table?.columns.has(clause.column) === true
    case 'modify-column': {
      const column = table?.columns.get(clause.column)
      return column !== undefined && sameColumn(column, clause.definition)
    }
    case 'drop-column':
      return table?.columns.has(clause.column) !== true
    case 'add-index':
      return table?.indexes.has(clause.index) === true
    case 'drop-index':
      return table?.indexes.has(clause.index) !== true
  }
}

/** What `actual` lacks of `expected`, one line per difference; empty when it holds all of it. */
export function shapeDifferences(expected: Shape, actual: Shape): string[] {
  const differences: string[] = []
  for (const [name, want] of expected) {
    const have = actual.get(name)
    if (have === undefined) {
      differences.push(`table ${name} is missing`)
      continue
    }
    for (const [column, definition] of want.columns) {
      const found = have.columns.get(column)
      if (found === undefined) differences.push(`column ${name}.${column} is missing`)
      else if (!sameColumn(found, definition))
        differences.push(`column ${name}.${column} is ${describeColumn(found)}, not ${describeColumn(definition)}`)
    }
    for (const [index, columns] of want.indexes) {
      const found = have.indexes.get(index)
      if (found === undefined) differences.push(`index ${name}.${index} is missing`)
      else if (found.join() !== columns.join())
        differences.push(`index ${name}.${index} is on (${found.join(', ')}), not (${columns.join(', ')})`)
    }
  }
  return differences
}
