//! The Peppol BIS Billing 3.0 export (e-faktura): an [`InvoiceDocument`] as a UBL 2.1 `Invoice`
//! (type code 380) or `CreditNote` (381) that passes the EN 16931 and Peppol BIS 3 schematron
//! rules with no fatal error (issue 15, item 7; rules in `shared/peppol-rules/`, checked by
//! `tests/peppol.rs` with `scripts/peppol-validate.py`).
//!
//! The VAT categories: S 25 % (a Swedish buyer), AE 0 % with exemption reason VATEX-EU-AE and the
//! text "Omvänd betalningsskyldighet" (a company elsewhere in the EU; the buyer's VAT number is
//! given, BR-AE-02), O with VATEX-EU-O and no rate (outside the EU; BR-O-02 forbids the seller's
//! and the buyer's VAT numbers in such a document, so they are left out of the UBL — the PDF still
//! shows the seller's). Swedish seller rules (SE-R-*): the organisation number as 10 digits
//! (SE-R-003/004/013), the VAT number `SE` + 12 digits (SE-R-001/002), payment by bankgiro with
//! payment means code 30, the account's 7–8 digits and branch `SE:BANKGIRO` (SE-R-008/009/011).
//!
//! Nothing is looked up: the bytes follow from the document alone. All text is XML-escaped.
use std::fmt::Write;

use crate::domain::billing::amount::Amount;
use crate::domain::billing::document::{
    DocumentKind, DocumentParty, InvoiceDocument, VatTreatment,
};

pub const CUSTOMIZATION_ID: &str =
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0";
pub const PROFILE_ID: &str = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0";
/// The words Swedish law wants on a reverse-charge invoice (mervärdesskattelagen 2023:200 ch. 17
/// § 24, "omvänd betalningsskyldighet").
pub const REVERSE_CHARGE_TEXT: &str = "Omvänd betalningsskyldighet";
/// The reason a document outside the scope of VAT gives.
pub const OUTSIDE_SCOPE_TEXT: &str = "Utanför EU: ej föremål för svensk mervärdesskatt";

/// Escapes `&`, `<`, `>`, `"` and `'`, and drops the control characters XML 1.0 cannot carry.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The VAT category code (UNCL 5305) of a treatment.
pub fn category(t: VatTreatment) -> &'static str {
    match t {
        VatTreatment::Domestic => "S",
        VatTreatment::ReverseCharge => "AE",
        VatTreatment::OutsideScope => "O",
    }
}

/// A quantity in hundredths as a decimal (`150` → `1.50`).
fn hundredths(q: i64) -> String {
    let sign = if q < 0 { "-" } else { "" };
    let a = q.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn open(&mut self, tag: &str) {
        let _ = writeln!(self.out, "{:w$}<{tag}>", "", w = self.depth * 2);
        self.depth += 1;
    }

    fn close(&mut self, tag: &str) {
        self.depth -= 1;
        let _ = writeln!(self.out, "{:w$}</{tag}>", "", w = self.depth * 2);
    }

    /// An element with text content; `attrs` are written escaped.
    fn el(&mut self, tag: &str, attrs: &[(&str, &str)], text: &str) {
        let _ = write!(self.out, "{:w$}<{tag}", "", w = self.depth * 2);
        for (k, v) in attrs {
            let _ = write!(self.out, " {k}=\"{}\"", escape(v));
        }
        let _ = writeln!(self.out, ">{}</{tag}>", escape(text));
    }

    fn amount(&mut self, tag: &str, a: Amount) {
        self.el(tag, &[("currencyID", a.currency().as_str())], &a.decimal());
    }
}

/// The VAT identifiers may stand in the document (BR-O-02: not with category O).
fn shows_vat_numbers(doc: &InvoiceDocument) -> bool {
    doc.treatment != VatTreatment::OutsideScope
}

fn party(x: &mut Xml, p: &DocumentParty, doc: &InvoiceDocument) {
    x.open("cac:Party");
    if let Some(e) = p.electronic_address() {
        x.el("cbc:EndpointID", &[("schemeID", &e.scheme)], &e.id);
    }
    x.open("cac:PartyName");
    x.el("cbc:Name", &[], &p.name);
    x.close("cac:PartyName");
    x.open("cac:PostalAddress");
    x.el("cbc:StreetName", &[], &p.street);
    x.el("cbc:CityName", &[], &p.city);
    x.el("cbc:PostalZone", &[], &p.postal_code);
    x.open("cac:Country");
    x.el("cbc:IdentificationCode", &[], &p.country);
    x.close("cac:Country");
    x.close("cac:PostalAddress");
    if let (Some(vat), true) = (&p.vat_number, shows_vat_numbers(doc)) {
        let vat: String = vat.chars().filter(|c| !c.is_whitespace()).collect();
        x.open("cac:PartyTaxScheme");
        x.el("cbc:CompanyID", &[], &vat);
        x.open("cac:TaxScheme");
        x.el("cbc:ID", &[], "VAT");
        x.close("cac:TaxScheme");
        x.close("cac:PartyTaxScheme");
    }
    x.open("cac:PartyLegalEntity");
    x.el("cbc:RegistrationName", &[], &p.name);
    // A Swedish organisation number goes as its ten digits (SE-R-003, SE-R-004); a foreign
    // registration number as given.
    let company = if p.country == "SE" {
        p.org_digits()
    } else {
        p.org_number.clone()
    };
    if !company.is_empty() {
        x.el("cbc:CompanyID", &[], &company);
    }
    x.close("cac:PartyLegalEntity");
    if p.contact_name.is_some() || p.contact_email.is_some() {
        x.open("cac:Contact");
        if let Some(n) = &p.contact_name {
            x.el("cbc:Name", &[], n);
        }
        if let Some(m) = &p.contact_email {
            x.el("cbc:ElectronicMail", &[], m);
        }
        x.close("cac:Contact");
    }
    x.close("cac:Party");
}

fn tax_category(x: &mut Xml, tag: &str, doc: &InvoiceDocument, with_reason: bool) {
    x.open(tag);
    x.el("cbc:ID", &[], category(doc.treatment));
    match doc.treatment {
        VatTreatment::Domestic => x.el("cbc:Percent", &[], &doc.vat_rate_percent.to_string()),
        VatTreatment::ReverseCharge => {
            x.el("cbc:Percent", &[], "0");
            if with_reason {
                x.el("cbc:TaxExemptionReasonCode", &[], "VATEX-EU-AE");
                x.el("cbc:TaxExemptionReason", &[], REVERSE_CHARGE_TEXT);
            }
        }
        VatTreatment::OutsideScope => {
            if with_reason {
                x.el("cbc:TaxExemptionReasonCode", &[], "VATEX-EU-O");
                x.el("cbc:TaxExemptionReason", &[], OUTSIDE_SCOPE_TEXT);
            }
        }
    }
    x.open("cac:TaxScheme");
    x.el("cbc:ID", &[], "VAT");
    x.close("cac:TaxScheme");
    x.close(tag);
}

/// The document as UBL 2.1 XML (UTF-8).
pub fn invoice_xml(doc: &InvoiceDocument) -> String {
    let (root, ns, type_tag, type_code, line_tag, qty_tag) = match doc.kind {
        DocumentKind::Invoice => (
            "Invoice",
            "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
            "cbc:InvoiceTypeCode",
            "380",
            "cac:InvoiceLine",
            "cbc:InvoicedQuantity",
        ),
        DocumentKind::CreditNote => (
            "CreditNote",
            "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
            "cbc:CreditNoteTypeCode",
            "381",
            "cac:CreditNoteLine",
            "cbc:CreditedQuantity",
        ),
    };
    let mut x = Xml {
        out: String::with_capacity(8192),
        depth: 1,
    };
    x.out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x.out,
        "<{root} xmlns=\"{ns}\" xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\" xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\">"
    );
    x.el("cbc:CustomizationID", &[], CUSTOMIZATION_ID);
    x.el("cbc:ProfileID", &[], PROFILE_ID);
    x.el("cbc:ID", &[], &doc.number);
    x.el("cbc:IssueDate", &[], &doc.issue_date.to_string());
    if doc.kind == DocumentKind::Invoice {
        if let Some(d) = doc.due_date {
            x.el("cbc:DueDate", &[], &d.to_string());
        }
    }
    x.el(type_tag, &[], type_code);
    // One note only (PEPPOL-EN16931-R002): the case reference and the document's own text.
    let mut note = format!("Ärende {}", doc.case_reference);
    if let Some(n) = doc.note.as_deref().filter(|n| !n.trim().is_empty()) {
        note.push_str(". ");
        note.push_str(n);
    }
    x.el("cbc:Note", &[], &note);
    x.el("cbc:DocumentCurrencyCode", &[], doc.currency.as_str());
    if let Some(r) = doc.buyer_reference.as_deref().filter(|r| !r.is_empty()) {
        x.el("cbc:BuyerReference", &[], r);
    }
    if let Some(o) = doc.order_number.as_deref().filter(|o| !o.is_empty()) {
        x.open("cac:OrderReference");
        x.el("cbc:ID", &[], o);
        x.close("cac:OrderReference");
    }
    if let Some((number, date)) = &doc.corrects {
        x.open("cac:BillingReference");
        x.open("cac:InvoiceDocumentReference");
        x.el("cbc:ID", &[], number);
        x.el("cbc:IssueDate", &[], &date.to_string());
        x.close("cac:InvoiceDocumentReference");
        x.close("cac:BillingReference");
    }
    if !doc.contract_reference.is_empty() {
        x.open("cac:ContractDocumentReference");
        x.el("cbc:ID", &[], &doc.contract_reference);
        x.close("cac:ContractDocumentReference");
    }
    x.open("cac:AccountingSupplierParty");
    party(&mut x, &doc.seller, doc);
    x.close("cac:AccountingSupplierParty");
    x.open("cac:AccountingCustomerParty");
    party(&mut x, &doc.buyer, doc);
    x.close("cac:AccountingCustomerParty");
    if let Some(bg) = &doc.bankgiro {
        let digits: String = bg.chars().filter(char::is_ascii_digit).collect();
        x.open("cac:PaymentMeans");
        x.el("cbc:PaymentMeansCode", &[("name", "Bankgiro")], "30");
        if let Some(ocr) = &doc.ocr_reference {
            x.el("cbc:PaymentID", &[], ocr);
        }
        x.open("cac:PayeeFinancialAccount");
        x.el("cbc:ID", &[], &digits);
        x.open("cac:FinancialInstitutionBranch");
        x.el("cbc:ID", &[], "SE:BANKGIRO");
        x.close("cac:FinancialInstitutionBranch");
        x.close("cac:PayeeFinancialAccount");
        x.close("cac:PaymentMeans");
    }
    if doc.kind == DocumentKind::Invoice {
        x.open("cac:PaymentTerms");
        x.el(
            "cbc:Note",
            &[],
            &format!("{} dagar netto", doc.payment_terms_days),
        );
        x.close("cac:PaymentTerms");
    }
    x.open("cac:TaxTotal");
    x.amount("cbc:TaxAmount", doc.vat_total);
    x.open("cac:TaxSubtotal");
    x.amount("cbc:TaxableAmount", doc.net_total);
    x.amount("cbc:TaxAmount", doc.vat_total);
    tax_category(&mut x, "cac:TaxCategory", doc, true);
    x.close("cac:TaxSubtotal");
    x.close("cac:TaxTotal");
    x.open("cac:LegalMonetaryTotal");
    x.amount("cbc:LineExtensionAmount", doc.net_total);
    x.amount("cbc:TaxExclusiveAmount", doc.net_total);
    x.amount("cbc:TaxInclusiveAmount", doc.gross_total);
    x.amount("cbc:PayableAmount", doc.gross_total);
    x.close("cac:LegalMonetaryTotal");
    for l in &doc.lines {
        x.open(line_tag);
        x.el("cbc:ID", &[], &l.number.to_string());
        x.el(
            qty_tag,
            &[("unitCode", &l.unit_code)],
            &hundredths(l.quantity_hundredths),
        );
        x.amount("cbc:LineExtensionAmount", l.net);
        x.open("cac:Item");
        x.el("cbc:Name", &[], &l.description);
        tax_category(&mut x, "cac:ClassifiedTaxCategory", doc, false);
        x.close("cac:Item");
        x.open("cac:Price");
        x.amount("cbc:PriceAmount", l.unit_price);
        x.close("cac:Price");
        x.close(line_tag);
    }
    let _ = writeln!(x.out, "</{root}>");
    x.out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::billing::amount::Currency;
    use crate::domain::billing::document::{DocumentLine, Endpoint};
    use crate::domain::billing::vat;
    use chrono::NaiveDate;

    fn seller() -> DocumentParty {
        DocumentParty {
            name: "Region Stockholm, Centrum för personuppgiftsansvar".into(),
            org_number: "232100-0016".into(),
            vat_number: Some("SE232100001601".into()),
            street: "Box 22550".into(),
            postal_code: "104 22".into(),
            city: "Stockholm".into(),
            country: "SE".into(),
            contact_name: Some("Ekonomiavdelningen".into()),
            contact_email: Some("faktura@example.se".into()),
            endpoint: None,
        }
    }

    /// A realistic document: two lines of work and one expense, totals computed as the ledger
    /// does (lines rounded, VAT once on the net total).
    pub(crate) fn sample(kind: DocumentKind, buyer_country: &str) -> InvoiceDocument {
        let (buyer_name, org, vat_no, endpoint) = match buyer_country {
            "SE" => (
                "Läkemedel & Co AB",
                "556677-8899",
                Some("SE556677889901"),
                None,
            ),
            "DE" => (
                "Pharma <Forschung> GmbH",
                "HRB 12345",
                Some("DE123456789"),
                Some(Endpoint {
                    scheme: "9930".into(),
                    id: "DE123456789".into(),
                }),
            ),
            "NO" => ("Nordisk Helse AS", "923609016", None, None),
            _ => (
                "Acme Therapeutics Inc.",
                "EIN 12-3456789",
                None,
                Some(Endpoint {
                    scheme: "0060".into(),
                    id: "123456789".into(),
                }),
            ),
        };
        let buyer = DocumentParty {
            name: buyer_name.into(),
            org_number: org.into(),
            vat_number: vat_no.map(str::to_string),
            street: "Storgatan 1".into(),
            postal_code: "12345".into(),
            city: "Ort".into(),
            country: buyer_country.into(),
            contact_name: Some("Åsa Öberg".into()),
            contact_email: None,
            endpoint,
        };
        let treatment = vat::treatment(buyer_country, vat_no).expect("a sample treatment");
        let rate = Amount::sek(95_000);
        let lines = vec![
            DocumentLine {
                number: 1,
                description: "Datauttag: statistiker, 7,5 timmar".into(),
                quantity_hundredths: 750,
                unit_code: "HUR".into(),
                unit_price: rate,
                net: rate.times_hundredths(750).unwrap(),
                work_log_line: Some("wl-1".into()),
            },
            DocumentLine {
                number: 2,
                description: "Datauttag: registerhållare, 1,25 timmar".into(),
                quantity_hundredths: 125,
                unit_code: "HUR".into(),
                unit_price: Amount::sek(120_001),
                net: Amount::sek(120_001).times_hundredths(125).unwrap(),
                work_log_line: Some("wl-2".into()),
            },
            DocumentLine {
                number: 3,
                description: "Utlägg: avgift för körning".into(),
                quantity_hundredths: 100,
                unit_code: "C62".into(),
                unit_price: Amount::sek(45_050),
                net: Amount::sek(45_050),
                work_log_line: None,
            },
        ];
        let mut net = Amount::zero(Currency::SEK);
        for l in &lines {
            net = net.checked_add(l.net).unwrap();
        }
        let vat_total = vat::vat_of(net, treatment);
        let credit = kind == DocumentKind::CreditNote;
        InvoiceDocument {
            kind,
            number: if credit { "2026-000018" } else { "2026-000017" }.into(),
            issue_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            due_date: (!credit).then(|| NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
            currency: Currency::SEK,
            ocr_reference: (!credit).then(|| "20260001712".to_string()),
            bankgiro: Some("5050-1055".into()),
            buyer_reference: Some("Åsa Öberg".into()),
            order_number: Some("PO-4711".into()),
            contract_reference: "SAM-2026-0042 v3".into(),
            case_reference: "SAM-2026-0042".into(),
            corrects: credit.then(|| {
                (
                    "2026-000017".to_string(),
                    NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
                )
            }),
            seller: seller(),
            buyer,
            treatment,
            vat_rate_percent: vat::rate_percent(treatment),
            lines,
            net_total: net,
            vat_total,
            gross_total: net.checked_add(vat_total).unwrap(),
            payment_terms_days: 30,
            note: credit.then(|| "Kreditering av faktura 2026-000017: fel timantal".to_string()),
        }
    }

    fn between<'a>(xml: &'a str, open: &str, close: &str) -> Vec<&'a str> {
        let mut out = Vec::new();
        let mut rest = xml;
        while let Some(i) = rest.find(open) {
            let after = &rest[i + open.len()..];
            let start = after.find('>').map(|j| j + 1).unwrap_or(0);
            let Some(end) = after.find(close) else { break };
            out.push(&after[start..end]);
            rest = &after[end..];
        }
        out
    }

    fn cents(s: &str) -> i64 {
        let neg = s.starts_with('-');
        let v: i64 = s.trim_start_matches('-').replace('.', "").parse().unwrap();
        if neg {
            -v
        } else {
            v
        }
    }

    #[test]
    fn the_totals_are_consistent_as_en_16931_wants() {
        for kind in [DocumentKind::Invoice, DocumentKind::CreditNote] {
            for c in ["SE", "DE", "US"] {
                let doc = sample(kind, c);
                let xml = invoice_xml(&doc);
                // BR-CO-10: sum of line net amounts = LineExtensionAmount.
                let lines: i64 = between(
                    &xml,
                    "<cbc:LineExtensionAmount",
                    "</cbc:LineExtensionAmount>",
                )
                .iter()
                .map(|s| cents(s))
                .collect::<Vec<_>>()
                .split_first()
                .map(|(total, rest)| {
                    assert_eq!(*total, rest.iter().sum::<i64>(), "BR-CO-10 {c}");
                    *total
                })
                .unwrap();
                assert_eq!(lines, doc.net_total.minor());
                // BR-CO-15: TaxInclusiveAmount = TaxExclusiveAmount + TaxAmount.
                let excl = cents(between(&xml, "<cbc:TaxExclusiveAmount", "</")[0]);
                let incl = cents(between(&xml, "<cbc:TaxInclusiveAmount", "</")[0]);
                let tax = cents(between(&xml, "<cbc:TaxAmount", "</")[0]);
                assert_eq!(incl, excl + tax, "BR-CO-15 {c}");
                // BR-CO-17: the category's tax = taxable × rate, rounded.
                assert_eq!(tax, vat::vat_of(doc.net_total, doc.treatment).minor());
                // Every line's net = quantity × price (PEPPOL-EN16931-R120).
                for l in &doc.lines {
                    assert_eq!(
                        l.unit_price
                            .times_hundredths(l.quantity_hundredths)
                            .unwrap(),
                        l.net
                    );
                }
            }
        }
    }

    #[test]
    fn the_categories_and_reasons_follow_the_treatment() {
        let se = invoice_xml(&sample(DocumentKind::Invoice, "SE"));
        assert!(se.contains("<cbc:ID>S</cbc:ID>") && se.contains("<cbc:Percent>25</cbc:Percent>"));
        assert!(se.contains("<cbc:CompanyID>SE232100001601</cbc:CompanyID>"));
        assert!(se.contains("<cbc:EndpointID schemeID=\"0007\">2321000016</cbc:EndpointID>"));
        assert!(se.contains("<cbc:PaymentMeansCode name=\"Bankgiro\">30</cbc:PaymentMeansCode>"));
        assert!(se.contains("<cbc:ID>50501055</cbc:ID>") && se.contains("SE:BANKGIRO"));
        assert!(se.contains("<cbc:PaymentID>20260001712</cbc:PaymentID>"));
        let de = invoice_xml(&sample(DocumentKind::Invoice, "DE"));
        assert!(de.contains("<cbc:ID>AE</cbc:ID>"));
        assert!(de.contains("VATEX-EU-AE") && de.contains(REVERSE_CHARGE_TEXT));
        assert!(de.contains("<cbc:CompanyID>DE123456789</cbc:CompanyID>"));
        let us = invoice_xml(&sample(DocumentKind::Invoice, "US"));
        assert!(us.contains("<cbc:ID>O</cbc:ID>") && us.contains("VATEX-EU-O"));
        assert!(!us.contains("<cbc:Percent>"), "category O has no rate");
        assert!(!us.contains("SE232100001601"), "BR-O-02: no VAT numbers");
    }

    #[test]
    fn a_credit_note_refers_to_the_invoice_it_corrects() {
        let xml = invoice_xml(&sample(DocumentKind::CreditNote, "SE"));
        assert!(xml.contains(
            "<CreditNote xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2\""
        ));
        assert!(xml.contains("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"));
        let flat: String = xml.split_whitespace().collect();
        assert!(flat.contains("<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>2026-000017</cbc:ID><cbc:IssueDate>2026-11-02</cbc:IssueDate>"));
        assert!(xml.contains("<cbc:CreditedQuantity unitCode=\"HUR\">7.50</cbc:CreditedQuantity>"));
        assert!(!xml.contains("DueDate") && !xml.contains("InvoiceLine"));
    }

    #[test]
    fn all_text_is_escaped() {
        let mut doc = sample(DocumentKind::Invoice, "DE");
        doc.lines[0].description = "R&D <script>\"x\" 'y'\u{1}".into();
        let xml = invoice_xml(&doc);
        assert!(xml.contains("Pharma &lt;Forschung&gt; GmbH"));
        assert!(xml.contains("R&amp;D &lt;script&gt;&quot;x&quot; &apos;y&apos;</cbc:Name>"));
        assert!(!xml.contains('\u{1}'));
    }

    #[test]
    fn the_same_document_gives_the_same_bytes() {
        let d = sample(DocumentKind::Invoice, "SE");
        assert_eq!(invoice_xml(&d), invoice_xml(&d));
    }
}
