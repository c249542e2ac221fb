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
