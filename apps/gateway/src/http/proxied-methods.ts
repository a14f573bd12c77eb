/** The methods the proxy forwards, HEAD as HEAD (not answered by running GET); metrics label any other `OTHER`. */
export const PROXIED_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
