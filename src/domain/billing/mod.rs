//! Billing of extraction work (issue 15): amounts with their currency, the invoice document every
//! rendering (PDF, UBL) is made from, the Bankgirot OCR reference and the VAT treatment of a buyer.
//!
//! Seed 000 (`000 Beskrivning Process för samverkan - Nationella kvalitetsregister.md`, "Kostnader"):
//! work beyond routine may be charged case by case and is agreed in writing before data are released.
//! DOMAIN.md (the SKR–industry agreement): services are paid at cost price, never as sponsorship.
pub mod amount;
pub mod balance;
pub mod camt;
pub mod cost;
pub mod csv_export;
pub mod document;
pub mod ledger;
pub mod ocr;
pub mod reminder;
pub mod settlement;
pub mod vat;
pub mod vat_number;
