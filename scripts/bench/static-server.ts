/**
 * The benchmark's baseline: a bare Bun.serve answering every request with the same static JSON
 * body (read from the file given as first argument). What the service is compared with.
 */
const [file, port] = process.argv.slice(2)
const body = await Bun.file(file!).bytes()
const server = Bun.serve({
  port: Number(port ?? 0),
  hostname: '127.0.0.1',
  fetch: () => new Response(body, { headers: { 'content-type': 'application/json; charset=utf-8' } }),
})
console.log(server.port)

export {}
