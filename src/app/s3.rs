//! The `s3` document store (issue 16, item 1: "a directory or S3-compatible object storage by
//! configuration"): documents' bytes as objects `<prefix><key>` in one bucket of an S3-compatible
//! service (AWS S3, MinIO, Ceph RGW, Garage, ...), behind the same [`DocumentStore`] trait as the
//! database and directory stores.
//!
//! Requests are signed with AWS Signature Version 4 in the `Authorization` header ([`sign`]), using
//! the HMAC-SHA256 and SHA-256 of the `hmac` and `sha2` crates already in the tree. Not a presigning
//! crate (`rusty-s3`): presigned URLs carry the signature in the query string, which the test server
//! (moto) does not verify, so a wrong secret could not be shown to fail; and the `Authorization`
//! form signs the payload's SHA-256 (`x-amz-content-sha256`) with the rest. The signer is checked
//! against AWS's published examples below, and every request of the tests is verified by moto with
//! botocore's signer.
//!
//! - PUT sends `x-amz-content-sha256` (signed) and `x-amz-checksum-sha256`, so the store refuses
//!   bytes that changed on the way; an echoed checksum that differs is refused here too.
//! - GET returns the bytes; `app::documents::read` compares their SHA-256 with the one the database
//!   holds and never serves changed bytes.
//! - DELETE removes the object; one that is not there is no error.
//!
//! Failures are [`AppError::Upstream`] (502) naming what the store said (its HTTP status and S3
//! error code), never the secret. The HTTP client runs on this store's own small Tokio runtime, as
//! the trait is called from blocking threads.
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::document_store::{checked, DocumentStore};
use super::AppError;
use crate::config::S3Settings;

type HmacSha256 = Hmac<Sha256>;

/// The SHA-256 of nothing, the payload hash of GET and DELETE.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The largest object read back (a document is never larger than `documents.max_bytes`).
const MAX_OBJECT_BYTES: usize = crate::config::DocumentSettings::MAX;

/// What a request is signed with.
#[derive(Clone, Copy)]
pub struct SigningKey<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

/// A string as S3's canonical request wants it: every byte but the unreserved ones (`A-Z a-z 0-9 -
/// _ . ~`) as `%XX`, and `/` kept when `path` is true.
pub fn uri_encode(s: &str, path: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (path && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// The `Authorization` header of a request (AWS Signature Version 4, "Authenticating Requests: Using
/// the Authorization Header"). `headers` are every header signed, `host`, `x-amz-date` and
/// `x-amz-content-sha256` among them; `amz_date` is the `x-amz-date` value (`YYYYMMDDTHHMMSSZ`);
/// `canonical_uri` is already encoded and `canonical_query` already sorted and encoded.
pub fn sign(
    key: SigningKey<'_>,
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    headers: &[(String, String)],
    payload_sha256: &str,
    amz_date: &str,
) -> String {
    let mut hs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.trim().to_ascii_lowercase(),
                v.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect();
    hs.sort();
    let canonical_headers: String = hs.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = hs
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{method}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_sha256}"
    );
    let date = &amz_date[..8.min(amz_date.len())];
    let scope = format!("{date}/{}/{}/aws4_request", key.region, key.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{}", key.secret_access_key).as_bytes(), date);
    let k_region = hmac(&k_date, key.region);
    let k_service = hmac(&k_region, key.service);
    let k_signing = hmac(&k_service, "aws4_request");
    let signature = hex::encode(hmac(&k_signing, &string_to_sign));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        key.access_key_id
    )
}

/// What the store answered.
struct Answer {
    status: u16,
    checksum_sha256: Option<String>,
    body: Vec<u8>,
}

/// The S3 error code of an error answer (`<Code>SignatureDoesNotMatch</Code>`), if it names one.
fn error_code(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    text.split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code.trim())
        .filter(|c| !c.is_empty() && c.len() <= 64 && c.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("")
        .to_string()
}

/// A failed answer as the caller sees it: refused credentials apart from the rest.
fn refused(op: &'static str, a: &Answer) -> AppError {
    let code = error_code(&a.body);
    tracing::error!(
        op,
        status = a.status,
        code,
        "the S3 document store refused a request"
    );
    let credentials = a.status == 403
        || matches!(
            code.as_str(),
            "SignatureDoesNotMatch" | "InvalidAccessKeyId" | "AccessDenied" | "InvalidToken"
        );
    if credentials {
        AppError::Upstream(crate::msg!(
            "document_store.credentials",
            status = a.status.to_string(),
            code = code
        ))
    } else {
        AppError::Upstream(crate::msg!(
            "document_store.refused",
            status = a.status.to_string(),
            code = code
        ))
    }
}

/// Documents' bytes as objects in an S3-compatible bucket.
pub struct S3Store {
    scheme: String,
    /// `host[:port]` as the `Host` header carries it (the bucket first in virtual-hosted style).
    host: String,
    /// `/<bucket>` in path style, empty otherwise.
    bucket_path: String,
    prefix: String,
    region: String,
    access_key_id: String,
    secret: crate::config::Secret,
    client: reqwest::Client,
    /// Dropped without waiting ([`Drop`]), so the store may be dropped anywhere.
    rt: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("host", &self.host)
            .field("bucket_path", &self.bucket_path)
            .field("prefix", &self.prefix)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl Drop for S3Store {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl S3Store {
    /// The store `[documents.s3]` names; an error names the key at fault.
    pub fn new(s: &S3Settings) -> anyhow::Result<S3Store> {
        s.validate()?;
        let url = url::Url::parse(s.endpoint.trim())
            .map_err(|e| anyhow::anyhow!("configuration: documents.s3.endpoint: {e}"))?;
        let host = url.host_str().ok_or_else(|| {
            anyhow::anyhow!("configuration: documents.s3.endpoint: names no host")
        })?;
        let host = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let (host, bucket_path) = if s.path_style {
            (host, format!("/{}", s.bucket))
        } else {
            (format!("{}.{host}", s.bucket), String::new())
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| anyhow::anyhow!("the S3 document store's runtime: {e}"))?;
        let client = {
            let _inside = rt.enter();
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(s.timeout_seconds))
                .connect_timeout(Duration::from_secs(s.timeout_seconds.min(10)))
                .build()
                .map_err(|e| anyhow::anyhow!("the S3 document store's HTTP client: {e}"))?
        };
        Ok(S3Store {
            scheme: url.scheme().to_string(),
            host,
            bucket_path,
            prefix: s.prefix.clone(),
            region: s.region.clone(),
            access_key_id: s.access_key_id.clone(),
            secret: s.secret_access_key.clone(),
            client,
            rt: Some(rt),
        })
    }

    /// The object's path as sent and signed: `[/<bucket>]/<prefix><key>`.
    fn object_path(&self, key: &str) -> Result<String, AppError> {
        let key = checked(key)?;
        Ok(format!(
            "{}/{}",
            self.bucket_path,
            uri_encode(&format!("{}{key}", self.prefix), true)
        ))
    }

    /// Sends one signed request and reads the answer (the body of a success up to
    /// [`MAX_OBJECT_BYTES`]).
    fn send(
        &self,
        op: &'static str,
        method: reqwest::Method,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<Answer, AppError> {
        let payload_sha256 = match body {
            Some(b) => hex::encode(Sha256::digest(b)),
            None => EMPTY_SHA256.to_string(),
        };
        let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let mut headers = vec![
            ("host".to_string(), self.host.clone()),
            ("x-amz-content-sha256".to_string(), payload_sha256.clone()),
            ("x-amz-date".to_string(), amz_date.clone()),
        ];
        if let Some(b) = body {
            headers.push((
                "x-amz-checksum-sha256".to_string(),
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b)),
            ));
            headers.push((
                "x-amz-sdk-checksum-algorithm".to_string(),
                "SHA256".to_string(),
            ));
        }
        let authorization = sign(
            SigningKey {
                access_key_id: &self.access_key_id,
                secret_access_key: self.secret.expose(),
                region: &self.region,
                service: "s3",
            },
            method.as_str(),
            path,
            "",
            &headers,
            &payload_sha256,
            &amz_date,
        );
        let url = format!("{}://{}{path}", self.scheme, self.host);
        let mut req = self
            .client
            .request(method, url)
            .header(reqwest::header::AUTHORIZATION, authorization);
        for (k, v) in headers.iter().filter(|(k, _)| k != "host") {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(b.to_vec());
        }
        let unreachable = |e: reqwest::Error| {
            tracing::error!(op, error = %e.without_url(), "the S3 document store could not be reached");
            AppError::Upstream(crate::msg!("document_store.unreachable"))
        };
        let rt = self
            .rt
            .as_ref()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the S3 store is shut down")))?;
        rt.block_on(async move {
            let mut resp = req.send().await.map_err(unreachable)?;
            let status = resp.status().as_u16();
            let checksum_sha256 = resp
                .headers()
                .get("x-amz-checksum-sha256")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            // An error answer is read only so far as to find its code.
            let cap = if resp.status().is_success() {
                MAX_OBJECT_BYTES
            } else {
                64 * 1024
            };
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(unreachable)? {
                if body.len() + chunk.len() > cap {
                    if status < 300 {
                        tracing::error!(op, "the S3 document store sent an object too large");
                        return Err(AppError::Upstream(crate::msg!("document_store.changed")));
                    }
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Answer {
                status,
                checksum_sha256,
                body,
            })
        })
    }
}

impl DocumentStore for S3Store {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), AppError> {
        let path = self.object_path(key)?;
        let a = self.send("put", reqwest::Method::PUT, &path, Some(bytes))?;
        if !(200..300).contains(&a.status) {
            return Err(refused("put", &a));
        }
        let ours = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes));
        if let Some(theirs) = a.checksum_sha256 {
            if theirs != ours {
                tracing::error!(
                    key,
                    "the S3 document store stored bytes with another checksum"
                );
                // Take the wrong object away again; the caller writes no row.
                let _ = self.delete(key);
                return Err(AppError::Upstream(crate::msg!("document_store.changed")));
            }
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, AppError> {
        let path = self.object_path(key)?;
        let a = self.send("get", reqwest::Method::GET, &path, None)?;
        match a.status {
            200 => Ok(Some(a.body)),
            404 => Ok(None),
            _ => Err(refused("get", &a)),
        }
    }

    fn delete(&self, key: &str) -> Result<(), AppError> {
        let path = self.object_path(key)?;
        let a = self.send("delete", reqwest::Method::DELETE, &path, None)?;
        match a.status {
            200..=299 | 404 => Ok(()),
            _ => Err(refused("delete", &a)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: SigningKey<'static> = SigningKey {
        access_key_id: "AKIAIOSFODNN7EXAMPLE",
        secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region: "us-east-1",
        service: "s3",
    };

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// AWS, "Signature Calculations for the Authorization Header: Transferring Payload in a Single
    /// Chunk", example "GET Object".
    #[test]
    fn the_signature_of_awss_get_object_example() {
        let auth = sign(
            KEY,
            "GET",
            "/test.txt",
            "",
            &h(&[
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", EMPTY_SHA256),
                ("x-amz-date", "20130524T000000Z"),
            ]),
            EMPTY_SHA256,
            "20130524T000000Z",
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    /// The same page, example "PUT Object": a `$` in the key is encoded, the payload's hash signed.
    #[test]
    fn the_signature_of_awss_put_object_example() {
        let body = "Welcome to Amazon S3.";
        let payload = hex::encode(Sha256::digest(body.as_bytes()));
        assert_eq!(
            payload,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let auth = sign(
            KEY,
            "PUT",
            &uri_encode("/test$file.text", true),
            "",
            &h(&[
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-content-sha256", &payload),
            ]),
            &payload,
            "20130524T000000Z",
        );
        assert!(
            auth.ends_with(
                "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, \
                 Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
            ),
            "{auth}"
        );
    }

    #[test]
    fn an_error_answer_names_its_code_and_refused_credentials_are_told_apart() {
        let body = b"<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>x</Message></Error>";
        assert_eq!(error_code(body), "SignatureDoesNotMatch");
        assert_eq!(error_code(b"<Code><script></Code>"), "");
        let a = Answer {
            status: 403,
            checksum_sha256: None,
            body: body.to_vec(),
        };
        match refused("put", &a) {
            AppError::Upstream(m) => assert_eq!(m.id(), "document_store.credentials"),
            other => panic!("{other:?}"),
        }
        let a = Answer {
            status: 500,
            checksum_sha256: None,
            body: b"<Error><Code>InternalError</Code></Error>".to_vec(),
        };
        match refused("put", &a) {
            AppError::Upstream(m) => assert_eq!(m.id(), "document_store.refused"),
            other => panic!("{other:?}"),
        }
    }

    fn settings() -> S3Settings {
        S3Settings {
            endpoint: "https://s3.eu-north-1.amazonaws.com".into(),
            region: "eu-north-1".into(),
            bucket: "cpua-documents".into(),
            prefix: "samverkan/documents/".into(),
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: crate::config::Secret::new("wJalrXUtnFEMI"),
            ..S3Settings::default()
        }
    }

    #[test]
    fn a_bad_s3_setting_is_named_by_its_key_and_the_secret_is_never_printed() {
        assert!(settings().validate().is_ok());
        type Change = Box<dyn Fn(&mut S3Settings)>;
        let cases: Vec<(&str, Change)> = vec![
            (
                "documents.s3.endpoint",
                Box::new(|s| s.endpoint = "".into()),
            ),
            (
                "documents.s3.endpoint",
                Box::new(|s| s.endpoint = "ftp://x".into()),
            ),
            (
                "documents.s3.endpoint",
                Box::new(|s| s.endpoint = "https://a:b@x".into()),
            ),
            (
                "documents.s3.endpoint",
                Box::new(|s| s.endpoint = "https://x/bucket".into()),
            ),
            ("documents.s3.region", Box::new(|s| s.region = "".into())),
            (
                "documents.s3.bucket",
                Box::new(|s| s.bucket = "My_Bucket".into()),
            ),
            ("documents.s3.bucket", Box::new(|s| s.bucket = "ab".into())),
            (
                "documents.s3.prefix",
                Box::new(|s| s.prefix = "/abs".into()),
            ),
            (
                "documents.s3.prefix",
                Box::new(|s| s.prefix = "a/../b".into()),
            ),
            (
                "documents.s3.access_key_id",
                Box::new(|s| s.access_key_id = "".into()),
            ),
            (
                "documents.s3.secret_access_key_env",
                Box::new(|s| s.secret_access_key = crate::config::Secret::default()),
            ),
            (
                "documents.s3.timeout_seconds",
                Box::new(|s| s.timeout_seconds = 0),
            ),
        ];
        for (key, change) in cases {
            let mut s = settings();
            change(&mut s);
            let e = s.validate().expect_err(key).to_string();
            assert!(
                e.starts_with(&format!("configuration: {key}: ")),
                "{key}: {e}"
            );
            assert!(!e.contains("wJalrXUtnFEMI"), "{e}");
        }
        // The secret itself is no configuration key: written there, the start is refused.
        let e = serde_json::from_value::<S3Settings>(serde_json::json!({
            "bucket": "b", "secret_access_key": "wJalrXUtnFEMI"
        }))
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown field `secret_access_key`"), "{e}");
        let printed = format!("{:?}", settings());
        assert!(!printed.contains("wJalrXUtnFEMI"), "{printed}");
        assert!(printed.contains("[redacted]"), "{printed}");
        let store = S3Store::new(&settings()).unwrap();
        assert!(!format!("{store:?}").contains("wJalrXUtnFEMI"));
    }

    #[test]
    fn the_secret_comes_from_the_named_variable_or_else_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s3-secret");
        std::fs::write(&file, "from-the-file\n").unwrap();
        let mut s = S3Settings {
            secret_access_key_env: "SAMVERKAN_TEST_S3_SECRET_THAT_IS_NOT_SET".into(),
            secret_access_key_file: file.to_string_lossy().into_owned(),
            ..S3Settings::default()
        };
        s.load_secret().unwrap();
        assert_eq!(s.secret_access_key.expose(), "from-the-file");
        s.secret_access_key_file = dir.path().join("missing").to_string_lossy().into_owned();
        let e = s.load_secret().unwrap_err().to_string();
        assert!(
            e.starts_with("configuration: documents.s3.secret_access_key_file: "),
            "{e}"
        );
    }

    #[test]
    fn objects_are_named_by_prefix_and_key_in_either_style() {
        let path = S3Store::new(&S3Settings {
            path_style: true,
            ..settings()
        })
        .unwrap();
        assert_eq!(path.host, "s3.eu-north-1.amazonaws.com");
        assert_eq!(
            path.object_path("ab12-cd").unwrap(),
            "/cpua-documents/samverkan/documents/ab12-cd"
        );
        let virt = S3Store::new(&settings()).unwrap();
        assert_eq!(virt.host, "cpua-documents.s3.eu-north-1.amazonaws.com");
        assert_eq!(
            virt.object_path("ab12-cd").unwrap(),
            "/samverkan/documents/ab12-cd"
        );
        assert!(virt.object_path("../x").is_err());
    }
}
