//! The executed agreement: the agreement version's PDF, unchanged, followed by an incremental
//! update that appends a certificate of completion (sv/en) and seals the whole file with the
//! organisation's key as a PAdES signature (`/SubFilter /ETSI.CAdES.detached`).
//!
//! The signature is a detached CMS SignedData (RFC 5652) over the file's byte ranges, which cover
//! everything but the `/Contents` value: SHA-256, ECDSA P-256, and the signed attributes PAdES
//! baseline needs: content-type, message-digest and signing-certificate-v2 (RFC 5035); no
//! signing-time (the signing time is the signature dictionary's `/M`). Pure Rust (RustCrypto), no
//! system OpenSSL. With a timestamp authority configured (`signing.tsa_url`), the signer info gets
//! its signature time-stamp token over the signature value as the unsigned attribute
//! id-aa-timeStampToken (RFC 3161 appendix A, `render::tsa`); when the authority does not answer,
//! the seal is written without one and the caller is told (`seal_timestamped`).
//!
//! The organisation's key is a P-256 key with a self-signed X.509 certificate, kept as PEM
//! (PKCS#8 key, then the certificate) in one file in the data folder, generated on first use.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Europe::Stockholm;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{OctetString, SetOfVec, Utf8StringRef};
use der::oid::ObjectIdentifier;
use der::{Any, Decode, DecodePem, Encode, EncodePem, Sequence, ValueOrd};
use p256::ecdsa::signature::{Keypair, Signer};
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rand::RngCore;
use sha2::{Digest, Sha256};
use x509_cert::attr::Attribute;
use x509_cert::builder::{profile::BuilderProfile, Builder, CertificateBuilder};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, SubjectPublicKeyInfoOwned,
    SubjectPublicKeyInfoRef,
};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate};

use super::pdf::{self, text_string, write_object, Objects};
use crate::domain::agreement::document::{Block, Labels};
use crate::domain::lang::Lang;

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ID_AT_COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const ID_AT_ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");

/// Bytes reserved for the CMS signature in `/Contents` (written as twice as many hex digits).
/// One certificate and one ECDSA signature take about 1 KB; the rest is room for a time-stamp.
const SIGNATURE_RESERVE: usize = 16384;
/// Width of each number in the `/ByteRange` placeholder.
const RANGE_WIDTH: usize = 10;

/// What the certificate of completion states.
#[derive(Debug, Clone)]
pub struct CompletionCertificate {
    pub lang: Lang,
    /// The agreement's title.
    pub title: String,
    /// The agreement number.
    pub reference: String,
    pub version: u32,
    /// The envelope's digest: SHA-256 over the version's file hashes.
    pub digest: String,
    /// Each file of the version with its SHA-256.
    pub file_hashes: Vec<(String, String)>,
    pub signers: Vec<CertificateSigner>,
}

/// One signature as the certificate lists it.
#[derive(Debug, Clone)]
pub struct CertificateSigner {
    pub name: String,
    pub party: String,
    pub capacity: String,
    pub method: String,
    pub level: String,
    pub signed_at: DateTime<Utc>,
    pub ip: String,
}

/// The organisation's seal: a P-256 key and its self-signed certificate.
pub struct SealKey {
    key: SigningKey,
    certificate: Certificate,
    certificate_der: Vec<u8>,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealKey")
            .field("certificate_sha256", &self.certificate_sha256())
            .finish_non_exhaustive()
    }
}

const KEY_LABEL: &str = "PRIVATE KEY";
const CERT_LABEL: &str = "CERTIFICATE";

/// The PEM block with `label` in `text`.
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = text[start..].find(&end)? + start + end.len();
    Some(&text[start..stop])
}

impl SealKey {
    /// Reads the key and certificate from `path` (PEM), or generates them for `organisation`
    /// and writes them there (readable by the owner only) when the file does not exist.
    pub fn load_or_generate(path: &Path, organisation: &str) -> anyhow::Result<SealKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                SealKey::from_pem(&text).with_context(|| format!("seal key {}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SealKey::generate(organisation, Utc::now())?;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("create {}", dir.display()))?;
                }
                match write_private(path, key.to_pem()?.as_bytes()) {
                    Ok(()) => Ok(key),
                    // Another process wrote it first: use that one.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let text = std::fs::read_to_string(path)
                            .with_context(|| format!("read seal key {}", path.display()))?;
                        SealKey::from_pem(&text)
                            .with_context(|| format!("seal key {}", path.display()))
                    }
                    Err(e) => Err(e).with_context(|| format!("write seal key {}", path.display())),
                }
            }
            Err(e) => Err(e).with_context(|| format!("read seal key {}", path.display())),
        }
    }

    /// A new key with a self-signed certificate naming `organisation`, valid from `now` with no
    /// expiry (RFC 5280 4.1.2.5: 99991231235959Z).
    pub fn generate(organisation: &str, now: DateTime<Utc>) -> anyhow::Result<SealKey> {
        let key = loop {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            // All but a vanishing fraction of 256-bit values are valid scalars.
            if let Ok(k) = SigningKey::from_slice(&bytes) {
                break k;
            }
        };
        let mut serial = [0u8; 16];
        rand::rng().fill_bytes(&mut serial);
        serial[0] = (serial[0] & 0x7f) | 0x40;
        let serial = SerialNumber::new(&serial).map_err(|e| anyhow!("serial number: {e}"))?;
        let not_before = der::DateTime::new(
            u16::try_from(now.year()).context("year")?,
            now.month() as u8,
            now.day() as u8,
            now.hour() as u8,
            now.minute() as u8,
            now.second() as u8,
        )
        .map_err(|e| anyhow!("validity: {e}"))?;
        let validity = Validity::new(Time::from(not_before), Time::INFINITY);
        let subject = organisation_name(organisation)?;
        let spki = SubjectPublicKeyInfoOwned::from_key(key.verifying_key())
            .map_err(|e| anyhow!("public key: {e}"))?;
        let builder = CertificateBuilder::new(SelfSigned { subject }, serial, validity, spki)
            .map_err(|e| anyhow!("certificate: {e}"))?;
        let certificate = builder
            .build::<_, DerSignature>(&KeySigner(&key))
            .map_err(|e| anyhow!("certificate: {e}"))?;
        SealKey::new(key, certificate)
    }

    fn new(key: SigningKey, certificate: Certificate) -> anyhow::Result<SealKey> {
        let certificate_der = certificate
            .to_der()
            .map_err(|e| anyhow!("certificate: {e}"))?;
        let spki = SubjectPublicKeyInfoOwned::from_key(key.verifying_key())
            .map_err(|e| anyhow!("public key: {e}"))?;
        if certificate.tbs_certificate().subject_public_key_info() != &spki {
            bail!("the certificate is not the key's");
        }
        Ok(SealKey {
            key,
            certificate,
            certificate_der,
        })
    }

    /// The key (PKCS#8) and the certificate, as PEM.
    pub fn to_pem(&self) -> anyhow::Result<String> {
        let key = self
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| anyhow!("key: {e}"))?;
        let cert = self
            .certificate
            .to_pem(LineEnding::LF)
            .map_err(|e| anyhow!("certificate: {e}"))?;
        Ok(format!("{}{cert}", key.as_str()))
    }

    /// Reads what `to_pem` writes.
    pub fn from_pem(text: &str) -> anyhow::Result<SealKey> {
        let key = pem_block(text, KEY_LABEL).context("no PRIVATE KEY block")?;
        let key = SigningKey::from_pkcs8_pem(key).map_err(|e| anyhow!("P-256 key: {e}"))?;
        let cert = pem_block(text, CERT_LABEL).context("no CERTIFICATE block")?;
        let cert = Certificate::from_pem(cert).map_err(|e| anyhow!("certificate: {e}"))?;
        SealKey::new(key, cert)
    }

    /// The certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// SHA-256 of the certificate (DER), hex: its fingerprint.
    pub fn certificate_sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.certificate_der))
    }

    /// The organisation the certificate names (its common name).
    pub fn organisation(&self) -> String {
        self.certificate
            .tbs_certificate()
            .subject()
            .common_name()
            .ok()
            .flatten()
            .map(|n| n.value().into_owned())
            .unwrap_or_default()
    }
}

/// Writes `data` to `path` only if no file is there, so that a reader sees either no file or the
/// whole of it: the bytes go to a file of this process's own beside it (owner-only), which is then
/// linked in under `path` (a hard link never replaces a file: `AlreadyExists` when another process
/// got there first) and removed under its own name. Writing `path` itself would let another
/// instance starting at the same moment read it half-written.
#[cfg(unix)]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    let mut nonce = [0u8; 8];
    rand::rng().fill_bytes(&mut nonce);
    name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        hex::encode(nonce)
    ));
    let tmp = path.with_file_name(name);
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    written
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, data)
}

#[derive(Sequence, ValueOrd)]
struct NameAttribute<'a> {
    oid: ObjectIdentifier,
    value: Utf8StringRef<'a>,
}

/// `CN=organisation, O=organisation`, built as DER so no character of the name is syntax.
fn organisation_name(organisation: &str) -> anyhow::Result<Name> {
    let value = Utf8StringRef::new(organisation).map_err(|e| anyhow!("name: {e}"))?;
    let rdns: Vec<SetOfVec<NameAttribute<'_>>> = [ID_AT_ORGANIZATION, ID_AT_COMMON_NAME]
        .into_iter()
        .map(|oid| SetOfVec::try_from(vec![NameAttribute { oid, value }]))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow!("name: {e}"))?;
    let der = rdns.to_der().map_err(|e| anyhow!("name: {e}"))?;
    Name::from_der(&der).map_err(|e| anyhow!("name: {e}"))
}

/// The key as the certificate builder wants its signer: ECDSA with SHA-256 named by its OID.
struct KeySigner<'a>(&'a SigningKey);

impl Keypair for KeySigner<'_> {
    type VerifyingKey = VerifyingKey;

    fn verifying_key(&self) -> VerifyingKey {
        *self.0.verifying_key()
    }
}

impl DynSignatureAlgorithmIdentifier for KeySigner<'_> {
    fn signature_algorithm_identifier(&self) -> x509_cert::spki::Result<AlgorithmIdentifierOwned> {
        Ok(algorithm(ECDSA_WITH_SHA256))
    }
}

impl Signer<DerSignature> for KeySigner<'_> {
    fn try_sign(&self, msg: &[u8]) -> Result<DerSignature, p256::ecdsa::Error> {
        self.0.try_sign(msg)
    }
}

/// The certificate profile: self-signed, not a CA, for digital signatures and non-repudiation.
struct SelfSigned {
    subject: Name,
}

impl BuilderProfile for SelfSigned {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let key_id = Sha256::digest(spk.subject_public_key.raw_bytes());
        let ext = |oid: ObjectIdentifier, critical: bool, value: Vec<u8>| {
            Ok::<_, der::Error>(Extension {
                extn_id: oid,
                critical,
                extn_value: OctetString::new(value)?,
            })
        };
        Ok(vec![
            ext(
                ObjectIdentifier::new_unwrap("2.5.29.19"),
                true,
                BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                }
                .to_der()?,
            )?,
            ext(
                ObjectIdentifier::new_unwrap("2.5.29.15"),
                true,
                KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation).to_der()?,
            )?,
            ext(
                ObjectIdentifier::new_unwrap("2.5.29.14"),
                false,
                SubjectKeyIdentifier(OctetString::new(&key_id[..20])?).to_der()?,
            )?,
        ])
    }
}

/// ESS `IssuerSerial` (RFC 5035).
#[derive(Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// ESS `ESSCertIDv2` with the default hash algorithm, SHA-256, left out as DER requires.
#[derive(Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

/// ESS `SigningCertificateV2`.
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

fn attribute(oid: ObjectIdentifier, value: Any) -> der::Result<Attribute> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

/// The detached CMS SignedData (DER) over content whose SHA-256 is `digest`, with the signature
/// time-stamp token `stamp` gives for the SHA-256 of the signature value (none when it gives none).
fn cms_signature(
    digest: &[u8],
    key: &SealKey,
    stamp: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
) -> der::Result<(Vec<u8>, bool)> {
    let tbs = key.certificate.tbs_certificate();
    let signing_certificate = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Sha256::digest(&key.certificate_der).to_vec())?,
            issuer_serial: IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                serial_number: tbs.serial_number().clone(),
            },
        }],
    };
    let signed_attrs = SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest.to_vec())?)?,
        )?,
        attribute(
            ID_SIGNING_CERTIFICATE_V2,
            Any::encode_from(&signing_certificate)?,
        )?,
    ])?;
    // The signature covers the DER of the attributes as a SET OF (RFC 5652 5.4).
    let to_sign = signed_attrs.to_der()?;
    let signature: DerSignature = key.key.sign(&to_sign);
    let token = stamp(&Sha256::digest(signature.as_bytes()));
    let stamped = token.is_some();
    let unsigned_attrs = match token {
        Some(t) => Some(SetOfVec::try_from(vec![attribute(
            ID_TIME_STAMP_TOKEN,
            Any::from_der(&t)?,
        )?])?),
        None => None,
    };
    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: algorithm(ID_SHA256),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: algorithm(ECDSA_WITH_SHA256),
        signature: OctetString::new(signature.as_bytes().to_vec())?,
        unsigned_attrs,
    };
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![algorithm(ID_SHA256)])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(vec![
            CertificateChoices::Certificate(key.certificate.clone()),
        ])?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer])?),
    };
    let der = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data)?,
    }
    .to_der()?;
    Ok((der, stamped))
}

/// `/ByteRange`: everything before the `/Contents` value and everything after it, as
/// `[start length start length]`; `contents` is the span of the hex string with its `<` `>`.
pub fn byte_range(total: usize, contents: std::ops::Range<usize>) -> [usize; 4] {
    [0, contents.start, contents.end, total - contents.end]
}

/// The `/ByteRange` array in its fixed width, so it fills the placeholder exactly.
fn format_byte_range(r: [usize; 4]) -> String {
    let mut s = String::from("[");
    for (i, n) in r.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{n:<RANGE_WIDTH$}");
    }
    s.push(']');
    s
}

/// The bytes a `/ByteRange` covers.
pub fn covered_bytes(pdf: &[u8], r: [usize; 4]) -> Vec<u8> {
    let mut out = Vec::with_capacity(r[1] + r[3]);
    out.extend_from_slice(&pdf[r[0]..r[0] + r[1]]);
    out.extend_from_slice(&pdf[r[2]..r[2] + r[3]]);
    out
}

/// Whether the executed PDF's last signature verifies (issue 14, "The release guard": "the seal
/// verifying"): its `/ByteRange` covers the whole file but the `/Contents` value, the CMS
/// message-digest is the SHA-256 of what it covers, and the ECDSA P-256 signature over the signed
/// attributes verifies with the certificate it carries; when `expected` is given, that certificate
/// must be it (the organisation's seal certificate, DER).
pub fn verify(pdf: &[u8], expected: Option<&[u8]>) -> bool {
    verify_inner(pdf, expected).unwrap_or(false)
}

fn verify_inner(pdf: &[u8], expected: Option<&[u8]>) -> Option<bool> {
    use p256::ecdsa::signature::Verifier;
    let at = rfind(pdf, b"/ByteRange [")? + 12;
    let end = at + pdf[at..].iter().position(|b| *b == b']')?;
    let nums: Vec<usize> = std::str::from_utf8(&pdf[at..end])
        .ok()?
        .split_whitespace()
        .map(|n| n.parse().ok())
        .collect::<Option<_>>()?;
    let r: [usize; 4] = nums.try_into().ok()?;
    // The ranges start at 0, end at the end of the file, and leave out exactly `<…>`.
    if r[0] != 0 || r[2].checked_add(r[3])? != pdf.len() || r[1] + 2 > r[2] {
        return Some(false);
    }
    let hex_text = pdf.get(r[1] + 1..r[2] - 1)?;
    if pdf[r[1]] != b'<' || pdf[r[2] - 1] != b'>' {
        return Some(false);
    }
    let bytes = hex::decode(hex_text).ok()?;
    // The DER SEQUENCE's own length (the rest of the reserve is zero padding).
    let len = match *bytes.get(1)? {
        n if n < 0x80 => 2 + usize::from(n),
        n => {
            let k = usize::from(n & 0x7f);
            if k > 4 {
                return Some(false);
            }
            2 + k
                + bytes
                    .get(2..2 + k)?
                    .iter()
                    .fold(0usize, |a, b| (a << 8) | usize::from(*b))
        }
    };
    let ci = ContentInfo::from_der(bytes.get(..len)?).ok()?;
    let sd: SignedData = ci.content.decode_as().ok()?;
    let si = sd.signer_infos.0.get(0)?;
    let attrs = si.signed_attrs.as_ref()?;
    let digest = Sha256::digest(covered_bytes(pdf, r));
    let carried = attrs
        .iter()
        .find(|a| a.oid == ID_MESSAGE_DIGEST)?
        .values
        .get(0)?;
    let carried: OctetString = carried.decode_as().ok()?;
    if carried.as_bytes() != digest.as_slice() {
        return Some(false);
    }
    let cert = sd.certificates.as_ref()?.0.iter().find_map(|c| match c {
        CertificateChoices::Certificate(c) => Some(c),
        _ => None,
    })?;
    if let Some(expected) = expected {
        if cert.to_der().ok()? != expected {
            return Some(false);
        }
    }
    let key = VerifyingKey::from_sec1_bytes(
        cert.tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes(),
    )
    .ok()?;
    let sig = p256::ecdsa::Signature::from_der(si.signature.as_bytes()).ok()?;
    Some(key.verify(&attrs.to_der().ok()?, &sig).is_ok())
}

/// What the seal needs from the PDF it extends.
struct Trailer {
    size: u32,
    root: u32,
    info: Option<u32>,
    startxref: usize,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// The value after a dictionary key, when the key is a whole name.
fn after_key<'a>(dict: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(p) = dict[from..].find(key) {
        let end = from + p + key.len();
        let next = dict[end..].chars().next();
        if next.is_some_and(|c| !c.is_ascii_alphanumeric() && c != '-' && c != '_' && c != '.') {
            return Some(dict[end..].trim_start());
        }
        from = end;
    }
    None
}

fn dict_int(dict: &str, key: &str) -> Option<u64> {
    let v = after_key(dict, key)?;
    let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// `/Key N 0 R`: N.
fn dict_ref(dict: &str, key: &str) -> Option<u32> {
    let v = after_key(dict, key)?;
    let mut it = v.split_ascii_whitespace();
    let id = it.next()?.parse().ok()?;
    let generation = it.next()?;
    let r = it.next()?;
    (generation == "0" && r.starts_with('R')).then_some(id)
}

/// The dictionary `<< … >>` starting at the first `<<` in `text`, nested ones included.
fn dictionary(text: &str) -> Option<&str> {
    let start = text.find("<<")?;
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        if &bytes[i..i + 2] == b"<<" {
            depth += 1;
            i += 2;
        } else if &bytes[i..i + 2] == b">>" {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Some(&text[start..i]);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// One classic cross-reference section: object offsets and the trailer dictionary.
fn xref_section(pdf: &[u8], offset: usize) -> anyhow::Result<(BTreeMap<u32, usize>, String)> {
    let text = pdf
        .get(offset..)
        .context("startxref beyond the end of the file")?;
    if !text.starts_with(b"xref") {
        bail!("only PDFs with a classic cross-reference table can be sealed");
    }
    let trailer_at = find(text, b"trailer", 0).context("no trailer")?;
    let table = std::str::from_utf8(&text[4..trailer_at]).context("cross-reference table")?;
    let mut offsets = BTreeMap::new();
    let mut lines = table.lines().map(str::trim).filter(|l| !l.is_empty());
    while let Some(head) = lines.next() {
        let mut h = head.split_ascii_whitespace();
        let (Some(first), Some(count)) = (h.next(), h.next()) else {
            bail!("cross-reference subsection `{head}`");
        };
        let first: u32 = first.parse().context("cross-reference subsection")?;
        let count: u32 = count.parse().context("cross-reference subsection")?;
        for i in 0..count {
            let entry = lines.next().context("cross-reference table cut short")?;
            let mut e = entry.split_ascii_whitespace();
            let off: usize = e
                .next()
                .unwrap_or("")
                .parse()
                .context("cross-reference entry")?;
            let _generation = e.next();
            if e.next() == Some("n") {
                offsets.entry(first + i).or_insert(off);
            }
        }
    }
    // The trailer is ASCII; anything after it only needs to be skipped.
    let rest = String::from_utf8_lossy(&text[trailer_at..]);
    let trailer = dictionary(&rest).context("trailer dictionary")?.to_string();
    Ok((offsets, trailer))
}

/// Reads the last trailer and the offsets of every object through the `/Prev` chain.
fn read_structure(pdf: &[u8]) -> anyhow::Result<(Trailer, BTreeMap<u32, usize>)> {
    let at = rfind(pdf, b"startxref").context("no startxref: not a PDF")?;
    let tail = std::str::from_utf8(&pdf[at + 9..]).context("startxref")?;
    let startxref: usize = tail
        .split_ascii_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .context("startxref offset")?;
    let (mut offsets, trailer) = xref_section(pdf, startxref)?;
    let size = dict_int(&trailer, "/Size").context("trailer /Size")? as u32;
    let root = dict_ref(&trailer, "/Root").context("trailer /Root")?;
    let info = dict_ref(&trailer, "/Info");
    let mut prev = dict_int(&trailer, "/Prev");
    let mut seen = 0;
    while let Some(p) = prev {
        seen += 1;
        if seen > 64 {
            bail!("too many /Prev sections");
        }
        let (older, t) = xref_section(pdf, p as usize)?;
        for (id, off) in older {
            offsets.entry(id).or_insert(off);
        }
        prev = dict_int(&t, "/Prev");
    }
    Ok((
        Trailer {
            size,
            root,
            info,
            startxref,
        },
        offsets,
    ))
}

/// The dictionary of object `id` (a plain dictionary object, not a stream).
fn object_dict(pdf: &[u8], offsets: &BTreeMap<u32, usize>, id: u32) -> anyhow::Result<String> {
    let at = *offsets
        .get(&id)
        .with_context(|| format!("object {id} not in the cross-reference table"))?;
    let end = find(pdf, b"endobj", at).with_context(|| format!("object {id} has no endobj"))?;
    let text = std::str::from_utf8(&pdf[at..end]).with_context(|| format!("object {id}"))?;
    let head = format!("{id} 0 obj");
    if !text.trim_start().starts_with(&head) {
        bail!("object {id} is not at its cross-reference offset");
    }
    Ok(dictionary(text)
        .with_context(|| format!("object {id} is not a dictionary"))?
        .to_string())
}

/// The dictionary with `extra` entries added before its closing `>>`.
fn with_entries(dict: &str, extra: &str) -> String {
    let body = dict
        .trim_end()
        .strip_suffix(">>")
        .unwrap_or(dict)
        .trim_end();
    format!("{body} {extra} >>")
}

/// The page tree root with `pages` appended to its kids.
fn with_pages(dict: &str, pages: &[u32]) -> anyhow::Result<String> {
    let kids_at = dict.find("/Kids").context("page tree without /Kids")?;
    let open = dict[kids_at..].find('[').context("/Kids array")? + kids_at;
    let close = dict[open..].find(']').context("/Kids array")? + open;
    let count = dict_int(dict, "/Count").context("page tree without /Count")?;
    let added: String = pages.iter().map(|p| format!(" {p} 0 R")).collect();
    let mut out = format!("{}{added}{}", &dict[..close], &dict[close..]);
    let count_at = out.find("/Count").context("/Count")?;
    let digits_at = count_at
        + 6
        + out[count_at + 6..]
            .find(|c: char| c.is_ascii_digit())
            .context("/Count")?;
    let digits_end = digits_at
        + out[digits_at..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(out.len() - digits_at);
    out.replace_range(
        digits_at..digits_end,
        &(count + pages.len() as u64).to_string(),
    );
    Ok(out)
}

/// The texts of the certificate in its language.
struct Texts {
    title: &'static str,
    intro: &'static str,
    agreement: &'static str,
    reference: &'static str,
    version: &'static str,
    digest: &'static str,
    files: &'static str,
    file: &'static str,
    signers: &'static str,
    name: &'static str,
    party: &'static str,
    capacity: &'static str,
    method: &'static str,
    level: &'static str,
    signed_at: &'static str,
    ip: &'static str,
    sealed: &'static str,
    sealed_at: &'static str,
    seal_certificate: &'static str,
}

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Sv => &Texts {
            title: "Intyg om fullbordat undertecknande",
            intro: "Avtalsversionen nedan har undertecknats av var och en som anges. Intyget har lagts till avtalsversionens PDF-fil som en inkrementell uppdatering: filens inledande byte är avtalsversionens fil oförändrad. Hela filen är förseglad med organisationens elektroniska sigill.",
            agreement: "Avtal",
            reference: "Avtalsnummer",
            version: "Version",
            digest: "Kontrollsumma (SHA-256 över filernas kontrollsummor)",
            files: "Avtalsversionens filer",
            file: "Fil",
            signers: "Undertecknare",
            name: "Namn",
            party: "Part",
            capacity: "I egenskap av",
            method: "Metod",
            level: "Nivå",
            signed_at: "Undertecknat",
            ip: "IP-adress",
            sealed: "Sigill",
            sealed_at: "Förseglat",
            seal_certificate: "Sigillets certifikat (SHA-256)",
        },
        Lang::En => &Texts {
            title: "Certificate of completion",
            intro: "The agreement version below has been signed by each signer listed. This certificate was appended to the agreement version's PDF file as an incremental update: the file's leading bytes are the agreement version's file unchanged. The whole file is sealed with the organisation's electronic seal.",
            agreement: "Agreement",
            reference: "Agreement number",
            version: "Version",
            digest: "Digest (SHA-256 over the files' hashes)",
            files: "The agreement version's files",
            file: "File",
            signers: "Signers",
            name: "Name",
            party: "Party",
            capacity: "Capacity",
            method: "Method",
            level: "Level",
            signed_at: "Signed",
            ip: "IP address",
            sealed: "Seal",
            sealed_at: "Sealed",
            seal_certificate: "Seal certificate (SHA-256)",
        },
    }
}

/// A time as the certificate shows it: Swedish time with its zone.
fn stockholm(t: DateTime<Utc>) -> String {
    t.with_timezone(&Stockholm)
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// The certificate of completion as document blocks.
fn certificate_blocks(
    cert: &CompletionCertificate,
    key: &SealKey,
    now: DateTime<Utc>,
) -> Vec<Block> {
    let t = texts(cert.lang);
    let pair = |k: &str, v: &str| vec![k.to_string(), v.to_string()];
    let mut blocks = vec![
        Block::Paragraph {
            text: t.intro.to_string(),
        },
        Block::Table {
            header: false,
            rows: vec![
                pair(t.agreement, &cert.title),
                pair(t.reference, &cert.reference),
                pair(t.version, &cert.version.to_string()),
                pair(t.digest, &cert.digest),
            ],
        },
        Block::Heading {
            level: 2,
            text: t.files.to_string(),
        },
    ];
    let mut files = vec![pair(t.file, "SHA-256")];
    files.extend(cert.file_hashes.iter().map(|(f, h)| pair(f, h)));
    blocks.push(Block::Table {
        header: true,
        rows: files,
    });
    blocks.push(Block::Heading {
        level: 2,
        text: t.signers.to_string(),
    });
    for s in &cert.signers {
        blocks.push(Block::Table {
            header: true,
            rows: vec![
                pair(t.name, &s.name),
                pair(t.party, &s.party),
                pair(t.capacity, &s.capacity),
                pair(t.method, &s.method),
                pair(t.level, &s.level),
                pair(t.signed_at, &stockholm(s.signed_at)),
                pair(t.ip, &s.ip),
            ],
        });
    }
    blocks.push(Block::Heading {
        level: 2,
        text: t.sealed.to_string(),
    });
    blocks.push(Block::Table {
        header: false,
        rows: vec![
            pair(t.sealed_at, &stockholm(now)),
            pair(t.seal_certificate, &key.certificate_sha256()),
        ],
    });
    blocks
}

fn pdf_date(t: DateTime<Utc>) -> String {
    format!("(D:{}Z)", t.format("%Y%m%d%H%M%S"))
}

/// The executed PDF: `pdf` unchanged, then an incremental update with the certificate of
/// completion and the PAdES seal over the whole file (no time-stamp).
pub fn seal(
    pdf: &[u8],
    cert: &CompletionCertificate,
    key: &SealKey,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<u8>> {
    seal_stamped(pdf, cert, key, now, &|_| None).map(|(pdf, _)| pdf)
}

/// As [`seal`], with the signature time-stamp of the authority at `tsa_url` (plain http, or https
/// trusting the Mozilla roots) when one is given; see [`seal_with`].
pub fn seal_timestamped(
    pdf: &[u8],
    cert: &CompletionCertificate,
    key: &SealKey,
    now: DateTime<Utc>,
    tsa_url: Option<&str>,
) -> anyhow::Result<(Vec<u8>, bool)> {
    let tsa = tsa_url.map(|u| super::tsa::Tsa::new(u, None)).transpose()?;
    seal_with(pdf, cert, key, now, tsa.as_ref())
}

/// As [`seal`], with the signature time-stamp of the authority `tsa` when one is given. The
/// signatures never wait for the authority: when it fails (down, refusing, a bad answer), the seal
/// is written without a token, a warning is logged, and the second value is `false`.
pub fn seal_with(
    pdf: &[u8],
    cert: &CompletionCertificate,
    key: &SealKey,
    now: DateTime<Utc>,
    tsa: Option<&super::tsa::Tsa>,
) -> anyhow::Result<(Vec<u8>, bool)> {
    let Some(tsa) = tsa else {
        return seal_stamped(pdf, cert, key, now, &|_| None);
    };
    seal_stamped(pdf, cert, key, now, &|digest| match tsa.token(digest) {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!(
                tsa = tsa.url(),
                error = format!("{e:#}"),
                "no signature time-stamp; the seal is written without one"
            );
            None
        }
    })
}

fn seal_stamped(
    pdf: &[u8],
    cert: &CompletionCertificate,
    key: &SealKey,
    now: DateTime<Utc>,
    stamp: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
) -> anyhow::Result<(Vec<u8>, bool)> {
    let (trailer, offsets) = read_structure(pdf)?;
    let catalog = object_dict(pdf, &offsets, trailer.root)?;
    if after_key(&catalog, "/AcroForm").is_some() {
        bail!("the PDF already has a form; sealing it again is not supported");
    }
    let pages_id = dict_ref(&catalog, "/Pages").context("catalog without /Pages")?;
    let page_tree = object_dict(pdf, &offsets, pages_id)?;

    let t = texts(cert.lang);
    let labels = Labels::for_lang(cert.lang);
    let header = format!(
        "{} {}, {} {}",
        labels.agreement_no, cert.reference, labels.version, cert.version
    );
    let mut objects = Objects::new(trailer.size);
    let sig = objects.reserve();
    let widget = objects.reserve();
    let new_pages = pdf::append_pages(
        t.title,
        &certificate_blocks(cert, key, now),
        labels,
        &header,
        pages_id,
        &mut objects,
        &format!("/Annots [{widget} 0 R]"),
    );
    objects.put(
        widget,
        format!(
            "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Seal) /V {sig} 0 R /F 132 /Rect [0 0 0 0] /P {} 0 R >>",
            new_pages[0]
        )
        .into_bytes(),
    );
    let zero = format!("{:<RANGE_WIDTH$}", 0);
    let placeholder_range = format!("[{zero} {zero} {zero} {zero}]");
    let placeholder_contents = format!("<{}>", "0".repeat(2 * SIGNATURE_RESERVE));
    let organisation = key.organisation();
    objects.put(
        sig,
        format!(
            "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange {placeholder_range} /Contents {placeholder_contents} /M {} /Name {} /Reason {} >>",
            pdf_date(now),
            text_string(&organisation),
            text_string(&format!("{}: {} {} {}", t.title, cert.reference, labels.version, cert.version)),
        )
        .into_bytes(),
    );
    objects.put(
        trailer.root,
        with_entries(
            &catalog,
            &format!("/AcroForm << /Fields [{widget} 0 R] /SigFlags 3 >>"),
        )
        .into_bytes(),
    );
    objects.put(pages_id, with_pages(&page_tree, &new_pages)?.into_bytes());
    let size = objects.next_id();
    let objects = objects.into_sorted();

    let mut out = Vec::with_capacity(pdf.len() + 2 * SIGNATURE_RESERVE + 64 * 1024);
    out.extend_from_slice(pdf);
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let mut entries = Vec::with_capacity(objects.len());
    let mut sig_at = 0;
    for (id, body) in &objects {
        let at = write_object(&mut out, *id, body);
        if *id == sig {
            sig_at = at;
        }
        entries.push((*id, at));
    }
    let xref = out.len();
    let mut tail = String::from("xref\n");
    let mut i = 0;
    while i < entries.len() {
        let mut j = i + 1;
        while j < entries.len() && entries[j].0 == entries[j - 1].0 + 1 {
            j += 1;
        }
        let _ = writeln!(tail, "{} {}", entries[i].0, j - i);
        for (_, at) in &entries[i..j] {
            let _ = writeln!(tail, "{at:010} 00000 n ");
        }
        i = j;
    }
    let info = trailer
        .info
        .map(|i| format!(" /Info {i} 0 R"))
        .unwrap_or_default();
    let _ = write!(
        tail,
        "trailer\n<< /Size {size} /Root {} 0 R{info} /Prev {} >>\nstartxref\n{xref}\n%%EOF\n",
        trailer.root, trailer.startxref
    );
    out.extend_from_slice(tail.as_bytes());

    // Fill in the byte ranges, hash what they cover, and write the signature into /Contents.
    let range_at = find(&out, b"/ByteRange ", sig_at).context("byte range placeholder")? + 11;
    let contents_start = find(&out, b"/Contents <", sig_at).context("contents placeholder")? + 10;
    let contents_end = contents_start + placeholder_contents.len();
    let range = byte_range(out.len(), contents_start..contents_end);
    let range_text = format_byte_range(range);
    debug_assert_eq!(range_text.len(), placeholder_range.len());
    out[range_at..range_at + range_text.len()].copy_from_slice(range_text.as_bytes());
    let digest = Sha256::digest(covered_bytes(&out, range));
    let (cms, stamped) =
        cms_signature(&digest, key, stamp).map_err(|e| anyhow!("CMS signature: {e}"))?;
    if cms.len() > SIGNATURE_RESERVE {
        bail!(
            "the signature ({} bytes) does not fit its reserved space",
            cms.len()
        );
    }
    let hex = hex::encode_upper(&cms);
    out[contents_start + 1..contents_start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    Ok((out, stamped))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Instances starting at the same moment on one data folder all end with the one key that was
    /// written first, never with a half-written file (a reader saw "no PRIVATE KEY block" when the
    /// key file was written in place), and nothing of the writing is left beside it.
    #[test]
    fn instances_starting_together_share_one_whole_seal_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("keys").join("seal-key.pem");
        for _ in 0..5 {
            let _ = std::fs::remove_file(&path);
            let barrier = std::sync::Barrier::new(8);
            let prints: Vec<String> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            SealKey::load_or_generate(&path, "Region Test")
                                .map(|k| k.certificate_sha256())
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("thread").expect("loads or generates"))
                    .collect()
            });
            assert!(prints.iter().all(|p| *p == prints[0]), "{prints:?}");
            let on_disk = SealKey::from_pem(&std::fs::read_to_string(&path).expect("read"))
                .expect("whole key");
            assert_eq!(on_disk.certificate_sha256(), prints[0]);
            let names: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
                .expect("list")
                .map(|e| e.expect("entry").file_name())
                .collect();
            assert_eq!(names, vec![std::ffi::OsString::from("seal-key.pem")]);
        }
    }

    #[test]
    fn the_byte_range_leaves_out_exactly_the_contents_string() {
        let pdf = b"%PDF head /Contents <00000000> tail%%EOF\n".to_vec();
        let start = pdf.iter().position(|b| *b == b'<').unwrap();
        let end = pdf.iter().position(|b| *b == b'>').unwrap() + 1;
        let r = byte_range(pdf.len(), start..end);
        assert_eq!(r, [0, start, end, pdf.len() - end]);
        assert_eq!(r[1] + (end - start) + r[3], pdf.len());
        let covered = covered_bytes(&pdf, r);
        assert_eq!(covered, b"%PDF head /Contents  tail%%EOF\n".to_vec());
    }

    #[test]
    fn the_byte_range_fills_its_placeholder_exactly() {
        let zero = format!("{:<RANGE_WIDTH$}", 0);
        let placeholder = format!("[{zero} {zero} {zero} {zero}]");
        for r in [[0, 1, 2, 3], [0, 123_456, 140_000, 9_999_999_999]] {
            let s = format_byte_range(r);
            assert_eq!(s.len(), placeholder.len(), "{s}");
            let numbers: Vec<usize> = s
                .trim_matches(|c| c == '[' || c == ']')
                .split_ascii_whitespace()
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(numbers, r);
        }
    }

    #[test]
    fn page_tree_and_catalog_are_extended() {
        let tree = "<< /Type /Pages /Kids [7 0 R 9 0 R] /Count 2 >>";
        assert_eq!(
            with_pages(tree, &[20, 22]).unwrap(),
            "<< /Type /Pages /Kids [7 0 R 9 0 R 20 0 R 22 0 R] /Count 4 >>"
        );
        assert_eq!(
            with_entries("<< /Type /Catalog /Pages 2 0 R >>", "/AcroForm << >>"),
            "<< /Type /Catalog /Pages 2 0 R /AcroForm << >> >>"
        );
        assert_eq!(
            dict_ref("<< /Pages 2 0 R /PagesX 3 0 R >>", "/Pages"),
            Some(2)
        );
        assert_eq!(
            dict_ref("<< /PagesX 3 0 R /Pages 2 0 R >>", "/Pages"),
            Some(2)
        );
    }

    #[test]
    fn a_key_survives_its_pem() {
        let key = SealKey::generate("Region Ö, \"Test\"+1", Utc::now()).unwrap();
        assert_eq!(key.organisation(), "Region Ö, \"Test\"+1");
        let back = SealKey::from_pem(&key.to_pem().unwrap()).unwrap();
        assert_eq!(back.certificate_der(), key.certificate_der());
        assert_eq!(back.key.to_bytes(), key.key.to_bytes());
    }
}
