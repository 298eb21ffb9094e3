/**
 * What tweets are ranked by, in one place: each public metric, and engagement, their sum (likes +
 * retweets + replies + quotes; impressions are not engagement and are often missing).
 */

export const RANKINGS = ['likes', 'retweets', 'replies', 'quotes', 'engagement'] as const
export type Ranking = (typeof RANKINGS)[number]

export const engagementOf = (m: { likes: number; retweets: number; replies: number; quotes: number }): number =>
  m.likes + m.retweets + m.replies + m.quotes
