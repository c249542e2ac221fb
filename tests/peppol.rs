//! Peppol BIS Billing 3.0 (issue 15, item 7): every kind of document `render::ubl` makes passes the
//! EN 16931 and Peppol BIS 3 schematron (`shared/peppol-rules/`) with no fatal error — a domestic
//! invoice (S 25 %), reverse charge to a German company (AE), outside the scope for a Norwegian and
//! an American buyer (O), and a credit note — and a broken document is flagged, so the check can
//! fail. The validator is `scripts/peppol-validate.py` (saxonche, lxml; installed by `.ci/run`).
#[path = "support/invoices.rs"]
mod invoices;
#[path = "support/peppol.rs"]
mod peppol;

use samverkan::render::ubl::invoice_xml;

#[test]
fn every_kind_of_document_passes_the_peppol_rules_and_a_broken_one_fails() {
    let domestic = invoice_xml(&invoices::invoice("SE"));
    let reverse = invoice_xml(&invoices::invoice("DE"));
    let norway = invoice_xml(&invoices::invoice("NO"));
    let usa = invoice_xml(&invoices::invoice("US"));
    let credit = invoice_xml(&invoices::credit_note("SE"));
    let credit_de = invoice_xml(&invoices::credit_note("DE"));
    assert!(reverse.contains("VATEX-EU-AE") && reverse.contains("Omvänd betalningsskyldighet"));
    assert!(usa.contains("VATEX-EU-O"));
    assert!(credit.contains("<cac:BillingReference>"));

    let ok = peppol::validate_all(&[
        ("domestic", &domestic),
        ("reverse-charge-de", &reverse),
        ("outside-scope-no", &norway),
        ("outside-scope-us", &usa),
        ("credit-note", &credit),
        ("credit-note-de", &credit_de),
    ]);
    println!("{}", ok.report);
    assert!(ok.valid, "{}", ok.report);
    assert!(ok.report.matches("OK ").count() == 6, "{}", ok.report);

    // A wrong total (the payable amount one krona off): BR-CO-16 / the sums must fail.
    let mut broken_doc = invoices::invoice("SE");
    broken_doc.gross_total =
        samverkan::domain::billing::amount::Amount::sek(broken_doc.gross_total.minor() + 100);
    let broken = invoice_xml(&broken_doc);
    // An invoice with neither the buyer's reference nor an order number (PEPPOL-EN16931-R003).
    let mut no_ref = invoices::invoice("DE");
    no_ref.buyer_reference = None;
    no_ref.order_number = None;
    let no_ref = invoice_xml(&no_ref);
    // A Swedish seller with a 13-character VAT number (SE-R-001) and an organisation number whose
    // check digit is wrong (SE-R-013): the national rules apply too.
    let mut bad_se = invoices::invoice("SE");
    bad_se.seller.vat_number = Some("SE23210000241".into());
    bad_se.seller.org_number = "232100-0025".into();
    let bad_se = invoice_xml(&bad_se);
    let bad = peppol::validate_all(&[
        ("wrong-total", &broken),
        ("no-buyer-reference", &no_ref),
        ("bad-swedish-seller", &bad_se),
    ]);
    assert!(!bad.valid, "{}", bad.report);
    let rules = bad.fatal_rules();
    assert!(
        rules.iter().any(|r| r == "BR-CO-15"),
        "the wrong total is flagged: {rules:?}\n{}",
        bad.report
    );
    assert!(
        rules.iter().any(|r| r == "PEPPOL-EN16931-R003"),
        "the missing buyer reference is flagged: {rules:?}\n{}",
        bad.report
    );
    for r in ["SE-R-001", "SE-R-013"] {
        assert!(rules.iter().any(|x| x == r), "{r} is flagged: {rules:?}");
    }
    assert_eq!(bad.report.matches("FAIL ").count(), 3, "{}", bad.report);
}

#[test]
fn the_helper_accepts_a_valid_document() {
    peppol::assert_peppol_valid(&invoice_xml(&invoices::invoice("DE")));
}
