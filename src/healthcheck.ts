/**
 * The container's health check: exit 0 when /health/ready answers 200 within 3 s. The slim Bun
 * image has no curl; Bun itself makes the request.
 */
const port = process.env.PORT ?? '5000'
try {
  const response = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(3_000) })
  process.exit(response.status === 200 ? 0 : 1)
} catch {
  process.exit(1)
}

export {}
