//! The invoice or credit note as PDF (faktura som PDF), in Swedish or English, set with the
//! agreement PDF's writer (`pdf::render_blocks`: embedded DejaVu subsets, deterministic bytes).
//!
//! It shows what mervärdesskattelagen (2023:200) ch. 17 § 24 requires of an invoice: the date of
//! issue, a unique number, the seller's VAT registration number, the names and addresses of seller
//! and buyer, the quantity and kind of the services, the taxable amount per rate, the rate and the
//! VAT amount, and for reverse charge the buyer's VAT number and the words "Omvänd
//! betalningsskyldighet" (issue 15, item 3); and what the buyer needs to pay: due date, bankgiro
//! and OCR reference. Every word comes from `config/pages/invoice.{sv,en}.toml`.
use std::collections::BTreeMap;
use std::sync::LazyLock;

use super::pdf::render_blocks;
use crate::domain::agreement::document::{Block, Labels};
use crate::domain::billing::amount::Amount;
use crate::domain::billing::document::{
    DocumentKind, DocumentParty, InvoiceDocument, VatTreatment,
};
use crate::domain::lang::Lang;

const SV: &str = include_str!("../../config/pages/invoice.sv.toml");
const EN: &str = include_str!("../../config/pages/invoice.en.toml");

fn parse(src: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let table: BTreeMap<String, String> = toml::from_str(src)?;
    Ok(table)
}

/// One language's texts, keyed as in the catalogue file.
type Catalogue = BTreeMap<String, String>;

/// Swedish and English, parsed once; a syntax error fails `render` (and the tests below).
static TEXTS: LazyLock<Result<(Catalogue, Catalogue), String>> =
    LazyLock::new(|| match (parse(SV), parse(EN)) {
        (Ok(sv), Ok(en)) => Ok((sv, en)),
        (Err(e), _) => Err(format!("invoice.sv.toml: {e}")),
        (_, Err(e)) => Err(format!("invoice.en.toml: {e}")),
    });

struct Texts<'a>(&'a BTreeMap<String, String>);

impl Texts<'_> {
    fn t(&self, key: &str) -> String {
        self.0.get(key).cloned().unwrap_or_else(|| key.to_string())
    }

    fn with(&self, key: &str, params: &[(&str, &str)]) -> String {
        let mut s = self.t(key);
        for (k, v) in params {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    }
}

/// An amount for people: `12 500,00 kr` / `SEK 12,500.00`, with a minus sign when negative.
pub fn format_amount(a: Amount, lang: Lang) -> String {
    let abs = a.minor().unsigned_abs();
    let digits = (abs / 100).to_string();
    let (sep, dec) = match lang {
        Lang::Sv => ('\u{a0}', ','),
        Lang::En => (',', '.'),
    };
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(sep);
        }
        grouped.push(ch);
    }
    let sign = if a.is_negative() { "-" } else { "" };
    let cur = a.currency();
    match (lang, cur.as_str()) {
        (Lang::Sv, "SEK") => format!("{sign}{grouped}{dec}{:02}\u{a0}kr", abs % 100),
        (Lang::Sv, c) => format!("{sign}{grouped}{dec}{:02}\u{a0}{c}", abs % 100),
        (Lang::En, c) => format!("{sign}{c}\u{a0}{grouped}{dec}{:02}", abs % 100),
    }
}

fn quantity(q: i64, lang: Lang) -> String {
    let a = q.unsigned_abs();
    let sign = if q < 0 { "-" } else { "" };
    let dec = if lang == Lang::Sv { ',' } else { '.' };
    if a % 100 == 0 {
        format!("{sign}{}", a / 100)
    } else {
        format!("{sign}{}{dec}{:02}", a / 100, a % 100)
    }
}

fn party_text(p: &DocumentParty, t: &Texts) -> String {
    let mut lines = vec![
        p.name.clone(),
        p.street.clone(),
        format!("{} {}", p.postal_code, p.city),
        p.country.clone(),
        format!("{}: {}", t.t("org_number"), p.org_number),
    ];
    if let Some(v) = &p.vat_number {
        lines.push(format!("{}: {v}", t.t("vat_number")));
    }
    let contact: Vec<&str> = [p.contact_name.as_deref(), p.contact_email.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !contact.is_empty() {
        lines.push(format!("{}: {}", t.t("contact"), contact.join(", ")));
    }
    lines.join("\n")
}

/// The PDF of `doc` in `lang`. The same document and language give the same bytes.
pub fn render(doc: &InvoiceDocument, lang: Lang) -> anyhow::Result<Vec<u8>> {
    let texts = TEXTS.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
    let t = Texts(match lang {
        Lang::Sv => &texts.0,
        Lang::En => &texts.1,
    });
    let credit = doc.kind == DocumentKind::CreditNote;
    let title = format!(
        "{} {}",
        t.t(if credit {
            "title_credit_note"
        } else {
            "title_invoice"
        }),
        doc.number
    );
    let mut blocks = Vec::new();

    // The facts the buyer pays by and files under.
    let mut facts: Vec<Vec<String>> = vec![
        vec![
            t.t(if credit { "credit_number" } else { "number" }),
            doc.number.clone(),
        ],
        vec![t.t("issue_date"), doc.issue_date.to_string()],
    ];
    if let Some(d) = doc.due_date {
        facts.push(vec![t.t("due_date"), d.to_string()]);
    }
    if let Some(o) = &doc.ocr_reference {
        facts.push(vec![t.t("ocr"), o.clone()]);
    }
    if let Some(b) = &doc.bankgiro {
        facts.push(vec![t.t("bankgiro"), b.clone()]);
    }
    if let Some(r) = &doc.buyer_reference {
        facts.push(vec![t.t("buyer_reference"), r.clone()]);
    }
    if let Some(o) = &doc.order_number {
        facts.push(vec![t.t("order_number"), o.clone()]);
    }
    facts.push(vec![t.t("contract"), doc.contract_reference.clone()]);
    facts.push(vec![t.t("case"), doc.case_reference.clone()]);
    if !credit {
        facts.push(vec![
            t.t("terms"),
            t.with(
                "terms_days",
                &[("days", &doc.payment_terms_days.to_string())],
            ),
        ]);
    }
    blocks.push(Block::Table {
        header: false,
        rows: facts,
    });
    if let Some((number, date)) = &doc.corrects {
        blocks.push(Block::Paragraph {
            text: t.with(
                "corrects",
                &[("number", number), ("date", &date.to_string())],
            ),
        });
    }

    blocks.push(Block::Heading {
        level: 2,
        text: t.t("seller"),
    });
    blocks.push(Block::Paragraph {
        text: party_text(&doc.seller, &t),
    });
    blocks.push(Block::Heading {
        level: 2,
        text: t.t("buyer"),
    });
    blocks.push(Block::Paragraph {
        text: party_text(&doc.buyer, &t),
    });

    let mut rows = vec![vec![
        t.t("col_description"),
        t.t("col_quantity"),
        t.t("col_unit"),
        t.t("col_unit_price"),
        t.t("col_net"),
    ]];
    for l in &doc.lines {
        let unit = match l.unit_code.as_str() {
            "HUR" => t.t("unit_hour"),
            "C62" | "H87" => t.t("unit_piece"),
            other => other.to_string(),
        };
        rows.push(vec![
            l.description.clone(),
            quantity(l.quantity_hundredths, lang),
            unit,
            format_amount(l.unit_price, lang),
            format_amount(l.net, lang),
        ]);
    }
    blocks.push(Block::Table { header: true, rows });

    let vat_label = match doc.treatment {
        VatTreatment::Domestic | VatTreatment::ReverseCharge => t.with(
            "vat_line",
            &[
                ("rate", &doc.vat_rate_percent.to_string()),
                ("base", &format_amount(doc.net_total, lang)),
            ],
        ),
        VatTreatment::OutsideScope => t.t("vat_none"),
    };
    blocks.push(Block::Table {
        header: false,
        rows: vec![
            vec![t.t("net_total"), format_amount(doc.net_total, lang)],
            vec![vat_label, format_amount(doc.vat_total, lang)],
            vec![
                t.t(if credit {
                    "credit_total"
                } else {
                    "gross_total"
                }),
                format_amount(doc.gross_total, lang),
            ],
        ],
    });

    match doc.treatment {
        VatTreatment::ReverseCharge => {
            let mut text = t.t("reverse_charge");
            if let Some(v) = &doc.buyer.vat_number {
                text.push('\n');
                text.push_str(&t.with("reverse_charge_buyer", &[("vat", v)]));
            }
            blocks.push(Block::Paragraph { text });
        }
        VatTreatment::OutsideScope => blocks.push(Block::Paragraph {
            text: t.t("outside_scope"),
        }),
        VatTreatment::Domestic => {}
    }
    if let (false, Some(bg), Some(ocr)) = (credit, &doc.bankgiro, &doc.ocr_reference) {
        blocks.push(Block::Paragraph {
            text: t.with("pay_with", &[("bankgiro", bg), ("ocr", ocr)]),
        });
    }
    if let Some(n) = doc.note.as_deref().filter(|n| !n.trim().is_empty()) {
        blocks.push(Block::Paragraph {
            text: format!("{}: {n}", t.t("note")),
        });
    }
    let header = format!("{} · {}", doc.seller.name, title);
    Ok(render_blocks(
        &title,
        &blocks,
        &header,
        Labels::for_lang(lang),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::ubl::tests::sample;

    fn pdftotext(pdf: &[u8]) -> String {
        let dir =
            std::env::temp_dir().join(format!("invoice-pdf-{}-{}", std::process::id(), pdf.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("in.pdf");
        std::fs::write(&path, pdf).unwrap();
        let out = std::process::Command::new("pdftotext")
            .args(["-layout", "-enc", "UTF-8"])
            .arg(&path)
            .arg("-")
            .output()
            .expect("pdftotext (poppler-utils) is installed");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn both_catalogues_hold_the_same_keys_and_every_key_is_used() {
        let sv = parse(SV).unwrap();
        let en = parse(EN).unwrap();
        assert_eq!(sv.keys().collect::<Vec<_>>(), en.keys().collect::<Vec<_>>());
        let src = include_str!("invoice_pdf.rs");
        for k in sv.keys() {
            assert!(src.contains(&format!("\"{k}\"")), "unused key {k}");
        }
        assert!(sv.values().chain(en.values()).all(|v| !v.trim().is_empty()));
    }

    #[test]
    fn a_reverse_charge_invoice_shows_the_words_and_the_buyers_vat_number() {
        let doc = sample(DocumentKind::Invoice, "DE");
        let pdf = render(&doc, Lang::Sv).unwrap();
        if let Ok(dir) = std::env::var("INVOICE_PDF_OUT") {
            let _ = std::fs::write(std::path::Path::new(&dir).join("invoice-de.sv.pdf"), &pdf);
        }
        let text = pdftotext(&pdf);
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("Omvänd betalningsskyldighet"), "{flat}");
        assert!(
            flat.contains("Köparens momsregistreringsnummer: DE123456789"),
            "{flat}"
        );
        assert!(flat.contains("Faktura 2026-000017"));
        // The seller's VAT number, both names, the OCR reference and the bankgiro.
        for s in [
            "SE232100001601",
            "Region Stockholm",
            "Pharma <Forschung> GmbH",
            "20260001712",
            "5050-1055",
            "2026-12-31",
            "Moms 0 %",
        ] {
            assert!(flat.contains(s), "{s} missing in {flat}");
        }
        let en = pdftotext(&render(&doc, Lang::En).unwrap());
        let en = en.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(en.contains("Omvänd betalningsskyldighet"), "{en}");
        assert!(en.contains("Buyer's VAT registration number: DE123456789"));
        assert!(en.contains("Invoice 2026-000017"));
    }

    #[test]
    fn a_domestic_invoice_shows_the_vat_per_rate_and_the_totals() {
        let doc = sample(DocumentKind::Invoice, "SE");
        let flat = pdftotext(&render(&doc, Lang::Sv).unwrap())
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let base = format_amount(doc.net_total, Lang::Sv).replace('\u{a0}', " ");
        assert!(flat.contains(&format!("Moms 25 % på {base}")), "{flat}");
        assert!(flat.contains(&format_amount(doc.vat_total, Lang::Sv).replace('\u{a0}', " ")));
        assert!(flat.contains("Att betala"));
        assert!(!flat.contains("Omvänd"));
    }

    #[test]
    fn a_credit_note_names_the_invoice_it_credits() {
        let doc = sample(DocumentKind::CreditNote, "SE");
        let flat = pdftotext(&render(&doc, Lang::Sv).unwrap())
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(flat.contains("Kreditfaktura 2026-000018"));
        assert!(flat.contains("Krediterar faktura 2026-000017 av den 2026-11-02."));
        assert!(flat.contains("Att kreditera"));
    }

    #[test]
    fn the_same_document_gives_the_same_bytes() {
        let doc = sample(DocumentKind::Invoice, "US");
        assert_eq!(
            render(&doc, Lang::En).unwrap(),
            render(&doc, Lang::En).unwrap()
        );
        assert_ne!(
            render(&doc, Lang::En).unwrap(),
            render(&doc, Lang::Sv).unwrap()
        );
    }

    #[test]
    fn amounts_are_formatted_for_people() {
        assert_eq!(
            format_amount(Amount::sek(1_250_000), Lang::Sv),
            "12\u{a0}500,00\u{a0}kr"
        );
        assert_eq!(format_amount(Amount::sek(-5), Lang::En), "-SEK\u{a0}0.05");
        assert_eq!(quantity(750, Lang::Sv), "7,50");
        assert_eq!(quantity(100, Lang::En), "1");
    }
}
