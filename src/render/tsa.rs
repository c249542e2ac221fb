//! A timestamp authority's client (RFC 3161, over HTTP as its section 3.4 describes): the seal asks
//! for a signature time-stamp token over its signature value, which goes into the CMS as the
//! unsigned attribute id-aa-timeStampToken (RFC 3161, appendix A; PAdES baseline B-T).
//!
//! Plain `http://` only, with the standard library's sockets: the answer is a CMS signed by the
//! authority itself, so TLS adds nothing to it, and no HTTP client crate is needed in the
//! (synchronous) transaction that seals. Every step has a timeout; any failure is an error the
//! caller decides on (the seal is written without a token, see `seal::seal_timestamped`).
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use der::asn1::{OctetString, Uint};
use der::{Any, Decode, Encode, Sequence};
use x509_cert::spki::AlgorithmIdentifierOwned;

const ID_SHA256: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
/// How long one exchange with the authority may take, per step (connect, write, read). The seal is
/// written in the transaction of the last signature, which holds the collaboration's lock (and on
/// SQLite the database's write lock): a slow authority must not hold it long.
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

/// One HTTP/1.1 POST of `body`; the response body when the status is 200.
fn post(url: &str, body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let (host, port, path) = parse_http_url(url).ok_or_else(|| anyhow!("not an http:// URL"))?;
    let addr = (host.as_str(), port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| anyhow!("{host} has no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/timestamp-query\r\nAccept: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    let mut answer = Vec::new();
    stream.take(MAX_RESPONSE).read_to_end(&mut answer)?;
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
    let mut nonce = uuid::Uuid::new_v4().as_bytes()[..8].to_vec();
    nonce[0] |= 0x40;
    let (req, imprint) = request(digest, &nonce)?;
    let body = post(url, &req).context("asking the timestamp authority")?;
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
    fn a_request_carries_the_imprint_and_is_der() {
        let (req, imprint) = request(&[7u8; 32], &[0x41, 2, 3]).unwrap();
        assert!(find(&req, &imprint).is_some());
        assert_eq!(req[0], 0x30);
        // version 1, and certReq TRUE at the end.
        assert_eq!(&req[req.len() - 3..], &[0x01, 0x01, 0xff]);
    }
}
