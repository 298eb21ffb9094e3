/** The process's state that several parts read: readiness fails, and new work stops, once it is shutting down. */
export interface Lifecycle {
  /** Set once a shutdown has begun: readiness then fails so load balancers stop sending traffic. */
  shuttingDown: boolean
}
