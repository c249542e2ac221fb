//! The invoice or credit note as a document (faktura, kreditfaktura): everything its renderings
//! (the PDF in Swedish and English, the Peppol BIS Billing 3.0 UBL) are made from, and nothing they
//! look up themselves. The ledger (`app::billing`) fills it when an invoice is issued; the renderings
//! (`render::invoice_pdf`, `render::ubl`) only read it, so the stored bytes follow from this value.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::amount::{Amount, Currency};

/// Invoice or credit note (UBL `Invoice` type code 380, `CreditNote` 381).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Invoice,
    CreditNote,
}

/// The VAT treatment of the whole document, from the buyer's country (momsbehandling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VatTreatment {
    /// A Swedish buyer: standard rate 25 % (category S).
    Domestic,
    /// A company in another EU country: reverse charge (category AE, 0 %), the buyer's VAT number
    /// and the words "Omvänd betalningsskyldighet" on the document.
    ReverseCharge,
    /// A buyer outside the EU: outside the scope of VAT (category O, no rate).
    OutsideScope,
}

/// A party as printed on the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentParty {
    pub name: String,
    /// Swedish organisation number `NNNNNN-NNNN`, or the registration number of a foreign company.
    pub org_number: String,
    /// With its country prefix (`SE556677889901`, `DE123456789`); none for a buyer outside the EU.
    pub vat_number: Option<String>,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// A person or function to contact (the seller's finance desk, the buyer's reference person).
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    /// The party's electronic address for Peppol (EN 16931 BT-34 seller, BT-49 buyer): an EAS
    /// scheme and an identifier. None: derived by [`DocumentParty::electronic_address`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Endpoint>,
}

/// A Peppol electronic address: an EAS (Electronic Address Scheme) code and the identifier in it,
/// e.g. `0007` + `2321000016` (a Swedish organisation number), `9930` + `DE123456789` (a German
/// VAT number), `0192` + `923609016` (a Norwegian organisation number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub scheme: String,
    pub id: String,
}

impl DocumentParty {
    /// The organisation number's digits only (`232100-0016` → `2321000016`).
    pub fn org_digits(&self) -> String {
        self.org_number
            .chars()
            .filter(char::is_ascii_digit)
            .collect()
    }

    /// The electronic address: the one given, else for a Swedish party `0007:<organisation
    /// number>` and for a Norwegian one `0192:<organisation number>`; None otherwise (the ledger
    /// then sets [`DocumentParty::endpoint`] from the buyer's Peppol registration).
    pub fn electronic_address(&self) -> Option<Endpoint> {
        if let Some(e) = &self.endpoint {
            return Some(e.clone());
        }
        let scheme = match self.country.as_str() {
            "SE" => "0007",
            "NO" => "0192",
            _ => return None,
        };
        let id = self.org_digits();
        (!id.is_empty()).then(|| Endpoint {
            scheme: scheme.to_string(),
            id,
        })
    }
}

/// One line: work actually done for the collaboration (hours at the agreed rate) or a direct expense.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentLine {
    /// 1, 2, … in document order.
    pub number: u32,
    pub description: String,
    /// In hundredths of the unit (1.50 hours = 150).
    pub quantity_hundredths: i64,
    /// UN/ECE Rec 20 unit code: `HUR` (hour) or `C62` (one, for an expense).
    pub unit_code: String,
    /// Net price per unit; a credit note's lines carry positive prices and quantities, the document
    /// kind says it is a credit (as UBL wants).
    pub unit_price: Amount,
    /// quantity × unit price, rounded to minor units.
    pub net: Amount,
    /// The work-log line it comes from.
    pub work_log_line: Option<String>,
}

/// Everything a rendering needs. Totals are computed by the ledger and checked by the renderings'
/// tests (EN 16931 BR-CO rules), never recomputed differently in two places.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDocument {
    pub kind: DocumentKind,
    /// The number from the CPUA's series, e.g. `2026-000017`.
    pub number: String,
    pub issue_date: NaiveDate,
    /// Due date (invoices only; a credit note has none).
    pub due_date: Option<NaiveDate>,
    pub currency: Currency,
    /// Bankgirot OCR reference with its check digit (invoices only).
    pub ocr_reference: Option<String>,
    /// The seller's bankgiro number (`NNN-NNNN` or `NNNN-NNNN`), where payment goes.
    pub bankgiro: Option<String>,
    /// The buyer's reference (the person or code they asked for) and/or their order number: at
    /// least one is present.
    pub buyer_reference: Option<String>,
    pub order_number: Option<String>,
    /// The agreement the work was done under: its reference and version.
    pub contract_reference: String,
    /// Our case number for the collaboration, and the CPUA's own (diarienummer) where known.
    pub case_reference: String,
    /// For a credit note: the invoice it corrects (number and issue date).
    pub corrects: Option<(String, NaiveDate)>,
    pub seller: DocumentParty,
    pub buyer: DocumentParty,
    pub treatment: VatTreatment,
    /// 25 for domestic, 0 otherwise (percent).
    pub vat_rate_percent: u32,
    pub lines: Vec<DocumentLine>,
    /// Sum of the lines' net amounts.
    pub net_total: Amount,
    pub vat_total: Amount,
    /// net + VAT.
    pub gross_total: Amount,
    /// Payment terms in words, e.g. "30 dagar netto" / "30 days net".
    pub payment_terms_days: u32,
    /// Free text for the document, e.g. a credit note's reason.
    pub note: Option<String>,
}
