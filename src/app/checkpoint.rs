//! Signed checkpoints of the audit trail (signerade kontrollpunkter).
//!
//! An Ed25519 key signs each stream's head (the last event's sequence number and hash). A checkpoint
//! taken before someone truncated or rewrote a chain no longer matches it, and without the key a
//! forged checkpoint does not verify. `export-heads` writes the checkpoints as JSON lines for an
//! outside system (the CPUA's diary or e-archive) to keep: that copy catches someone who holds the key
//! and rewrote both the chain and the checkpoint table.
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::path::Path;

use super::AppError;
use crate::db::repo::{self, CheckpointRow};
use crate::db::DbConn;
use crate::domain::audit::{sha256_hex, AuditEvent, BrokenLink};

/// The key that signs checkpoints. Its secret half is never printed or logged.
pub struct SigningKeyPair {
    key: SigningKey,
}

impl std::fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKeyPair({})", self.public().key_id())
    }
}

/// A public key that checkpoints are checked with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// The key's fingerprint: the first 32 hex digits of SHA-256 over its 32 bytes.
    pub fn key_id(&self) -> String {
        sha256_hex(self.0.as_bytes())[..32].to_string()
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    pub fn from_hex(s: &str) -> Option<PublicKey> {
        let bytes: [u8; 32] = hex::decode(s).ok()?.try_into().ok()?;
        VerifyingKey::from_bytes(&bytes).ok().map(PublicKey)
    }

    fn verifies(&self, message: &str, signature_hex: &str) -> bool {
        let Some(bytes) = hex::decode(signature_hex)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
        else {
            return false;
        };
        self.0
            .verify_strict(message.as_bytes(), &Signature::from_bytes(&bytes))
            .is_ok()
    }
}

impl SigningKeyPair {
    pub fn public(&self) -> PublicKey {
        PublicKey(self.key.verifying_key())
    }

    fn sign(&self, message: &str) -> String {
        hex::encode(self.key.sign(message.as_bytes()).to_bytes())
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> anyhow::Result<SigningKeyPair> {
        use rand::TryRngCore;
        let mut seed = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut seed)
            .map_err(|e| anyhow::anyhow!("no random source for the signing key: {e}"))?;
        Ok(SigningKeyPair {
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads a PKCS#8 PEM key; `Ok(None)` when the file does not exist.
    pub fn load(path: &Path) -> anyhow::Result<Option<SigningKeyPair>> {
        let pem = match std::fs::read_to_string(path) {
            Ok(p) => p,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => anyhow::bail!("audit signing key {}: cannot read: {e}", path.display()),
        };
        let key = SigningKey::from_pkcs8_pem(&pem).map_err(|_| {
            anyhow::anyhow!(
                "audit signing key {}: not an Ed25519 private key in PKCS#8 PEM",
                path.display()
            )
        })?;
        Ok(Some(SigningKeyPair { key }))
    }

    /// Reads the key, or generates one into `path` (mode 0600) when there is none. Two processes
    /// starting together end up with the same key: the new file is written aside and linked into
    /// place, and the loser of that race reads the winner's.
    pub fn load_or_generate(path: &Path) -> anyhow::Result<SigningKeyPair> {
        if let Some(k) = SigningKeyPair::load(path)? {
            return Ok(k);
        }
        let fresh = SigningKeyPair::generate()?;
        let pem = fresh
            .key
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("encoding the audit signing key: {e}"))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create folder {}: {e}", dir.display()))?;
        }
        // Unique per attempt, not only per process: two instances in one process may start together.
        let tmp = path.with_extension(format!(
            "partial-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        {
            use std::io::Write;
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            let mut f = o
                .open(&tmp)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
            f.write_all(pem.as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
        }
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                tracing::info!(path = %path.display(), key_id = %fresh.public().key_id(),
                    "audit signing key generated");
                Ok(fresh)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => SigningKeyPair::load(path)?
                .ok_or_else(|| anyhow::anyhow!("audit signing key {} vanished", path.display())),
            Err(e) => anyhow::bail!("cannot write {}: {e}", path.display()),
        }
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The exact text a checkpoint's signature covers.
pub fn signed_message(stream: &str, seq: i64, hash: &str, signed_at: &str, key_id: &str) -> String {
    format!(
        "samverkan audit checkpoint v1\nstream={stream}\nseq={seq}\nhash={hash}\nsigned_at={signed_at}\nkey_id={key_id}\n"
    )
}

fn row_message(c: &CheckpointRow) -> String {
    signed_message(
        &c.stream,
        c.seq,
        &c.hash,
        &stamp(repo::utc(c.signed_at)),
        &c.key_id,
    )
}

/// Signs the head of every stream whose head has no checkpoint yet, in the caller's transaction.
/// Returns how many checkpoints were written.
pub fn checkpoint_all(
    conn: &mut DbConn,
    key: &SigningKeyPair,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let key_id = key.public().key_id();
    let signed_at = repo::ts(now);
    let heads = repo::heads_without_checkpoint(conn)?;
    for (stream, seq, hash) in &heads {
        let mut row = CheckpointRow {
            stream: stream.clone(),
            seq: *seq,
            hash: hash.clone(),
            signed_at,
            key_id: key_id.clone(),
            signature: String::new(),
        };
        row.signature = key.sign(&row_message(&row));
        repo::insert_checkpoint(conn, &row)?;
    }
    Ok(heads.len())
}

fn finding(stream: &str, seq: i64, check: &str, reason: String) -> BrokenLink {
    BrokenLink {
        stream: stream.to_string(),
        seq,
        check: check.to_string(),
        reason,
    }
}

/// Checks a stream's events against one signed head (from the checkpoint table or an exported file).
fn check_head(
    events: &[AuditEvent],
    stream: &str,
    seq: i64,
    hash: &str,
    check: &str,
) -> Option<BrokenLink> {
    let last = events.last().map_or(0, |e| e.seq);
    match events.iter().find(|e| e.seq == seq) {
        None => Some(finding(
            stream,
            seq,
            check,
            format!(
                "a signed head vouches for event {seq}, but the chain ends at event {last}: events were deleted from its end"
            ),
        )),
        Some(e) if e.hash != hash => Some(finding(
            stream,
            seq,
            check,
            format!(
                "event {seq} does not have the hash the signed head records: the chain was rewritten"
            ),
        )),
        Some(_) => None,
    }
}

/// Checks a stream's checkpoints: each is signed by the trusted key, and the event it vouches for is
/// there with that hash. Returns the first checkpoint that does not hold.
pub fn verify_checkpoints(
    events: &[AuditEvent],
    checkpoints: &[CheckpointRow],
    trusted: Option<&PublicKey>,
) -> Option<BrokenLink> {
    for c in checkpoints {
        let problem = match trusted {
            None => Some(
                "the stream has signed checkpoints but no signing key is configured to check them with (audit.signing_key_file or audit.data_dir)".to_string(),
            ),
            Some(k) if k.key_id() != c.key_id => Some(format!(
                "the checkpoint names key {}, not the configured key {}: it was not signed here",
                c.key_id,
                k.key_id()
            )),
            Some(k) if !k.verifies(&row_message(c), &c.signature) => Some(
                "the checkpoint's signature does not verify: the checkpoint was changed or forged"
                    .to_string(),
            ),
            Some(_) => None,
        };
        if let Some(reason) = problem {
            return Some(finding(&c.stream, c.seq, "checkpoint", reason));
        }
        if let Some(b) = check_head(events, &c.stream, c.seq, &c.hash, "checkpoint") {
            return Some(b);
        }
    }
    None
}

/// One signed head as exported for an outside system: one JSON object per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedHead {
    pub stream: String,
    pub seq: i64,
    pub hash: String,
    pub signed_at: String,
    pub key_id: String,
    pub public_key: String,
    pub signature: String,
}

/// The newest checkpoint of every stream, for an outside system to keep. A checkpoint is signed by
/// the key that wrote it; the configured key's public half is exported with it.
pub fn export_heads(conn: &mut DbConn, key: &PublicKey) -> Result<Vec<ExportedHead>, AppError> {
    Ok(repo::latest_checkpoints(conn)?
        .into_iter()
        .filter(|c| c.key_id == key.key_id())
        .map(|c| ExportedHead {
            signed_at: stamp(repo::utc(c.signed_at)),
            public_key: key.to_hex(),
            stream: c.stream,
            seq: c.seq,
            hash: c.hash,
            key_id: c.key_id,
            signature: c.signature,
        })
        .collect())
}

/// Checks the database against exported heads: each head's signature with its own public key, and
/// the event it vouches for is there with that hash. Returns every head that does not hold.
pub fn verify_heads(
    conn: &mut DbConn,
    heads: &[ExportedHead],
) -> Result<Vec<BrokenLink>, AppError> {
    let mut out = Vec::new();
    for h in heads {
        let key = PublicKey::from_hex(&h.public_key);
        let signed = key.as_ref().is_some_and(|k| {
            k.key_id() == h.key_id
                && k.verifies(
                    &signed_message(&h.stream, h.seq, &h.hash, &h.signed_at, &h.key_id),
                    &h.signature,
                )
        });
        if !signed {
            out.push(finding(
                &h.stream,
                h.seq,
                "heads",
                "the exported head's signature does not verify with its public key".into(),
            ));
            continue;
        }
        let events = repo::stream_events(conn, &h.stream)?;
        if let Some(b) = check_head(&events, &h.stream, h.seq, &h.hash, "heads") {
            out.push(b);
        }
    }
    Ok(out)
}

/// Reads exported heads (JSON lines; blank lines are skipped), naming the line at fault.
pub fn parse_heads(text: &str) -> Result<Vec<ExportedHead>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| format!("line {}: not an exported head: {e}", i + 1))
        })
        .collect()
}

/// The server's own checkpoints: a thread that signs every moved head each `interval`, stopped when
/// this value is dropped (with the server).
pub struct Checkpointer {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    pub fn start(
        svc: super::Services,
        key: std::sync::Arc<SigningKeyPair>,
        interval: std::time::Duration,
    ) -> Checkpointer {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("audit-checkpoints".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    rx.recv_timeout(interval)
                {
                    let now = svc.clock.now();
                    match svc.write(|c| checkpoint_all(c, &key, now)) {
                        Ok(n) if n > 0 => tracing::info!(checkpoints = n, "audit heads signed"),
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "signing the audit heads failed"),
                    }
                }
            })
            .ok();
        Checkpointer {
            stop: Some(tx),
            thread,
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Dropping the sender wakes the thread, which then ends.
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn events(n: i64) -> Vec<AuditEvent> {
        let mut out: Vec<AuditEvent> = Vec::new();
        for i in 0..n {
            let prev = out.last().map(|e| (e.seq, e.hash.clone()));
            out.push(AuditEvent::seal(
                "s".into(),
                prev,
                Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
                ("a", "A", None, "administrator"),
                "x",
                crate::domain::audit::Visibility::Internal,
                crate::domain::audit::Payload {
                    after: Some(serde_json::json!({ "i": i })),
                    ..Default::default()
                },
            ));
        }
        out
    }

    fn checkpoint(key: &SigningKeyPair, e: &AuditEvent) -> CheckpointRow {
        let mut row = CheckpointRow {
            stream: e.stream.clone(),
            seq: e.seq,
            hash: e.hash.clone(),
            signed_at: repo::ts(Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap()),
            key_id: key.public().key_id(),
            signature: String::new(),
        };
        row.signature = key.sign(&row_message(&row));
        row
    }

    #[test]
    fn a_checkpoint_finds_a_truncated_tail_and_a_rewritten_chain() {
        let key = SigningKeyPair::generate().unwrap();
        let pk = key.public();
        let e = events(3);
        let cps = vec![checkpoint(&key, &e[2])];
        assert_eq!(verify_checkpoints(&e, &cps, Some(&pk)), None);
        let b = verify_checkpoints(&e[..2], &cps, Some(&pk)).unwrap();
        assert!(b.reason.contains("deleted from its end"), "{}", b.reason);
        let other = events(4);
        let mut rewritten = e.clone();
        rewritten[2].hash = other[3].hash.clone();
        let b = verify_checkpoints(&rewritten, &cps, Some(&pk)).unwrap();
        assert!(b.reason.contains("rewritten"), "{}", b.reason);
    }

    #[test]
    fn a_forged_or_foreign_checkpoint_does_not_verify() {
        let key = SigningKeyPair::generate().unwrap();
        let e = events(2);
        let mut forged = checkpoint(&key, &e[1]);
        forged.seq = 1;
        forged.hash = e[0].hash.clone();
        let b = verify_checkpoints(&e, &[forged], Some(&key.public())).unwrap();
        assert!(b.reason.contains("signature"), "{}", b.reason);
        let mallory = SigningKeyPair::generate().unwrap();
        let b =
            verify_checkpoints(&e, &[checkpoint(&mallory, &e[1])], Some(&key.public())).unwrap();
        assert!(b.reason.contains("not signed here"), "{}", b.reason);
        let b = verify_checkpoints(&e, &[checkpoint(&key, &e[1])], None).unwrap();
        assert!(b.reason.contains("no signing key"), "{}", b.reason);
    }

    #[test]
    fn a_generated_key_is_private_to_its_owner_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("key.pem");
        let k = SigningKeyPair::load_or_generate(&path).unwrap();
        let again = SigningKeyPair::load_or_generate(&path).unwrap();
        assert_eq!(k.public(), again.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{k:?}").contains("PRIVATE"));
        std::fs::write(&path, "not a key").unwrap();
        let e = SigningKeyPair::load(&path).unwrap_err().to_string();
        assert!(e.contains("PKCS#8"), "{e}");
    }

    #[test]
    fn instances_starting_together_in_one_process_end_with_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        let keys: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| SigningKeyPair::load_or_generate(&path)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap().unwrap().public())
                .collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]), "one key for all");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no partial files are left behind");
    }

    #[test]
    fn exported_heads_parse_line_by_line() {
        let h = ExportedHead {
            stream: "s".into(),
            seq: 1,
            hash: "h".into(),
            signed_at: "t".into(),
            key_id: "k".into(),
            public_key: "p".into(),
            signature: "g".into(),
        };
        let text = format!("{}\n\n{}\n", serde_json::to_string(&h).unwrap(), "{}");
        let e = parse_heads(&text).unwrap_err();
        assert!(e.starts_with("line 3"), "{e}");
        assert_eq!(parse_heads(&text[..text.len() - 3]).unwrap(), vec![h]);
    }
}
