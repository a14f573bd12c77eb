/**
 * How one provider's token endpoint is reached, when not directly with Node's bundled roots. The
 * library reads no proxy variable from the environment: an app that wants `HTTPS_PROXY` honoured
 * passes it here (the gateway resolves it per provider).
 */
export interface TokenTransport {
  /** PEM bundle of private CAs, trusted in addition to Node's bundled roots (`tls.rootCertificates`). */
  ca?: string;
  /** PEM client certificate (chain) presented to the token endpoint (mutual TLS, RFC 8705). */
  cert?: string;
  /** PEM private key of `cert`. */
  key?: string;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  /**
   * Forward proxy URL (`http://user:pass@proxy:3128`): `https:` token URLs are tunnelled with
   * CONNECT, `http:` ones sent in absolute form. Absent or `'none'`: direct.
   */
  proxy?: string;
}
