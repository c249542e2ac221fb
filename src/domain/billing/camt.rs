//! A bank's ISO 20022 debit/credit notification, camt.054 (BkToCstmrDbtCdtNtfctn), read into the
//! payments it reports (issue 15, item 5: "imported from a bank's ISO 20022 camt.054 file, matched on
//! the OCR reference").
//!
//! What is read, per transaction (`Ntry/NtryDtls/TxDtls`; an entry without details is one
//! transaction): the amount and its currency (`TxDtls/Amt`, in version 02 `TxDtls/AmtDtls/TxAmt/Amt`,
//! else the entry's `Amt`), the credit/debit indicator (the transaction's, else the entry's), the
//! booking date (`Ntry/BookgDt/Dt`, or the date of `DtTm`), the entry's status (`Sts`, in version 08
//! `Sts/Cd`), the bank's references (`Refs/AcctSvcrRef`, `Refs/EndToEndId`, the entry's
//! `AcctSvcrRef`), the creditor reference the payer gave: `RmtInf/Strd/CdtrRefInf/Ref`, else the
//! unstructured `RmtInf/Ustrd`, and the payer's name (`RltdPties/Dbtr/Nm`, in version 08
//! `RltdPties/Dbtr/Pty/Nm`), for finance to see who paid.
//!
//! Accepted: the namespaces `urn:iso:std:iso:20022:tech:xsd:camt.054.001.02` to `.08`, in UTF-8.
//! Refused: a document type declaration (DTD) and any entity other than the five XML predefines and
//! character references (no entity expansion, no external resources), and anything not well formed.
//! Every error names the element path and the line.
use chrono::NaiveDate;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::amount::{Amount, Currency};

/// The namespace of camt.054 without its version digits.
pub const NAMESPACE_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.";
/// The versions read: 02 to 08.
pub const VERSIONS: std::ops::RangeInclusive<u8> = 2..=8;

/// Credit (money in, `CRDT`) or debit (money out, `DBIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditDebit {
    Credit,
    Debit,
}

/// One transaction of the notification (transaktion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankTransaction {
    /// Positive; [`BankTransaction::direction`] says which way it went.
    pub amount: Amount,
    pub direction: CreditDebit,
    pub booking_date: NaiveDate,
    /// `BOOK` (booked), `PDNG` (pending), `INFO`; none when the file gives none.
    pub status: Option<String>,
    /// The bank's own reference of the transaction (`TxDtls/Refs/AcctSvcrRef`).
    pub account_servicer_ref: Option<String>,
    /// The payer's end-to-end id (`Refs/EndToEndId`), unless `NOTPROVIDED`.
    pub end_to_end_id: Option<String>,
    /// The entry's reference (`Ntry/AcctSvcrRef`), shared by its transactions.
    pub entry_ref: Option<String>,
    /// The structured creditor reference (the OCR number), else the unstructured remittance text.
    pub reference: Option<String>,
    /// Whether [`BankTransaction::reference`] came from `Strd/CdtrRefInf/Ref`.
    pub structured: bool,
    /// The payer's name (`RltdPties/Dbtr/Nm` or `RltdPties/Dbtr/Pty/Nm`), see [`payer_name`].
    pub debtor_name: Option<String>,
    /// The line of the transaction's element in the file, for messages.
    pub line: usize,
}

impl BankTransaction {
    /// The reference a payment is counted once by: the bank's transaction reference, else the
    /// end-to-end id, else the entry's reference with the transaction's place in it.
    pub fn bank_reference(&self) -> String {
        self.account_servicer_ref
            .clone()
            .or_else(|| self.end_to_end_id.clone())
            .unwrap_or_else(|| self.entry_ref.clone().unwrap_or_default())
    }
}

/// The notification: its version, message id and transactions in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// 2 to 8 (camt.054.001.0N).
    pub version: u8,
    pub message_id: Option<String>,
    pub transactions: Vec<BankTransaction>,
}

/// What is wrong with the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CamtProblem {
    /// Not UTF-8 or not well-formed XML: the parser's words.
    Xml(String),
    /// A document type declaration: refused, entities and external resources come with it.
    Dtd,
    /// An entity reference other than the XML predefines and character references.
    Entity(String),
    /// The root is not a camt.054 `Document` of a version read here.
    NotCamt054(String),
    /// A required element is missing.
    Missing(&'static str),
    /// An element's value is not what it must be.
    Value {
        value: String,
        expected: &'static str,
    },
}

/// An error: the problem, where (the element path from `Document`) and the line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("camt.054, line {line}, {path}: {problem}")]
pub struct CamtError {
    pub problem: CamtProblem,
    pub path: String,
    pub line: usize,
}

impl CamtProblem {
    /// The problem in words, Swedish or English (the parser's own words stay as they are).
    pub fn text(&self, lang: crate::domain::lang::Lang) -> String {
        use crate::domain::lang::Lang::{En, Sv};
        match (self, lang) {
            (CamtProblem::Xml(m), En) => format!("not well-formed XML: {m}"),
            (CamtProblem::Xml(m), Sv) => format!("inte välformad XML: {m}"),
            (CamtProblem::Dtd, En) => "a document type declaration (DTD) is not accepted".into(),
            (CamtProblem::Dtd, Sv) => "en dokumenttypdeklaration (DTD) godtas inte".into(),
            (CamtProblem::Entity(n), En) => format!("the entity &{n}; is not accepted"),
            (CamtProblem::Entity(n), Sv) => format!("entiteten &{n}; godtas inte"),
            (CamtProblem::NotCamt054(ns), En) => {
                format!("not a camt.054 Document ({NAMESPACE_PREFIX}02 to 08), found {ns:?}")
            }
            (CamtProblem::NotCamt054(ns), Sv) => {
                format!("inte ett camt.054-dokument ({NAMESPACE_PREFIX}02 till 08), fann {ns:?}")
            }
            (CamtProblem::Missing(e), En) => format!("{e} is missing"),
            (CamtProblem::Missing(e), Sv) => format!("{e} saknas"),
            (CamtProblem::Value { value, expected }, En) => format!("{value:?} is not {expected}"),
            (CamtProblem::Value { value, expected }, Sv) => {
                format!("{value:?} är inte giltigt (väntat: {expected})")
            }
        }
    }
}

impl std::fmt::Display for CamtProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(crate::domain::lang::Lang::En))
    }
}

impl CamtError {
    /// The catalogued text (rule `camt`), for the import's refusal.
    pub fn message(&self) -> crate::domain::messages::Message {
        crate::msg!(
            "camt",
            line = self.line,
            path = self.path.as_str(),
            problem = crate::domain::messages::Arg::both(
                self.problem.text(crate::domain::lang::Lang::Sv),
                self.problem.text(crate::domain::lang::Lang::En)
            )
        )
    }
}

/// Reads a camt.054 file.
pub fn parse(bytes: &[u8]) -> Result<Notification, CamtError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let upto = &bytes[..e.valid_up_to()];
        CamtError {
            problem: CamtProblem::Xml(format!("not UTF-8 ({e})")),
            path: String::new(),
            line: 1 + upto.iter().filter(|b| **b == b'\n').count(),
        }
    })?;
    Parser::new(text).run()
}

#[derive(Default)]
struct Tx {
    line: usize,
    amount: Option<(String, String, usize)>,
    amount_v2: Option<(String, String, usize)>,
    direction: Option<(String, usize)>,
    servicer_ref: Option<String>,
    end_to_end: Option<String>,
    strd_ref: Option<String>,
    ustrd: Option<String>,
    debtor_name: Option<String>,
}

/// The longest payer's name kept (characters; ISO 20022 `Max140Text`).
pub const MAX_PAYER_NAME: usize = 140;

/// A payer's name as it is kept: control characters dropped, runs of white space made one space,
/// trimmed, at most [`MAX_PAYER_NAME`] characters; none when nothing is left.
pub fn payer_name(v: &str) -> Option<String> {
    let words: Vec<&str> = v
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let name: String = words.join(" ").chars().take(MAX_PAYER_NAME).collect();
    let name = name.trim_end().to_string();
    (!name.is_empty()).then_some(name)
}

#[derive(Default)]
struct Entry {
    line: usize,
    path: String,
    amount: Option<(String, String, usize)>,
    direction: Option<(String, usize)>,
    booking: Option<(String, usize)>,
    status: Option<String>,
    servicer_ref: Option<String>,
    txs: Vec<Tx>,
}

struct Parser<'a> {
    text: &'a str,
    reader: NsReader<&'a [u8]>,
    path: Vec<String>,
    buf: String,
    /// Currency attribute of the open `Amt`, by depth.
    ccy: Option<(usize, String)>,
    entry: Option<Entry>,
    tx: Option<Tx>,
    version: u8,
    message_id: Option<String>,
    out: Vec<BankTransaction>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        let mut reader = NsReader::from_str(text);
        reader.config_mut().check_end_names = true;
        Parser {
            text,
            reader,
            path: vec![],
            buf: String::new(),
            ccy: None,
            entry: None,
            tx: None,
            version: 0,
            message_id: None,
            out: vec![],
        }
    }

    fn line_at(&self, pos: u64) -> usize {
        let end = usize::try_from(pos)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        1 + self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
    }

    fn line(&self) -> usize {
        self.line_at(self.reader.buffer_position())
    }

    fn path_str(&self) -> String {
        self.path.join("/")
    }

    fn err(&self, problem: CamtProblem) -> CamtError {
        CamtError {
            problem,
            path: self.path_str(),
            line: self.line(),
        }
    }

    fn run(mut self) -> Result<Notification, CamtError> {
        loop {
            let (ns, ev) = match self.reader.read_resolved_event() {
                Ok((ns, ev)) => (ns_string(&ns), ev),
                Err(e) => {
                    let line = self.line_at(self.reader.error_position());
                    return Err(CamtError {
                        problem: CamtProblem::Xml(e.to_string()),
                        path: self.path_str(),
                        line,
                    });
                }
            };
            match ev {
                Event::DocType(_) => return Err(self.err(CamtProblem::Dtd)),
                Event::Start(s) => self.start(&s, ns)?,
                Event::Empty(s) => {
                    self.start(&s, ns)?;
                    self.end()?;
                }
                Event::End(_) => self.end()?,
                Event::Text(t) => {
                    let s = t
                        .xml10_content()
                        .map_err(|e| self.err(CamtProblem::Xml(e.to_string())))?;
                    self.buf.push_str(&s);
                }
                Event::CData(t) => {
                    let s = t
                        .decode()
                        .map_err(|e| self.err(CamtProblem::Xml(e.to_string())))?;
                    self.buf.push_str(&s);
                }
                Event::GeneralRef(r) => {
                    let name = r
                        .decode()
                        .map_err(|e| self.err(CamtProblem::Xml(e.to_string())))?
                        .into_owned();
                    if r.is_char_ref() {
                        match r.resolve_char_ref() {
                            Ok(Some(c)) => self.buf.push(c),
                            _ => return Err(self.err(CamtProblem::Entity(name))),
                        }
                    } else {
                        let c = match name.as_str() {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "apos" => '\'',
                            "quot" => '"',
                            _ => return Err(self.err(CamtProblem::Entity(name))),
                        };
                        self.buf.push(c);
                    }
                }
                Event::Eof => break,
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            }
        }
        if !self.path.is_empty() {
            return Err(self.err(CamtProblem::Xml(format!(
                "the file ends inside <{}>",
                self.path.last().map(String::as_str).unwrap_or_default()
            ))));
        }
        if self.version == 0 {
            return Err(self.err(CamtProblem::NotCamt054(String::new())));
        }
        Ok(Notification {
            version: self.version,
            message_id: self.message_id,
            transactions: self.out,
        })
    }

    fn start(&mut self, s: &BytesStart<'_>, ns: Option<String>) -> Result<(), CamtError> {
        let local = String::from_utf8_lossy(s.local_name().as_ref()).into_owned();
        self.path.push(local);
        self.buf.clear();
        let depth = self.path.len();
        if depth == 1 {
            let ns = ns.unwrap_or_default();
            let version = ns
                .strip_prefix(NAMESPACE_PREFIX)
                .filter(|v| v.len() == 2)
                .and_then(|v| v.parse::<u8>().ok())
                .filter(|v| VERSIONS.contains(v));
            match (self.path[0].as_str(), version) {
                ("Document", Some(v)) => self.version = v,
                _ => return Err(self.err(CamtProblem::NotCamt054(ns))),
            }
        }
        if depth == 2 && self.path[1] != "BkToCstmrDbtCdtNtfctn" {
            return Err(self.err(CamtProblem::NotCamt054(format!(
                "{NAMESPACE_PREFIX}0{} with <{}>",
                self.version, self.path[1]
            ))));
        }
        if self.path.last().is_some_and(|l| l == "Amt") {
            let decoder = self.reader.decoder();
            let ccy = s.try_get_attribute("Ccy").ok().flatten().and_then(|a| {
                a.decoded_and_normalized_value(quick_xml::XmlVersion::Implicit1_0, decoder)
                    .ok()
                    .map(|v| v.into_owned())
            });
            self.ccy = ccy.map(|c| (depth, c));
        }
        if self.is(&["Ntfctn", "Ntry"]) {
            self.entry = Some(Entry {
                line: self.line(),
                path: self.path_str(),
                ..Entry::default()
            });
        }
        if self.is(&["Ntfctn", "Ntry", "NtryDtls", "TxDtls"]) {
            self.tx = Some(Tx {
                line: self.line(),
                ..Tx::default()
            });
        }
        Ok(())
    }

    /// Whether the open path is `Document/BkToCstmrDbtCdtNtfctn/<rest>`.
    fn is(&self, rest: &[&str]) -> bool {
        self.path.len() == rest.len() + 2 && self.path[2..].iter().zip(rest).all(|(a, b)| a == b)
    }

    /// The open path below the open entry (`Amt`, `NtryDtls/TxDtls/Refs/EndToEndId`), if inside one.
    fn below_entry(&self) -> Option<String> {
        (self.path.len() > 4 && self.path[2] == "Ntfctn" && self.path[3] == "Ntry")
            .then(|| self.path[4..].join("/"))
    }

    fn end(&mut self) -> Result<(), CamtError> {
        let value = self.buf.trim().to_string();
        self.buf.clear();
        let line = self.line();
        let depth = self.path.len();
        let ccy = match &self.ccy {
            Some((d, c)) if *d == depth => Some(c.clone()),
            _ => None,
        };
        if self.is(&["GrpHdr", "MsgId"]) {
            self.message_id = Some(value.clone());
        }
        if let Some(rel) = self.below_entry() {
            let amt = |c: Option<String>| (value.clone(), c.unwrap_or_default(), line);
            if let Some(e) = self.entry.as_mut() {
                match rel.as_str() {
                    "Amt" => e.amount = Some(amt(ccy.clone())),
                    "CdtDbtInd" => e.direction = Some((value.clone(), line)),
                    "BookgDt/Dt" | "BookgDt/DtTm" => e.booking = Some((value.clone(), line)),
                    "Sts" | "Sts/Cd" if !value.is_empty() => e.status = Some(value.clone()),
                    "AcctSvcrRef" => e.servicer_ref = Some(value.clone()),
                    _ => {}
                }
            }
            if let (Some(tx), Some(r)) = (self.tx.as_mut(), rel.strip_prefix("NtryDtls/TxDtls/")) {
                match r {
                    "Amt" => tx.amount = Some(amt(ccy)),
                    "AmtDtls/TxAmt/Amt" => tx.amount_v2 = Some(amt(ccy)),
                    "CdtDbtInd" => tx.direction = Some((value.clone(), line)),
                    "Refs/AcctSvcrRef" => tx.servicer_ref = Some(value.clone()),
                    "Refs/EndToEndId" if value != "NOTPROVIDED" && !value.is_empty() => {
                        tx.end_to_end = Some(value.clone())
                    }
                    "RmtInf/Strd/CdtrRefInf/Ref" if tx.strd_ref.is_none() => {
                        tx.strd_ref = Some(value.clone())
                    }
                    "RmtInf/Ustrd" if tx.ustrd.is_none() && !value.is_empty() => {
                        tx.ustrd = Some(value.clone())
                    }
                    "RltdPties/Dbtr/Nm" | "RltdPties/Dbtr/Pty/Nm" if tx.debtor_name.is_none() => {
                        tx.debtor_name = payer_name(&value)
                    }
                    _ => {}
                }
            }
        }
        if self.is(&["Ntfctn", "Ntry", "NtryDtls", "TxDtls"]) {
            if let (Some(tx), Some(e)) = (self.tx.take(), self.entry.as_mut()) {
                e.txs.push(tx);
            }
        }
        if self.is(&["Ntfctn", "Ntry"]) {
            if let Some(e) = self.entry.take() {
                self.finish_entry(e)?;
            }
        }
        self.path.pop();
        Ok(())
    }

    fn finish_entry(&mut self, mut e: Entry) -> Result<(), CamtError> {
        let at = |path: String, line: usize, problem| CamtError {
            problem,
            path,
            line,
        };
        let (booking, booking_line) = e.booking.clone().ok_or_else(|| {
            at(
                format!("{}/BookgDt", e.path),
                e.line,
                CamtProblem::Missing("BookgDt/Dt"),
            )
        })?;
        let booking_date = booking
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| {
                at(
                    format!("{}/BookgDt", e.path),
                    booking_line,
                    CamtProblem::Value {
                        value: booking.clone(),
                        expected: "a date (YYYY-MM-DD)",
                    },
                )
            })?;
        let single = e.txs.len() <= 1;
        let had_details = !e.txs.is_empty();
        if e.txs.is_empty() {
            e.txs.push(Tx {
                line: e.line,
                ..Tx::default()
            });
        }
        for (i, tx) in std::mem::take(&mut e.txs).into_iter().enumerate() {
            let tx_path = if !had_details {
                e.path.clone()
            } else if single {
                format!("{}/NtryDtls/TxDtls", e.path)
            } else {
                format!("{}/NtryDtls/TxDtls[{}]", e.path, i + 1)
            };
            let amount_src = tx
                .amount
                .clone()
                .map(|a| (a, format!("{tx_path}/Amt")))
                .or_else(|| {
                    tx.amount_v2
                        .clone()
                        .map(|a| (a, format!("{tx_path}/AmtDtls/TxAmt/Amt")))
                })
                .or_else(|| {
                    single
                        .then(|| e.amount.clone().map(|a| (a, format!("{}/Amt", e.path))))
                        .flatten()
                });
            let ((value, ccy, line), path) = amount_src
                .ok_or_else(|| at(tx_path.clone(), tx.line, CamtProblem::Missing("Amt")))?;
            let currency = Currency::parse(&ccy).map_err(|_| {
                at(
                    format!("{path}/@Ccy"),
                    line,
                    CamtProblem::Value {
                        value: ccy.clone(),
                        expected: "an ISO 4217 currency code",
                    },
                )
            })?;
            let minor = parse_amount(&value).ok_or_else(|| {
                at(
                    path.clone(),
                    line,
                    CamtProblem::Value {
                        value: value.clone(),
                        expected: "a positive amount with at most two decimals",
                    },
                )
            })?;
            let (ind, ind_line, ind_path) = match (&tx.direction, &e.direction) {
                (Some((v, l)), _) => (v.clone(), *l, format!("{tx_path}/CdtDbtInd")),
                (None, Some((v, l))) => (v.clone(), *l, format!("{}/CdtDbtInd", e.path)),
                (None, None) => {
                    return Err(at(
                        e.path.clone(),
                        e.line,
                        CamtProblem::Missing("CdtDbtInd"),
                    ))
                }
            };
            let direction = match ind.as_str() {
                "CRDT" => CreditDebit::Credit,
                "DBIT" => CreditDebit::Debit,
                _ => {
                    return Err(at(
                        ind_path,
                        ind_line,
                        CamtProblem::Value {
                            value: ind,
                            expected: "CRDT or DBIT",
                        },
                    ))
                }
            };
            let entry_ref =
                e.servicer_ref
                    .clone()
                    .map(|r| if single { r } else { format!("{r}/{}", i + 1) });
            if tx.servicer_ref.is_none() && tx.end_to_end.is_none() && entry_ref.is_none() {
                return Err(at(
                    tx_path,
                    tx.line,
                    CamtProblem::Missing("a bank reference (Refs/AcctSvcrRef, Refs/EndToEndId or the entry's AcctSvcrRef)"),
                ));
            }
            let structured = tx.strd_ref.is_some();
            self.out.push(BankTransaction {
                amount: Amount::new(minor, currency),
                direction,
                booking_date,
                status: e.status.clone(),
                account_servicer_ref: tx.servicer_ref,
                end_to_end_id: tx.end_to_end,
                entry_ref,
                reference: tx.strd_ref.or(tx.ustrd),
                structured,
                debtor_name: tx.debtor_name,
                line: tx.line,
            });
        }
        Ok(())
    }
}

fn ns_string(ns: &ResolveResult<'_>) -> Option<String> {
    match ns {
        ResolveResult::Bound(n) => Some(String::from_utf8_lossy(n.as_ref()).into_owned()),
        _ => None,
    }
}

/// `1234.5` / `1234.50` / `1234` → minor units; at most two decimals (trailing zeros beyond are
/// fine), no sign, no exponent.
fn parse_amount(v: &str) -> Option<i64> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || (v.contains('.') && frac.is_empty()) {
        return None;
    }
    let (cents, rest) = frac.split_at(frac.len().min(2));
    if rest.bytes().any(|b| b != b'0') {
        return None;
    }
    let cents = format!("{cents:0<2}");
    int.parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents.parse::<i64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(version: &str, body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.{version}">
<BkToCstmrDbtCdtNtfctn>
<GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-10-02T06:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>N1</Id>
{body}
</Ntfctn>
</BkToCstmrDbtCdtNtfctn>
</Document>"#
        )
    }

    const V8_ENTRY: &str = r#"<Ntry>
<Amt Ccy="SEK">1500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-10-01</Dt></BookgDt><AcctSvcrRef>E-1</AcctSvcrRef>
<NtryDtls>
<TxDtls><Refs><AcctSvcrRef>TX-1</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
<Amt Ccy="SEK">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties><Dbtr><Pty><Nm>Exempel  Läkemedel	 AB</Nm></Pty></Dbtr></RltdPties>
<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>20260001712</Ref></CdtrRefInf></Strd></RmtInf>
</TxDtls>
<TxDtls><Refs><EndToEndId>E2E-2</EndToEndId></Refs>
<Amt Ccy="SEK">500.5</Amt>
<RmtInf><Ustrd>Faktura 1234574 &amp; tack</Ustrd></RmtInf>
</TxDtls>
</NtryDtls>
</Ntry>"#;

    #[test]
    fn a_version_08_file_gives_each_transaction_with_its_references() {
        let n = parse(doc("08", V8_ENTRY).as_bytes()).unwrap();
        assert_eq!(n.version, 8);
        assert_eq!(n.message_id.as_deref(), Some("MSG-1"));
        assert_eq!(n.transactions.len(), 2);
        let a = &n.transactions[0];
        assert_eq!(a.amount, Amount::sek(100_000));
        assert_eq!(a.direction, CreditDebit::Credit);
        assert_eq!(
            a.booking_date,
            NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
        );
        assert_eq!(a.status.as_deref(), Some("BOOK"));
        assert_eq!(a.reference.as_deref(), Some("20260001712"));
        assert!(a.structured);
        assert_eq!(a.end_to_end_id, None, "NOTPROVIDED is no id");
        assert_eq!(a.bank_reference(), "TX-1");
        // Version 08: `RltdPties/Dbtr/Pty/Nm`, white space made one space.
        assert_eq!(a.debtor_name.as_deref(), Some("Exempel Läkemedel AB"));
        let b = &n.transactions[1];
        assert_eq!(b.debtor_name, None, "no RltdPties, no name");
        assert_eq!(b.amount, Amount::sek(50_050));
        // The entry's indicator when the transaction has none.
        assert_eq!(b.direction, CreditDebit::Credit);
        assert_eq!(b.reference.as_deref(), Some("Faktura 1234574 & tack"));
        assert!(!b.structured);
        assert_eq!(b.bank_reference(), "E2E-2");
        assert_eq!(b.entry_ref.as_deref(), Some("E-1/2"));
        assert!(b.line > a.line);
    }

    #[test]
    fn a_version_02_file_with_the_amount_under_amtdtls_and_an_entry_without_details() {
        let body = r#"<Ntry><Amt Ccy="SEK">250.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><DtTm>2026-09-30T10:00:00</DtTm></BookgDt>
<NtryDtls><TxDtls><Refs><AcctSvcrRef>R-9</AcctSvcrRef></Refs>
<AmtDtls><TxAmt><Amt Ccy="SEK">250.00</Amt></TxAmt></AmtDtls>
<RltdPties><Dbtr><Nm>Nordisk Farma Oy</Nm></Dbtr><DbtrAcct><Id><IBAN>FI00</IBAN></Id></DbtrAcct></RltdPties>
<RmtInf><Strd><CdtrRefInf><Ref>1234574</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="EUR">10</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-09-30</Dt></BookgDt><AcctSvcrRef>FEE-1</AcctSvcrRef></Ntry>"#;
        let n = parse(doc("02", body).as_bytes()).unwrap();
        assert_eq!(n.version, 2);
        assert_eq!(n.transactions.len(), 2);
        assert_eq!(n.transactions[0].amount, Amount::sek(25_000));
        assert_eq!(n.transactions[0].status.as_deref(), Some("BOOK"));
        // Version 02: `RltdPties/Dbtr/Nm`.
        assert_eq!(
            n.transactions[0].debtor_name.as_deref(),
            Some("Nordisk Farma Oy")
        );
        assert_eq!(
            n.transactions[0].booking_date,
            NaiveDate::from_ymd_opt(2026, 9, 30).unwrap()
        );
        let fee = &n.transactions[1];
        assert_eq!(fee.direction, CreditDebit::Debit);
        assert_eq!(fee.amount.currency().as_str(), "EUR");
        assert_eq!(fee.amount.minor(), 1_000);
        assert_eq!(fee.bank_reference(), "FEE-1");
        assert_eq!(fee.reference, None);
    }

    #[test]
    fn a_payer_name_is_kept_on_one_line_and_at_most_140_characters() {
        assert_eq!(payer_name("  A\tB\u{7}  C \n"), Some("A B C".into()));
        assert_eq!(payer_name(" \n "), None);
        let long = "x".repeat(MAX_PAYER_NAME + 10);
        assert_eq!(
            payer_name(&long).map(|n| n.chars().count()),
            Some(MAX_PAYER_NAME)
        );
    }

    #[test]
    fn every_version_from_02_to_08_is_read_and_others_are_refused() {
        for v in ["02", "03", "04", "05", "06", "07", "08"] {
            let n = parse(doc(v, V8_ENTRY).as_bytes()).unwrap();
            assert_eq!(n.transactions.len(), 2, "{v}");
        }
        for v in ["01", "09", "10", "2"] {
            let e = parse(doc(v, V8_ENTRY).as_bytes()).unwrap_err();
            assert!(matches!(e.problem, CamtProblem::NotCamt054(_)), "{v}: {e}");
            assert_eq!((e.path.as_str(), e.line), ("Document", 2), "{v}");
        }
        let camt053 = doc("08", V8_ENTRY).replace("camt.054", "camt.053");
        assert!(matches!(
            parse(camt053.as_bytes()).unwrap_err().problem,
            CamtProblem::NotCamt054(_)
        ));
        let other = doc("08", "").replace("BkToCstmrDbtCdtNtfctn", "BkToCstmrStmt");
        let e = parse(other.as_bytes()).unwrap_err();
        assert_eq!(e.path, "Document/BkToCstmrStmt");
    }

    #[test]
    fn a_dtd_and_entities_are_refused() {
        let bomb = format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE Document [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;\">]>\n{}",
            doc("08", V8_ENTRY).split_once('\n').unwrap().1
        );
        let e = parse(bomb.as_bytes()).unwrap_err();
        assert_eq!(e.problem, CamtProblem::Dtd);
        assert_eq!(e.line, 2);
        let entity = doc("08", V8_ENTRY).replace("Faktura 1234574 &amp;", "Faktura &b;");
        let e = parse(entity.as_bytes()).unwrap_err();
        assert_eq!(e.problem, CamtProblem::Entity("b".into()));
        assert!(
            e.path.ends_with("NtryDtls/TxDtls/RmtInf/Ustrd"),
            "{}",
            e.path
        );
        assert_eq!(e.line, 16);
        // A character reference is text, not an entity.
        let charref =
            doc("08", V8_ENTRY).replace("Faktura 1234574 &amp;", "Faktura&#32;1234574 &#x26;");
        let n = parse(charref.as_bytes()).unwrap();
        assert_eq!(
            n.transactions[1].reference.as_deref(),
            Some("Faktura 1234574 & tack")
        );
    }

    #[test]
    fn malformed_files_name_the_line_and_the_element() {
        // A closing tag that does not match.
        let bad = doc("08", V8_ENTRY).replace("<Cd>BOOK</Cd>", "<Cd>BOOK</Code>");
        let e = parse(bad.as_bytes()).unwrap_err();
        assert!(matches!(e.problem, CamtProblem::Xml(_)), "{e}");
        assert_eq!(e.line, 7, "{e}");
        assert!(e.path.ends_with("Ntry/Sts/Cd"), "{}", e.path);
        assert!(e.to_string().contains("line 7"), "{e}");
        // Cut short.
        let cut = &doc("08", V8_ENTRY)[..200];
        assert!(matches!(
            parse(cut.as_bytes()).unwrap_err().problem,
            CamtProblem::Xml(_)
        ));
        // Not XML at all, and not UTF-8.
        assert!(parse(b"amount;ocr\n100;1234574").is_err());
        let e = parse(b"<?xml version=\"1.0\"?>\n<Document>\xff</Document>").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(parse(b"").is_err());
    }

    #[test]
    fn bad_values_name_their_element() {
        let cases = [
            (
                "<Amt Ccy=\"SEK\">1000.00</Amt>",
                "<Amt Ccy=\"SEK\">1000.001</Amt>",
                "NtryDtls/TxDtls[1]/Amt",
            ),
            (
                "<Amt Ccy=\"SEK\">1000.00</Amt>",
                "<Amt Ccy=\"SEK\">-1000.00</Amt>",
                "NtryDtls/TxDtls[1]/Amt",
            ),
            (
                "<Amt Ccy=\"SEK\">1000.00</Amt>",
                "<Amt Ccy=\"kr\">1000.00</Amt>",
                "NtryDtls/TxDtls[1]/Amt/@Ccy",
            ),
            (
                "<Amt Ccy=\"SEK\">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>",
                "<Amt Ccy=\"SEK\">1000.00</Amt><CdtDbtInd>CREDIT</CdtDbtInd>",
                "NtryDtls/TxDtls[1]/CdtDbtInd",
            ),
            ("<Dt>2026-10-01</Dt>", "<Dt>1 oktober</Dt>", "Ntry/BookgDt"),
            ("<BookgDt><Dt>2026-10-01</Dt></BookgDt>", "", "Ntry/BookgDt"),
        ];
        for (from, to, path) in cases {
            let bad = doc("08", V8_ENTRY).replacen(from, to, 1);
            let e = parse(bad.as_bytes()).unwrap_err();
            assert!(e.path.ends_with(path), "{to}: {} ({e})", e.path);
            assert!(e.line >= 6, "{e}");
        }
        // A transaction without any bank reference cannot be counted once.
        let body = r#"<Ntry><Amt Ccy="SEK">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<BookgDt><Dt>2026-10-01</Dt></BookgDt></Ntry>"#;
        let e = parse(doc("08", body).as_bytes()).unwrap_err();
        assert!(matches!(e.problem, CamtProblem::Missing(_)), "{e}");
    }

    #[test]
    fn amounts_are_read_without_floats() {
        assert_eq!(parse_amount("0.01"), Some(1));
        assert_eq!(parse_amount("12"), Some(1200));
        assert_eq!(parse_amount("12.5"), Some(1250));
        assert_eq!(parse_amount("12.500"), Some(1250));
        assert_eq!(parse_amount("12.505"), None);
        assert_eq!(parse_amount("12."), None);
        assert_eq!(parse_amount(".5"), None);
        assert_eq!(parse_amount("1e3"), None);
        assert_eq!(parse_amount("+1"), None);
        assert_eq!(parse_amount("99999999999999999999"), None);
    }
}
