/**
 * Resolves with `promise`, or rejects with `expired()` after `ms`; `onLate` receives what arrives
 * too late (a pooled connection to hand back, say), so that nothing is leaked by giving up on it.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  expired: () => Error,
  onLate: (value: T) => void = () => {},
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  let gaveUp = false
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      gaveUp = true
      reject(expired())
    }, ms)
  })
  promise.then(
    (value) => gaveUp && onLate(value),
    () => {},
  )
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}
