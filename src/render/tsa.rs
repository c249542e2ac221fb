//! A timestamp authority's client (RFC 3161, over HTTP as its section 3.4 describes): the seal asks
//! for a signature time-stamp token over its signature value, which goes into the CMS as the
//! unsigned attribute id-aa-timeStampToken (RFC 3161, appendix A; PAdES baseline B-T).
//!
//! `http://` or `https://`, with the standard library's sockets and, for https, the rustls (ring
//! provider) that reqwest already brings: no second TLS stack. The server is checked against the
//! Mozilla roots (webpki-roots) or, when `signing.tsa_ca_file` is set, only against the CA
//! certificates in that PEM file. The answer is a CMS signed by the authority itself; TLS adds
//! privacy and keeps an in-between from answering with errors. The seal job calls it outside any
//! transaction (`app::signing_seal`). Every step has a timeout; any failure is an error the caller
//! decides on (the seal is written without a token, see `seal::seal_with`).
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use der::asn1::{OctetString, Uint};
use der::{Any, Decode, Encode, Sequence};
use x509_cert::spki::AlgorithmIdentifierOwned;

const ID_SHA256: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
/// How long one exchange with the authority may take, per step (connect, handshake, write, read).
/// The seal job asks outside any transaction, so a slow authority holds no lock; it still must not
/// hold the job long.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read (a token with the authority's certificate chain is a few KB).
const MAX_RESPONSE: u64 = 256 * 1024;

#[derive(Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

/// `TimeStampReq` (RFC 3161, 2.4.1), with a nonce and the authority's certificate asked for.
#[derive(Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    nonce: Uint,
    cert_req: bool,
}

/// `PKIStatusInfo` (RFC 3161, 2.4.2).
#[derive(Sequence)]
struct PkiStatusInfo {
    status: u8,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<der::asn1::BitString>,
}

/// `TimeStampResp` (RFC 3161, 2.4.2): the token is a ContentInfo, kept as it came.
#[derive(Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    time_stamp_token: Option<Any>,
}

/// A timestamp authority to ask: its URL and, for https, the TLS settings.
#[derive(Clone)]
pub struct Tsa {
    url: String,
    endpoint: Endpoint,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Tsa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tsa")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// An authority's address, read from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub path: String,
}

/// `http://host[:port]/path` or `https://host[:port]/path`; `None` for anything else.
pub fn parse_url(url: &str) -> Option<Endpoint> {
    if let Some(rest) = url.strip_prefix("https://") {
        let (host, port, path) = parse_http_url(&format!("http://{rest}"))?;
        // No port given: 443, not http's 80.
        let authority = rest.split('/').next().unwrap_or_default();
        let explicit = match authority.rfind(']') {
            Some(i) => authority[i..].contains(':'),
            None => authority.contains(':'),
        };
        let port = if explicit { port } else { 443 };
        return Some(Endpoint {
            tls: true,
            host,
            port,
            path,
        });
    }
    let (host, port, path) = parse_http_url(url)?;
    Some(Endpoint {
        tls: false,
        host,
        port,
        path,
    })
}

impl Tsa {
    /// The authority at `url`; for https, trusting the CA certificates of the PEM file `ca_file`
    /// only when one is given, else the Mozilla roots.
    pub fn new(url: &str, ca_file: Option<&std::path::Path>) -> anyhow::Result<Tsa> {
        let endpoint = parse_url(url).ok_or_else(|| {
            anyhow!("{url:?} is no http:// or https:// URL of a timestamp authority")
        })?;
        let tls = if endpoint.tls {
            let mut roots = rustls::RootCertStore::empty();
            match ca_file {
                Some(path) => {
                    use rustls_pki_types::pem::PemObject;
                    let mut n = 0;
                    for cert in rustls_pki_types::CertificateDer::pem_file_iter(path)
                        .with_context(|| format!("reading {}", path.display()))?
                    {
                        let cert =
                            cert.with_context(|| format!("a certificate in {}", path.display()))?;
                        roots
                            .add(cert)
                            .with_context(|| format!("a CA certificate in {}", path.display()))?;
                        n += 1;
                    }
                    if n == 0 {
                        bail!("{} holds no certificate", path.display());
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
            Some(Arc::new(config))
        } else {
            None
        };
        Ok(Tsa {
            url: url.to_string(),
            endpoint,
            tls,
        })
    }

    /// The authority of `signing.tsa_url` (with `signing.tsa_ca_file`), or `None` when none is set.
    pub fn from_settings(s: &crate::config::SigningSettings) -> anyhow::Result<Option<Tsa>> {
        let url = s.tsa_url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        let ca = s.tsa_ca_file.trim();
        Tsa::new(url, (!ca.is_empty()).then(|| std::path::Path::new(ca)))
            .map(Some)
            .context("signing.tsa_url")
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A time-stamp token over the SHA-256 `digest` (see [`token`]).
    pub fn token(&self, digest: &[u8]) -> anyhow::Result<Vec<u8>> {
        token_from(|req| self.post(req), digest)
    }

    fn post(&self, body: &[u8]) -> anyhow::Result<Vec<u8>> {
        let Endpoint {
            host, port, path, ..
        } = &self.endpoint;
        let addr = (host.as_str(), *port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| anyhow!("{host} has no address"))?;
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        match &self.tls {
            None => exchange(stream, host, *port, path, body),
            Some(config) => {
                let name = rustls_pki_types::ServerName::try_from(host.clone())
                    .map_err(|e| anyhow!("{host}: {e}"))?;
                let conn = rustls::ClientConnection::new(config.clone(), name)?;
                exchange(
                    rustls::StreamOwned::new(conn, stream),
                    host,
                    *port,
                    path,
                    body,
                )
            }
        }
    }
}

/// `http://host[:port]/path` as (host, port, path); `None` for anything else.
pub fn parse_http_url(url: &str) -> Option<(String, u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') || path.contains(char::is_whitespace) {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, p.parse().ok()?),
        _ => (authority, 80),
    };
    if host.is_empty() {
        return None;
    }
    Some((host.to_string(), port, path.to_string()))
}

/// The DER `TimeStampReq` for a SHA-256 `digest`, and its imprint's DER (what the token must echo).
fn request(digest: &[u8], nonce: &[u8]) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let imprint = MessageImprint {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: ID_SHA256,
            parameters: None,
        },
        hashed_message: OctetString::new(digest.to_vec())?,
    };
    let imprint_der = imprint.to_der()?;
    let req = TimeStampReq {
        version: 1,
        message_imprint: imprint,
        nonce: Uint::new(nonce)?,
        cert_req: true,
    };
    Ok((req.to_der()?, imprint_der))
}

/// One HTTP/1.1 POST of `body` on `stream` (plain or TLS); the response body when the status is 200.
fn exchange(
    mut stream: impl Read + Write,
    host: &str,
    port: u16,
    path: &str,
    body: &[u8],
) -> anyhow::Result<Vec<u8>> {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/timestamp-query\r\nAccept: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    let mut answer = Vec::new();
    // A TLS server that closes without close_notify ends the read with UnexpectedEof: what came
    // is still checked against its Content-Length below.
    match stream.take(MAX_RESPONSE).read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !answer.is_empty() => {}
        Err(e) => return Err(e.into()),
    }
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("no HTTP header in the answer"))?;
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).unwrap_or_default();
    if status != "200" {
        bail!("the timestamp authority answered HTTP {status}");
    }
    if head.contains("transfer-encoding: chunked") {
        bail!("a chunked answer is not read");
    }
    let mut body = answer[split + 4..].to_vec();
    if let Some(len) = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        if body.len() < len {
            bail!("the answer was cut short");
        }
        body.truncate(len);
    }
    Ok(body)
}

/// Asks the authority at `url` for a time-stamp token over the SHA-256 `digest`: the token's DER
/// (a ContentInfo holding SignedData with TSTInfo). Refused unless the authority granted it
/// (status 0 or 1) and the token echoes the imprint and the nonce sent.
pub fn token(url: &str, digest: &[u8]) -> anyhow::Result<Vec<u8>> {
    Tsa::new(url, None)?.token(digest)
}

fn token_from(
    post: impl FnOnce(&[u8]) -> anyhow::Result<Vec<u8>>,
    digest: &[u8],
) -> anyhow::Result<Vec<u8>> {
    let mut nonce = uuid::Uuid::new_v4().as_bytes()[..8].to_vec();
    nonce[0] |= 0x40;
    let (req, imprint) = request(digest, &nonce)?;
    let body = post(&req).context("asking the timestamp authority")?;
    let resp = TimeStampResp::from_der(&body).map_err(|e| anyhow!("TimeStampResp: {e}"))?;
    if resp.status.status > 1 {
        bail!(
            "the timestamp authority refused (status {}): {}",
            resp.status.status,
            resp.status.status_string.unwrap_or_default().join("; ")
        );
    }
    let token = resp
        .time_stamp_token
        .ok_or_else(|| anyhow!("the answer has no token"))?
        .to_der()?;
    // The token's TSTInfo must carry our imprint and nonce (RFC 3161, 2.4.2).
    let nonce_der = Uint::new(&nonce)?.to_der()?;
    if find(&token, &imprint).is_none() || find(&token, &nonce_der).is_none() {
        bail!("the token does not answer this request");
    }
    Ok(token)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_urls_are_taken() {
        assert_eq!(
            parse_http_url("http://tsa.example.se:8080/tsr"),
            Some(("tsa.example.se".into(), 8080, "/tsr".into()))
        );
        assert_eq!(
            parse_http_url("http://127.0.0.1"),
            Some(("127.0.0.1".into(), 80, "/".into()))
        );
        assert_eq!(parse_http_url("https://tsa.example.se/"), None);
        assert_eq!(parse_http_url("http://:80/"), None);
        assert_eq!(parse_http_url("http://u@h/"), None);
        assert_eq!(parse_http_url("ftp://h/"), None);
    }

    #[test]
    fn https_urls_are_taken_with_443_by_default() {
        assert_eq!(
            parse_url("https://tsa.example.se/tsr"),
            Some(Endpoint {
                tls: true,
                host: "tsa.example.se".into(),
                port: 443,
                path: "/tsr".into()
            })
        );
        assert_eq!(
            parse_url("https://127.0.0.1:8443"),
            Some(Endpoint {
                tls: true,
                host: "127.0.0.1".into(),
                port: 8443,
                path: "/".into()
            })
        );
        assert_eq!(
            parse_url("http://h/").map(|e| (e.tls, e.port)),
            Some((false, 80))
        );
        assert_eq!(parse_url("https://u@h/"), None);
        assert_eq!(parse_url("ftp://h/"), None);
    }

    #[test]
    fn a_request_carries_the_imprint_and_is_der() {
        let (req, imprint) = request(&[7u8; 32], &[0x41, 2, 3]).unwrap();
        assert!(find(&req, &imprint).is_some());
        assert_eq!(req[0], 0x30);
        // version 1, and certReq TRUE at the end.
        assert_eq!(&req[req.len() - 3..], &[0x01, 0x01, 0xff]);
    }
}
