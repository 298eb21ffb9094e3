/** The seven read endpoints, at the paths the original Flask API served them. */
export const ENDPOINTS = [
  '/api/v1/resources/tweets/all',
  '/api/v1/resources/tweets',
  '/api/v1/resources/tweets/by_hour',
  '/api/v1/resources/tweets/by_lang',
  '/api/v1/resources/users/all',
  '/api/v1/resources/users/top5',
  '/api/v1/resources/hashtags/all',
]
