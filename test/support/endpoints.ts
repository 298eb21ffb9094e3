/**
 * The read endpoints answered without a path parameter: the seven the original Flask API served, at
 * its paths, and the timeline and top tweets.
 */
export const ENDPOINTS = [
  '/api/v1/resources/tweets/all',
  '/api/v1/resources/tweets',
  '/api/v1/resources/tweets/by_hour',
  '/api/v1/resources/tweets/by_lang',
  '/api/v1/resources/tweets/timeline',
  '/api/v1/resources/tweets/top',
  '/api/v1/resources/users/all',
  '/api/v1/resources/users/top5',
  '/api/v1/resources/hashtags/all',
]
