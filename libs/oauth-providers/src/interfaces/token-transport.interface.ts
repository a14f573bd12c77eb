/**
 * PEM material of a transport (`ca`, `cert`, `key`, `passphrase`): the value, or a function that
 * returns it (sync or async), called at each token request, so that a rotated certificate or CA is
 * used on the next connection without rebuilding the strategy.
 */
export type TransportMaterial = string | (() => string | Promise<string>);

/**
 * How one provider's token endpoint is reached, when not directly with Node's bundled roots. The
 * library reads no proxy variable from the environment: an app that wants `HTTPS_PROXY` honoured
 * passes it here (the gateway resolves it per provider).
 */
export interface TokenTransport {
  /** PEM bundle of private CAs, trusted in addition to Node's bundled roots (`tls.rootCertificates`). */
  ca?: TransportMaterial;
  /** PEM client certificate (chain) presented to the token endpoint (mutual TLS, RFC 8705). */
  cert?: TransportMaterial;
  /** PEM private key of `cert`. */
  key?: TransportMaterial;
  /** Passphrase of an encrypted `key`. */
  passphrase?: TransportMaterial;
  /**
   * Forward proxy URL (`http://user:pass@proxy:3128`): `https:` token URLs are tunnelled with
   * CONNECT, `http:` ones sent in absolute form. Absent or `'none'`: direct.
   */
  proxy?: string;
}
