//! The finance export (ekonomiexport): issued invoices, credit notes and payments of a period as one
//! CSV file for the region's ledger (issue 15, item 8).
//!
//! The shape Swedish spreadsheets read without an import dialogue: UTF-8 with a byte-order mark,
//! semicolons between cells (a comma is the decimal sign in Swedish), CRLF line ends, amounts in
//! kronor with a decimal comma and two decimals made from whole öre (no floats), dates and times in
//! Europe/Stockholm. A text cell that a spreadsheet would run as a formula (starting with `=`, `+`,
//! `-`, `@`, a tab or a carriage return; OWASP "CSV Injection") gets a leading `'`. Amount cells are
//! written from integers by this module and carry no formula, so a credit note's `-1250,00` stays a
//! number.
use chrono::{DateTime, NaiveDate, Utc};

use super::amount::Amount;
use super::document::DocumentKind;
use crate::domain::lang::Lang;

/// An issued invoice or credit note as the export shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    pub kind: DocumentKind,
    pub number: String,
    pub issue_date: NaiveDate,
    /// When it was issued (stored in UTC).
    pub issued_at: DateTime<Utc>,
    pub due_date: Option<NaiveDate>,
    pub buyer_name: String,
    pub buyer_org_number: String,
    pub buyer_vat_number: Option<String>,
    pub ocr_reference: Option<String>,
    /// A credit note's invoice.
    pub corrects: Option<String>,
    /// Net, VAT and gross: negative on a credit note.
    pub net: Amount,
    pub vat: Amount,
    pub gross: Amount,
}

/// A payment as the export shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    pub booked_on: NaiveDate,
    /// When it was recorded (stored in UTC).
    pub recorded_at: DateTime<Utc>,
    /// The invoice it was matched to; none while unmatched.
    pub invoice_number: Option<String>,
    pub bank_reference: String,
    pub ocr_reference: Option<String>,
    pub payer: Option<String>,
    pub amount: Amount,
}

/// A placement of an unmatched payment on an invoice as the export shows it: the money moves from
/// the payment that matched nothing to the invoice, on the day it was placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRow {
    /// The Europe/Stockholm day it was placed.
    pub placed_on: NaiveDate,
    /// When it was placed (stored in UTC).
    pub placed_at: DateTime<Utc>,
    /// The invoice it was placed on.
    pub invoice_number: Option<String>,
    /// The bank reference of the payment placed.
    pub bank_reference: String,
    pub amount: Amount,
}

/// The period of the export, both days included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }
}

const HEADER_SV: [&str; 16] = [
    "Typ",
    "Nummer",
    "Datum",
    "Registrerad",
    "Förfallodatum",
    "Köpare",
    "Organisationsnummer",
    "Momsregistreringsnummer",
    "OCR",
    "Avser faktura",
    "Bankreferens",
    "Netto",
    "Moms",
    "Belopp",
    "Valuta",
    "Betalare",
];

const HEADER_EN: [&str; 16] = [
    "Type",
    "Number",
    "Date",
    "Recorded",
    "Due date",
    "Buyer",
    "Organisation number",
    "VAT number",
    "OCR",
    "Invoice corrected",
    "Bank reference",
    "Net",
    "VAT",
    "Amount",
    "Currency",
    "Payer",
];

/// The CSV of the period: documents by issue date, then payments by booking date, then placements
/// of unmatched payments by the day they were placed; each group in date order, then by number or
/// bank reference.
pub fn export(
    period: Period,
    documents: &[DocumentRow],
    payments: &[PaymentRow],
    allocations: &[AllocationRow],
    lang: Lang,
) -> String {
    let mut out = String::from("\u{feff}");
    let header = match lang {
        Lang::Sv => HEADER_SV,
        Lang::En => HEADER_EN,
    };
    line(&mut out, header.iter().map(|h| text(h)));
    let mut docs: Vec<&DocumentRow> = documents
        .iter()
        .filter(|d| period.contains(d.issue_date))
        .collect();
    docs.sort_by(|a, b| (a.issue_date, &a.number).cmp(&(b.issue_date, &b.number)));
    for d in docs {
        let kind = match (d.kind, lang) {
            (DocumentKind::Invoice, Lang::Sv) => "Faktura",
            (DocumentKind::Invoice, Lang::En) => "Invoice",
            (DocumentKind::CreditNote, Lang::Sv) => "Kreditfaktura",
            (DocumentKind::CreditNote, Lang::En) => "Credit note",
        };
        line(
            &mut out,
            [
                text(kind),
                text(&d.number),
                d.issue_date.to_string(),
                stockholm(d.issued_at),
                d.due_date.map(|x| x.to_string()).unwrap_or_default(),
                text(&d.buyer_name),
                text(&d.buyer_org_number),
                opt(&d.buyer_vat_number),
                opt(&d.ocr_reference),
                opt(&d.corrects),
                String::new(),
                kronor(d.net),
                kronor(d.vat),
                kronor(d.gross),
                text(d.gross.currency().as_str()),
                String::new(),
            ],
        );
    }
    let mut pays: Vec<&PaymentRow> = payments
        .iter()
        .filter(|p| period.contains(p.booked_on))
        .collect();
    pays.sort_by(|a, b| (a.booked_on, &a.bank_reference).cmp(&(b.booked_on, &b.bank_reference)));
    for p in pays {
        line(
            &mut out,
            [
                text(match lang {
                    Lang::Sv => "Inbetalning",
                    Lang::En => "Payment",
                }),
                opt(&p.invoice_number),
                p.booked_on.to_string(),
                stockholm(p.recorded_at),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                opt(&p.ocr_reference),
                String::new(),
                text(&p.bank_reference),
                String::new(),
                String::new(),
                kronor(p.amount),
                text(p.amount.currency().as_str()),
                opt(&p.payer),
            ],
        );
    }
    let mut placed: Vec<&AllocationRow> = allocations
        .iter()
        .filter(|a| period.contains(a.placed_on))
        .collect();
    placed.sort_by(|a, b| (a.placed_at, &a.bank_reference).cmp(&(b.placed_at, &b.bank_reference)));
    for a in placed {
        line(
            &mut out,
            [
                text(match lang {
                    Lang::Sv => "Placering av inbetalning",
                    Lang::En => "Payment placed",
                }),
                opt(&a.invoice_number),
                a.placed_on.to_string(),
                stockholm(a.placed_at),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                text(&a.bank_reference),
                String::new(),
                String::new(),
                kronor(a.amount),
                text(a.amount.currency().as_str()),
                String::new(),
            ],
        );
    }
    out
}

fn line(out: &mut String, cells: impl IntoIterator<Item = String>) {
    let mut first = true;
    for c in cells {
        if !first {
            out.push(';');
        }
        first = false;
        out.push_str(&c);
    }
    out.push_str("\r\n");
}

/// A text cell: guarded against formulas, then quoted when it holds a separator, a quote or a
/// line break (RFC 4180, with `;` as the separator).
pub fn text(v: &str) -> String {
    let guarded = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if guarded.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

fn opt(v: &Option<String>) -> String {
    v.as_deref().map(text).unwrap_or_default()
}

/// Kronor with a decimal comma and two decimals: `-1234,50`, `0,05`; no thousands separator.
pub fn kronor(a: Amount) -> String {
    a.decimal().replace('.', ",")
}

/// The time in Europe/Stockholm, `YYYY-MM-DD HH:MM`.
pub fn stockholm(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Stockholm)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    fn invoice(number: &str, issue: NaiveDate, gross: i64) -> DocumentRow {
        DocumentRow {
            kind: DocumentKind::Invoice,
            number: number.into(),
            issue_date: issue,
            issued_at: Utc.with_ymd_and_hms(2026, 10, 1, 22, 30, 0).unwrap(),
            due_date: Some(day(10, 31)),
            buyer_name: "Exempel Läkemedel AB".into(),
            buyer_org_number: "556677-8899".into(),
            buyer_vat_number: Some("SE556677889901".into()),
            ocr_reference: Some("20260001712".into()),
            corrects: None,
            net: Amount::sek(gross * 4 / 5),
            vat: Amount::sek(gross / 5),
            gross: Amount::sek(gross),
        }
    }

    fn period() -> Period {
        Period {
            from: day(10, 1),
            to: day(10, 31),
        }
    }

    #[test]
    fn semicolons_crlf_a_bom_and_kronor_with_a_decimal_comma() {
        let mut credit = invoice("2026-000018", day(10, 5), -125_000);
        credit.kind = DocumentKind::CreditNote;
        credit.corrects = Some("2026-000017".into());
        credit.ocr_reference = None;
        credit.due_date = None;
        let csv = export(
            period(),
            &[credit, invoice("2026-000017", day(10, 2), 1_250_005)],
            &[PaymentRow {
                booked_on: day(10, 20),
                recorded_at: Utc.with_ymd_and_hms(2026, 10, 20, 8, 0, 0).unwrap(),
                invoice_number: Some("2026-000017".into()),
                bank_reference: "B-1".into(),
                ocr_reference: Some("20260001712".into()),
                payer: Some("Exempel; Läkemedel \"AB\"".into()),
                amount: Amount::sek(5),
            }],
            &[AllocationRow {
                placed_on: day(10, 22),
                placed_at: Utc.with_ymd_and_hms(2026, 10, 21, 22, 15, 0).unwrap(),
                invoice_number: Some("2026-000017".into()),
                bank_reference: "U-1".into(),
                amount: Amount::sek(200_000),
            }],
            Lang::Sv,
        );
        assert!(csv.starts_with("\u{feff}Typ;Nummer;Datum;"));
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").collect();
        assert_eq!(lines.len(), 6, "{csv}");
        assert_eq!(lines[5], "");
        // A placement of an unmatched payment: the invoice it went to, the day and time it was
        // placed (Stockholm), the payment's bank reference and the amount placed.
        assert_eq!(
            lines[4],
            "Placering av inbetalning;2026-000017;2026-10-22;2026-10-22 00:15;;;;;;;U-1;;;2000,00;SEK;"
        );
        assert_eq!(
            lines[1],
            "Faktura;2026-000017;2026-10-02;2026-10-02 00:30;2026-10-31;Exempel Läkemedel AB;556677-8899;SE556677889901;20260001712;;;10000,04;2500,01;12500,05;SEK;"
        );
        assert_eq!(
            lines[2],
            "Kreditfaktura;2026-000018;2026-10-05;2026-10-02 00:30;;Exempel Läkemedel AB;556677-8899;SE556677889901;;2026-000017;;-1000,00;-250,00;-1250,00;SEK;"
        );
        assert_eq!(
            lines[3],
            "Inbetalning;2026-000017;2026-10-20;2026-10-20 10:00;;;;;20260001712;;B-1;;;0,05;SEK;\"Exempel; Läkemedel \"\"AB\"\"\""
        );
        for l in &lines[..5] {
            assert_eq!(
                l.matches(';').count() - l.matches("\"Exempel;").count(),
                15,
                "{l}"
            );
        }
        let en = export(period(), &[], &[], &[], Lang::En);
        assert_eq!(en, "\u{feff}Type;Number;Date;Recorded;Due date;Buyer;Organisation number;VAT number;OCR;Invoice corrected;Bank reference;Net;VAT;Amount;Currency;Payer\r\n");
    }

    #[test]
    fn formulas_are_defused_in_text_cells() {
        for bad in [
            "=HYPERLINK(\"x\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            let cell = text(bad);
            assert!(
                cell.starts_with('\'') || cell.starts_with("\"'"),
                "{bad:?} → {cell:?}"
            );
        }
        assert_eq!(text("=1+1"), "'=1+1");
        assert_eq!(text("Acme = bra"), "Acme = bra");
        let mut row = invoice("2026-000017", day(10, 2), 100);
        row.buyer_name = "=cmd|'/C calc'!A0".into();
        let csv = export(period(), &[row], &[], &[], Lang::Sv);
        assert!(csv.contains(";'=cmd|'/C calc'!A0;"), "{csv}");
        // Amounts are numbers, a negative one too.
        assert_eq!(kronor(Amount::sek(-1)), "-0,01");
    }

    #[test]
    fn only_the_period_is_exported_both_days_included() {
        let rows = [
            invoice("A", day(9, 30), 100),
            invoice("B", day(10, 1), 100),
            invoice("C", day(10, 31), 100),
            invoice("D", day(11, 1), 100),
        ];
        let csv = export(period(), &rows, &[], &[], Lang::Sv);
        assert!(!csv.contains("\r\nFaktura;A;"));
        assert!(csv.contains("\r\nFaktura;B;"));
        assert!(csv.contains("\r\nFaktura;C;"));
        assert!(!csv.contains("\r\nFaktura;D;"));
    }

    #[test]
    fn times_are_shown_in_stockholm_summer_and_winter() {
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
        let winter = Utc.with_ymd_and_hms(2026, 12, 31, 23, 30, 0).unwrap();
        assert_eq!(stockholm(summer), "2026-07-01 14:00");
        assert_eq!(stockholm(winter), "2027-01-01 00:30");
    }
}
