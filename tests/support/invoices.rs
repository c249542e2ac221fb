//! Realistic invoice documents for tests (issue 15): a Swedish region's CPUA invoicing a company
//! for extraction work, in the four cases the Peppol tests cover. The totals are computed with the
//! crate's own rules (`vat::vat_of` on the net total, lines rounded by `Amount::times_hundredths`).
#![allow(dead_code)]
use chrono::NaiveDate;
use samverkan::domain::billing::amount::{Amount, Currency};
use samverkan::domain::billing::document::{
    DocumentKind, DocumentLine, DocumentParty, Endpoint, InvoiceDocument,
};
use samverkan::domain::billing::{ocr, vat};

pub fn seller() -> DocumentParty {
    DocumentParty {
        name: "Region Uppsala, Centrum för personuppgiftsansvar (CPUA)".into(),
        org_number: "232100-0024".into(),
        vat_number: Some("SE232100002401".into()),
        street: "Dag Hammarskjölds väg 38".into(),
        postal_code: "751 85".into(),
        city: "Uppsala".into(),
        country: "SE".into(),
        contact_name: Some("Regionens ekonomiservice".into()),
        contact_email: Some("ekonomi@example.se".into()),
        endpoint: None,
    }
}

/// The buyer: a company in `country` (`SE`, `DE`, `NO` or `US`).
pub fn buyer(country: &str) -> DocumentParty {
    let (name, org, vat, street, zip, city, endpoint) = match country {
        "SE" => (
            "Läkemedelsbolaget Nord AB",
            "556036-0793",
            Some("SE556036079301"),
            "Industrigatan 4",
            "112 46",
            "Stockholm",
            None,
        ),
        "DE" => (
            "Pharma Forschung & Entwicklung GmbH",
            "HRB 123456",
            Some("DE123456789"),
            "Hauptstraße 5",
            "10115",
            "Berlin",
            Some(Endpoint {
                scheme: "9930".into(),
                id: "DE123456789".into(),
            }),
        ),
        "NO" => (
            "Nordisk Helsedata AS",
            "923609016",
            None,
            "Karl Johans gate 1",
            "0154",
            "Oslo",
            None,
        ),
        _ => (
            "Acme Therapeutics Inc.",
            "EIN 12-3456789",
            None,
            "1 Main Street",
            "02139",
            "Cambridge MA",
            Some(Endpoint {
                scheme: "0060".into(),
                id: "123456789".into(),
            }),
        ),
    };
    DocumentParty {
        name: name.into(),
        org_number: org.into(),
        vat_number: vat.map(str::to_string),
        street: street.into(),
        postal_code: zip.into(),
        city: city.into(),
        country: country.into(),
        contact_name: Some("Åsa Öberg".into()),
        contact_email: Some("asa.oberg@example.com".into()),
        endpoint,
    }
}

fn line(
    number: u32,
    description: &str,
    hundredths: i64,
    unit: &str,
    price_ore: i64,
) -> DocumentLine {
    let unit_price = Amount::sek(price_ore);
    DocumentLine {
        number,
        description: description.into(),
        quantity_hundredths: hundredths,
        unit_code: unit.into(),
        unit_price,
        net: unit_price
            .times_hundredths(hundredths)
            .expect("a line amount"),
        work_log_line: Some(format!("wl-{number}")),
    }
}

/// Fills in the totals and the VAT treatment from the lines and the buyer.
fn finish(mut doc: InvoiceDocument) -> InvoiceDocument {
    let t = vat::treatment(&doc.buyer.country, doc.buyer.vat_number.as_deref()).expect("treatment");
    let mut net = Amount::zero(Currency::SEK);
    for l in &doc.lines {
        net = net.checked_add(l.net).expect("a sum");
    }
    let v = vat::vat_of(net, t);
    doc.treatment = t;
    doc.vat_rate_percent = vat::rate_percent(t);
    doc.net_total = net;
    doc.vat_total = v;
    doc.gross_total = net.checked_add(v).expect("a sum");
    doc
}

/// An issued invoice to a buyer in `country`.
pub fn invoice(country: &str) -> InvoiceDocument {
    finish(InvoiceDocument {
        kind: DocumentKind::Invoice,
        number: "2026-000017".into(),
        issue_date: NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date"),
        due_date: NaiveDate::from_ymd_opt(2026, 12, 31),
        currency: Currency::SEK,
        ocr_reference: Some(ocr::ocr_reference("202600017", true).expect("an OCR reference")),
        bankgiro: Some("5050-1055".into()),
        buyer_reference: Some("Åsa Öberg".into()),
        order_number: Some("PO-2026-4711".into()),
        contract_reference: "SAM-2026-0042 version 3".into(),
        case_reference: "SAM-2026-0042".into(),
        corrects: None,
        seller: seller(),
        buyer: buyer(country),
        treatment: samverkan::domain::billing::document::VatTreatment::Domestic,
        vat_rate_percent: 0,
        lines: vec![
            line(
                1,
                "Datauttag: statistiker, Eva Lind, 2026-11-03 – 2026-11-14",
                1_250,
                "HUR",
                95_000,
            ),
            line(
                2,
                "Datauttag: registerhållare, granskning av variabellista",
                175,
                "HUR",
                120_050,
            ),
            line(
                3,
                "Direkt kostnad: körning hos SCB (kvitto 2026-11-20)",
                100,
                "C62",
                1_845_000,
            ),
        ],
        net_total: Amount::sek(0),
        vat_total: Amount::sek(0),
        gross_total: Amount::sek(0),
        payment_terms_days: 30,
        note: None,
    })
}

/// A partial credit note for the invoice to a buyer in `country`: one line of hours credited.
pub fn credit_note(country: &str) -> InvoiceDocument {
    let inv = invoice(country);
    finish(InvoiceDocument {
        kind: DocumentKind::CreditNote,
        number: "2026-000018".into(),
        issue_date: NaiveDate::from_ymd_opt(2026, 12, 10).expect("a date"),
        due_date: None,
        ocr_reference: None,
        corrects: Some((inv.number.clone(), inv.issue_date)),
        lines: vec![line(
            1,
            "Kreditering: 2,5 timmar statistiker som debiterades två gånger",
            250,
            "HUR",
            95_000,
        )],
        note: Some("Delkreditering av faktura 2026-000017".into()),
        ..inv
    })
}
