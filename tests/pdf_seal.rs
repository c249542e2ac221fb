//! The executed agreement (issue 14): a real agreement PDF, sealed with a certificate of
//! completion as an incremental update, checked by poppler's `pdfsig` and `pdftotext`.
use std::path::Path;
use std::process::Command;

use chrono::{TimeZone, Utc};
use samverkan::domain::lang::Lang;
use samverkan::render::seal::{seal, CertificateSigner, CompletionCertificate, SealKey};
use samverkan::render::{self, Format};
use samverkan::templates::TemplateSet;

fn tool_missing(what: &str) -> bool {
    if Command::new(what).arg("-v").output().is_ok() {
        return false;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{what} (poppler-utils) is required under CI: apt-get install -y poppler-utils");
    }
    eprintln!("SKIPPED: {what} not found (apt-get install -y poppler-utils)");
    true
}

/// The agreement PDF and the certificate for it, as the signing job would assemble them.
fn agreement(lang: Lang) -> (Vec<u8>, CompletionCertificate) {
    let set = TemplateSet::builtin().unwrap();
    let mut data = render::example("three-party", lang).unwrap();
    data.parties[0].signatory.name = "Łukasz Øyvind".into();
    data.parties[1].signatory.name = "Ümit Nguyễn".into();
    let rendered = render::render_agreement(&set, &data).unwrap();
    let pdf = rendered.file(Format::Pdf).unwrap().bytes.clone();
    let file_hashes: Vec<(String, String)> = rendered
        .files
        .iter()
        .map(|f| {
            (
                format!("agreement.{}", f.format.extension()),
                f.sha256.clone(),
            )
        })
        .collect();
    let sha = |f: Format| rendered.file(f).unwrap().sha256.clone();
    let digest = samverkan::domain::agreement::evidence::version_digest(
        &sha(Format::Docx),
        &sha(Format::Pdf),
        &sha(Format::Html),
    );
    let at = |h: u32, m: u32| Utc.with_ymd_and_hms(2027, 3, 1, h, m, 0).unwrap();
    let signers = data
        .parties
        .iter()
        .enumerate()
        .map(|(i, p)| CertificateSigner {
            name: p.signatory.name.clone(),
            party: p.name.clone(),
            capacity: p.signatory.title.clone(),
            method: "samverkan".into(),
            level: "SES".into(),
            signed_at: at(9 + i as u32, 15),
            ip: format!("192.0.2.{}", 10 + i),
        })
        .collect();
    let cert = CompletionCertificate {
        lang,
        title: rendered.document.title.clone(),
        reference: data.agreement_number.clone(),
        version: data.version,
        digest,
        file_hashes,
        signers,
    };
    (pdf, cert)
}

fn run(tool: &str, args: &[&str], path: &Path) -> (bool, String) {
    let out = Command::new(tool)
        .args(args)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn a_sealed_agreement_is_valid_whole_and_keeps_the_version_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let key = SealKey::load_or_generate(&dir.path().join("keys/seal.pem"), "Region Östergötland")
        .unwrap();
    // A second start reads the same key.
    let again = SealKey::load_or_generate(&dir.path().join("keys/seal.pem"), "Region Östergötland")
        .unwrap();
    assert_eq!(again.certificate_der(), key.certificate_der());

    for lang in [Lang::Sv, Lang::En] {
        let (pdf, cert) = agreement(lang);
        let now = Utc.with_ymd_and_hms(2027, 3, 1, 13, 30, 0).unwrap();
        let executed = seal(&pdf, &cert, &key, now).unwrap();
        // The leading bytes are the version's PDF unchanged, and hash to its stored hash.
        assert_eq!(&executed[..pdf.len()], &pdf[..]);
        assert_eq!(
            render::sha256_hex(&executed[..pdf.len()]),
            render::sha256_hex(&pdf)
        );
        // Sealing is deterministic (RFC 6979 signatures) for the same inputs.
        assert_eq!(executed, seal(&pdf, &cert, &key, now).unwrap());

        if tool_missing("pdfsig") || tool_missing("pdftotext") {
            return;
        }
        let path = dir.path().join(format!("executed-{lang:?}.pdf"));
        std::fs::write(&path, &executed).unwrap();
        let (_, report) = run("pdfsig", &[], &path);
        assert!(
            report.contains("Signature Validation: Signature is Valid."),
            "{report}"
        );
        assert!(
            report.contains("Total document signed")
                || report.contains("The signature form field is signed"),
            "{report}"
        );
        assert!(report.contains("ETSI.CAdES.detached"), "{report}");
        assert!(
            report.contains("SHA-256") || report.contains("SHA256"),
            "{report}"
        );

        let (ok, text) = run("pdftotext", &["-enc", "UTF-8"], &path);
        assert!(ok, "{text}");
        let text = std::fs::read_to_string(path.with_extension("txt")).unwrap();
        let text = text.replace('\n', " ");
        let (title, signers) = match lang {
            Lang::Sv => ("Intyg om fullbordat undertecknande", "Undertecknare"),
            Lang::En => ("Certificate of completion", "Signers"),
        };
        assert!(text.contains(title), "{text}");
        assert!(text.contains(signers), "{text}");
        for name in ["Łukasz Øyvind", "Ümit Nguyễn"] {
            assert!(text.contains(name), "`{name}` on the certificate: {text}");
        }
        for s in &cert.signers {
            assert!(text.contains(&s.ip), "{}", s.ip);
        }
        // Times in Swedish time: 09:15 UTC is 10:15 CET on 1 March.
        assert!(text.contains("2027-03-01 10:15:00 CET"), "{text}");
        assert!(text.contains(&cert.digest[..32]), "digest");
        // The agreement's own pages are still there, followed by the certificate's.
        let (_, info) = run("pdfinfo", &[], &path);
        let pages = |info: &str| -> usize {
            info.lines()
                .find_map(|l| l.strip_prefix("Pages:"))
                .and_then(|n| n.trim().parse().ok())
                .unwrap()
        };
        let original = dir.path().join("original.pdf");
        std::fs::write(&original, &pdf).unwrap();
        let (_, before) = run("pdfinfo", &[], &original);
        assert!(pages(&info) > pages(&before), "{info}");

        // One byte changed after sealing: pdfsig reports the signature invalid.
        let mut altered = executed.clone();
        let at = pdf.len() / 2;
        altered[at] = if altered[at] == b'0' { b'1' } else { b'0' };
        let bad = dir.path().join(format!("altered-{lang:?}.pdf"));
        std::fs::write(&bad, &altered).unwrap();
        let (_, report) = run("pdfsig", &[], &bad);
        assert!(
            !report.contains("Signature is Valid.")
                && (report.contains("Digest Mismatch") || report.contains("Signature is Invalid")),
            "{report}"
        );
    }
}

#[test]
fn a_broken_key_file_is_an_error_not_a_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seal.pem");
    std::fs::write(&path, "not a key").unwrap();
    let err = SealKey::load_or_generate(&path, "Org").unwrap_err();
    assert!(format!("{err:#}").contains("PRIVATE KEY"), "{err:#}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key");
}

#[test]
fn a_pdf_samverkan_did_not_write_is_refused_with_a_reason() {
    let key = SealKey::generate("Org", Utc::now()).unwrap();
    let (_, cert) = agreement(Lang::En);
    let err = seal(b"%PDF-1.7\nnot much\n", &cert, &key, Utc::now()).unwrap_err();
    assert!(format!("{err:#}").contains("startxref"), "{err:#}");
}

/// The CMS SignedData in the executed PDF's `/Contents` (its DER, without the zero padding).
fn signature_cms(pdf: &[u8]) -> Vec<u8> {
    let at = pdf
        .windows(11)
        .rposition(|w| w == b"/Contents <")
        .expect("a signature's /Contents")
        + 11;
    let end = at + pdf[at..].iter().position(|b| *b == b'>').unwrap();
    let bytes = hex::decode(&pdf[at..end]).unwrap();
    // A DER SEQUENCE with a long-form length: 0x30 0x8N, then N length bytes.
    assert_eq!(bytes[0], 0x30);
    let n = usize::from(bytes[1] & 0x7f);
    let len = bytes[2..2 + n]
        .iter()
        .fold(0usize, |a, b| (a << 8) | usize::from(*b));
    bytes[..2 + n + len].to_vec()
}

/// A real RFC 3161 timestamp authority (tests/support/tsa_server.py answering with `openssl ts
/// -reply`), with its key and certificate made by `openssl` now; stopped by its PID when dropped.
struct Tsa {
    child: std::process::Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Drop for Tsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_tsa() -> Option<Tsa> {
    start_tsa_with(false)
}

/// The test TSA behind TLS: a CA and a server certificate for 127.0.0.1 issued from it are made
/// with `openssl` now (`ca.crt` is what the client trusts).
fn start_tsa_tls() -> Option<Tsa> {
    start_tsa_with(true)
}

fn openssl(dir: &Path, args: &[&str]) {
    let made = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&made.stderr)
    );
}

fn start_tsa_with(tls: bool) -> Option<Tsa> {
    if Command::new("openssl").arg("version").output().is_err() {
        if std::env::var_os("CI").is_some() {
            panic!("openssl is required under CI");
        }
        eprintln!("SKIPPED: openssl not found");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "tsa.key",
            "-out",
            "tsa.crt",
            "-days",
            "2",
            "-subj",
            "/CN=Samverkan test TSA",
            "-addext",
            "extendedKeyUsage=critical,timeStamping",
            "-addext",
            "keyUsage=critical,digitalSignature",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    std::fs::write(d.join("tsaserial"), "01\n").unwrap();
    std::fs::write(
        d.join("tsa.cnf"),
        format!(
            "[ tsa ]\ndefault_tsa = tsa_config1\n[ tsa_config1 ]\ndir = {}\nserial = $dir/tsaserial\n\
             crypto_device = builtin\nsigner_cert = $dir/tsa.crt\nsigner_key = $dir/tsa.key\n\
             signer_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256\n\
             accuracy = secs:1\nordering = no\ntsa_name = yes\ness_cert_id_chain = no\n\
             ess_cert_id_alg = sha256\n",
            d.display()
        ),
    )
    .unwrap();
    if tls {
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        openssl(
            d,
            &[
                &["req", "-x509"][..],
                &ec,
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.crt",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=Samverkan test CA",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign",
                ],
            ]
            .concat(),
        );
        openssl(
            d,
            &[
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                    "-subj",
                    "/CN=127.0.0.1",
                ],
            ]
            .concat(),
        );
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        );
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/tsa_server.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(d)
        .args(tls.then_some("--tls"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the test TSA");
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().parse().expect("the TSA's port");
    Some(Tsa {
        child,
        url: format!(
            "{}://127.0.0.1:{port}/tsr",
            if tls { "https" } else { "http" }
        ),
        dir,
    })
}

#[test]
fn with_a_timestamp_authority_the_seal_carries_its_token_and_stays_valid() {
    // Issue 14, "Executed agreement": "a timestamp authority when configured"; the token is the
    // signer info's unsigned attribute id-aa-timeStampToken (RFC 3161, appendix A).
    let Some(tsa) = start_tsa() else { return };
    let key = SealKey::generate("Region Östergötland", Utc::now()).unwrap();
    let (pdf, cert) = agreement(Lang::Sv);
    let now = Utc.with_ymd_and_hms(2027, 3, 1, 13, 30, 0).unwrap();
    let (executed, stamped) =
        samverkan::render::seal::seal_timestamped(&pdf, &cert, &key, now, Some(&tsa.url)).unwrap();
    assert!(stamped, "the authority answered");
    assert_eq!(&executed[..pdf.len()], &pdf[..]);
    // The token: in the unsigned attributes, over the SHA-256 of the signature value, and verified
    // by openssl against the authority's certificate.
    use cms::signed_data::SignedData;
    use der::{Decode, Encode};
    let ci = cms::content_info::ContentInfo::from_der(&signature_cms(&executed)).unwrap();
    let sd: SignedData = ci.content.decode_as().unwrap();
    let si = sd.signer_infos.0.get(0).unwrap();
    let attrs = si.unsigned_attrs.as_ref().expect("unsigned attributes");
    let attr = attrs.get(0).unwrap();
    assert_eq!(attr.oid.to_string(), "1.2.840.113549.1.9.16.2.14");
    let token = attr.values.get(0).unwrap().to_der().unwrap();
    let token_file = tsa.dir.path().join("token.der");
    std::fs::write(&token_file, &token).unwrap();
    let imprint = render::sha256_hex(si.signature.as_bytes());
    let out = Command::new("openssl")
        .args(["ts", "-verify", "-token_in", "-in"])
        .arg(&token_file)
        .args(["-digest", &imprint, "-CAfile"])
        .arg(tsa.dir.path().join("tsa.crt"))
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("Verification: OK"), "{said}");
    if tool_missing("pdfsig") {
        return;
    }
    let path = tsa.dir.path().join("executed.pdf");
    std::fs::write(&path, &executed).unwrap();
    let (_, report) = run("pdfsig", &[], &path);
    assert!(
        report.contains("Signature Validation: Signature is Valid."),
        "{report}"
    );
    assert!(report.contains("Total document signed"), "{report}");
}

#[test]
fn with_the_timestamp_authority_down_the_seal_is_written_without_a_token() {
    // The signatures are never lost for the authority: the seal is written without a token and
    // the caller is told (`false`), and pdfsig still finds it valid.
    let Some(tsa) = start_tsa() else { return };
    let url = tsa.url.clone();
    drop(tsa);
    let key = SealKey::generate("Org", Utc::now()).unwrap();
    let (pdf, cert) = agreement(Lang::En);
    let (executed, stamped) =
        samverkan::render::seal::seal_timestamped(&pdf, &cert, &key, Utc::now(), Some(&url))
            .unwrap();
    assert!(!stamped);
    use cms::signed_data::SignedData;
    use der::Decode;
    let ci = cms::content_info::ContentInfo::from_der(&signature_cms(&executed)).unwrap();
    let sd: SignedData = ci.content.decode_as().unwrap();
    assert!(sd.signer_infos.0.get(0).unwrap().unsigned_attrs.is_none());
    if tool_missing("pdfsig") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("executed.pdf");
    std::fs::write(&path, &executed).unwrap();
    let (_, report) = run("pdfsig", &[], &path);
    assert!(report.contains("Signature is Valid."), "{report}");
}

#[test]
fn the_seal_verifies_and_an_altered_byte_or_another_certificate_does_not() {
    // Issue 14, "The release guard": "the seal verifying" (samverkan's own check, beside pdfsig).
    let key = SealKey::generate("Org", Utc::now()).unwrap();
    let other = SealKey::generate("Other", Utc::now()).unwrap();
    let (pdf, cert) = agreement(Lang::Sv);
    let executed = seal(&pdf, &cert, &key, Utc::now()).unwrap();
    assert!(samverkan::render::seal::verify(&executed, None));
    assert!(samverkan::render::seal::verify(
        &executed,
        Some(key.certificate_der())
    ));
    assert!(!samverkan::render::seal::verify(
        &executed,
        Some(other.certificate_der())
    ));
    let mut altered = executed.clone();
    let at = pdf.len() / 2;
    altered[at] = if altered[at] == b'0' { b'1' } else { b'0' };
    assert!(!samverkan::render::seal::verify(&altered, None));
    assert!(!samverkan::render::seal::verify(&pdf, None), "unsealed");
}

#[test]
fn an_https_timestamp_authority_is_asked_over_tls_trusting_the_configured_ca_only() {
    // `signing.tsa_url` over https (rustls, the TLS stack reqwest already brings), the server
    // checked against `signing.tsa_ca_file`: the token arrives and the seal stays valid. Without
    // that CA (the Mozilla roots only) the handshake fails and the seal is written without a token.
    let Some(tsa) = start_tsa_tls() else { return };
    assert!(tsa.url.starts_with("https://"));
    let key = SealKey::generate("Org", Utc::now()).unwrap();
    let (pdf, cert) = agreement(Lang::Sv);
    let trusted =
        samverkan::render::tsa::Tsa::new(&tsa.url, Some(&tsa.dir.path().join("ca.crt"))).unwrap();
    let (executed, stamped) =
        samverkan::render::seal::seal_with(&pdf, &cert, &key, Utc::now(), Some(&trusted)).unwrap();
    assert!(stamped, "the authority answered over TLS");
    use cms::signed_data::SignedData;
    use der::Decode;
    let ci = cms::content_info::ContentInfo::from_der(&signature_cms(&executed)).unwrap();
    let sd: SignedData = ci.content.decode_as().unwrap();
    let attrs = sd.signer_infos.0.get(0).unwrap().unsigned_attrs.clone();
    assert_eq!(
        attrs.expect("the token").get(0).unwrap().oid.to_string(),
        "1.2.840.113549.1.9.16.2.14"
    );
    assert!(samverkan::render::seal::verify(
        &executed,
        Some(key.certificate_der())
    ));
    let untrusted = samverkan::render::tsa::Tsa::new(&tsa.url, None).unwrap();
    let (_, stamped) =
        samverkan::render::seal::seal_with(&pdf, &cert, &key, Utc::now(), Some(&untrusted))
            .unwrap();
    assert!(
        !stamped,
        "a server certificate from an untrusted CA is refused"
    );
    // A CA file that is not there is an error at start, naming it.
    let missing =
        samverkan::render::tsa::Tsa::new(&tsa.url, Some(Path::new("/nonexistent/ca.pem")));
    assert!(missing.is_err());
    if tool_missing("pdfsig") {
        return;
    }
    let path = tsa.dir.path().join("executed.pdf");
    std::fs::write(&path, &executed).unwrap();
    let (_, report) = run("pdfsig", &[], &path);
    assert!(report.contains("Signature is Valid."), "{report}");
}
