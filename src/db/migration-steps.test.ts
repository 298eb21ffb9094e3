import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { statementsOf, stepOf, UnsafeMigrationError } from './migration-steps'

/**
 * The schema files' statements as steps the service can apply again safely: each ALTER clause known
 * by what it changes, whatever its comments and strings hold; any other form refused when the files
 * are read, so that a migration that could not survive a killed start never ships.
 */

describe('reading schema statements', () => {
  test('statements are cut at their semicolons, not at one inside a string or a comment, and lose their comments', () => {
    const text = `-- a file comment; with a semicolon
CREATE TABLE IF NOT EXISTS a (
  x VARCHAR(8) NOT NULL COMMENT 'one; two -- not a comment', -- a comment; here
  PRIMARY KEY (x)
);
/* a block; comment */
INSERT IGNORE INTO a (x) VALUES ('it''s; fine');`
    expect(statementsOf(text)).toEqual([
      "CREATE TABLE IF NOT EXISTS a (\n  x VARCHAR(8) NOT NULL COMMENT 'one; two -- not a comment', \n  PRIMARY KEY (x)\n)",
      "INSERT IGNORE INTO a (x) VALUES ('it''s; fine')",
    ])
  })

  test('statements that a killed start could not redo safely are refused, naming the form', () => {
    for (const sql of [
      'CREATE TABLE a (x INT)',
      'DROP TABLE a',
      'RENAME TABLE a TO b',
      'TRUNCATE TABLE a',
      'ALTER TABLE a RENAME TO b',
      'ALTER TABLE a ADD PRIMARY KEY (x)',
      'ALTER TABLE a ADD CONSTRAINT c CHECK (x > 0)',
      'ALTER TABLE a ADD COLUMN y INT, ENGINE = InnoDB',
      'ALTER TABLE a CHANGE x y INT',
      'CREATE INDEX i ON a (x)',
    ]) {
      expect(() => stepOf(sql)).toThrow(UnsafeMigrationError)
    }
  })

  test('an ALTER TABLE of any clauses, with commas, semicolons, parentheses, quotes and dashes in their comments, reads as those clauses in order', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/)
    const hostile = fc.string({ unit: fc.constantFrom('a', ',', ';', '(', ')', "''", '"', '-- ', '`', ' ', '\\\\', '#') })
    const type = fc.constantFrom(
      { sql: 'VARCHAR(12)', type: 'varchar', length: 12 },
      { sql: 'MEDIUMTEXT', type: 'mediumtext', length: null },
      { sql: 'BIGINT UNSIGNED', type: 'bigint', length: null },
      { sql: 'DECIMAL(10, 2)', type: 'decimal', length: null },
    )
    const clause = fc.oneof(
      fc.record({ kind: fc.constant('add-column'), column: name, type, nullable: fc.boolean(), comment: hostile }),
      fc.record({ kind: fc.constant('modify-column'), column: name, type, nullable: fc.boolean(), comment: hostile }),
      fc.record({ kind: fc.constant('add-index'), index: name, columns: fc.array(name, { minLength: 1, maxLength: 3 }) }),
      fc.record({ kind: fc.constant('drop-column'), column: name }),
      fc.record({ kind: fc.constant('drop-index'), index: name }),
    )
    const written = (c: any): string => {
      switch (c.kind) {
        case 'add-column':
        case 'modify-column':
          return `${c.kind === 'add-column' ? 'ADD COLUMN' : 'MODIFY'} \`${c.column}\` ${c.type.sql}${c.nullable ? ' NULL' : ' NOT NULL'} COMMENT '${c.comment}'`
        case 'add-index':
          return `ADD KEY ${c.index} (${c.columns.join(', ')})`
        case 'drop-column':
          return `DROP COLUMN ${c.column}`
        default:
          return `DROP KEY ${c.index}`
      }
    }
    fc.assert(
      fc.property(name, fc.array(clause, { minLength: 1, maxLength: 5 }), (table, clauses) => {
        const sql = `ALTER TABLE ${table}\n  ${clauses
          .map((c) => `${written(c)}, -- why; (this)`)
          .join('\n  ')
          .replace(/, -- why; \(this\)$/, '; -- end')}`
        const [statement, ...rest] = statementsOf(sql)
        expect(rest).toEqual([])
        const step = stepOf(statement!)
        expect(step.kind).toBe('alter')
        if (step.kind !== 'alter') return
        expect(step.table).toBe(table)
        expect(
          step.clauses.map((c) => ({
            kind: c.kind,
            name: 'column' in c ? c.column : c.index,
            ...('definition' in c ? { definition: c.definition } : {}),
          })),
        ).toEqual(
          clauses.map((c: any) => ({
            kind: c.kind,
            name: c.column ?? c.index,
            ...(c.type === undefined ? {} : { definition: { type: c.type.type, length: c.type.length, nullable: c.nullable } }),
          })),
        )
      }),
      { numRuns: 300 },
    )
  })
})
