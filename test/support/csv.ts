/**
 * A strict RFC 4180 parser for the export tests, written apart from the encoder so that exports are
 * checked against the grammar rather than against themselves: every record ends in CRLF, a quote
 * appears only around a field or doubled inside one, and a CR or LF outside quotes is an error
 * rather than a line end.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = []
  let i = 0
  while (i < text.length) {
    const record: string[] = []
    for (;;) {
      let field = ''
      if (text[i] === '"') {
        i++
        for (;;) {
          if (i >= text.length) throw new Error('a quoted field is not closed')
          if (text[i] === '"') {
            if (text[i + 1] !== '"') {
              i++
              break
            }
            field += '"'
            i += 2
          } else field += text[i++]
        }
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
          if (text[i] === '"') throw new Error(`a quote inside an unquoted field at ${i}`)
          field += text[i++]
        }
      }
      record.push(field)
      if (text[i] === ',') {
        i++
        continue
      }
      if (text[i] === '\r' && text[i + 1] === '\n') {
        i += 2
        break
      }
      throw new Error(`a record does not end in CRLF at ${i}`)
    }
    records.push(record)
  }
  return records
}
