//! The Bankgirot OCR reference (OCR-nummer) an invoice is paid with, and the check a payment's
//! reference is matched with.
//!
//! Bankgirot's rules (issue 15, item 3: "a Bankgirot OCR reference with its check digit (and the
//! optional length digit)"): the reference is 2 to 25 digits; its last digit is a check digit by
//! the modulus-10 ("Luhn") method over all digits before it. With the optional length digit, the
//! digit before the check digit is the length of the whole reference, both extra digits included,
//! modulo 10. Worked examples (issue 15, "Tests"): payload `202600017` with the length digit gives
//! `20260001712`; `12345` gives `1234574`.

/// The longest reference Bankgirot accepts, in digits.
pub const MAX_DIGITS: usize = 25;
/// The shortest: one payload digit and the check digit.
pub const MIN_DIGITS: usize = 2;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcrError {
    #[error("an OCR reference is made from at least one digit")]
    Empty,
    #[error("an OCR reference holds digits only, found {0:?}")]
    NotDigit(char),
    #[error("an OCR reference is at most {MAX_DIGITS} digits, this one would be {0}")]
    TooLong(usize),
}

/// The modulus-10 check digit of `digits` (all ASCII digits): from the right, every other digit
/// starting with the last is doubled, the digits of the products summed.
fn luhn_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let v = u32::from(d - b'0');
            if i % 2 == 0 {
                let p = v * 2;
                p / 10 + p % 10
            } else {
                v
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// The OCR reference for `payload` (e.g. the invoice number's digits): the payload, the length
/// digit when `length_digit` is set, and the check digit.
pub fn ocr_reference(payload: &str, length_digit: bool) -> Result<String, OcrError> {
    if payload.is_empty() {
        return Err(OcrError::Empty);
    }
    if let Some(c) = payload.chars().find(|c| !c.is_ascii_digit()) {
        return Err(OcrError::NotDigit(c));
    }
    let total = payload.len() + 1 + usize::from(length_digit);
    if total > MAX_DIGITS {
        return Err(OcrError::TooLong(total));
    }
    let mut digits = payload.as_bytes().to_vec();
    if length_digit {
        digits.push(b'0' + (total % 10) as u8);
    }
    digits.push(b'0' + luhn_digit(&digits));
    // Only ASCII digits were pushed.
    Ok(String::from_utf8_lossy(&digits).into_owned())
}

/// Whether `reference` is a well-formed OCR reference: 2–25 digits whose last is the check digit.
/// A payment's reference is matched with this before it is looked up (issue 15, item 5).
pub fn check(reference: &str) -> bool {
    let b = reference.as_bytes();
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&b.len()) || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (body, last) = b.split_at(b.len() - 1);
    luhn_digit(body) == last[0] - b'0'
}

/// [`check`] and, in addition, that the digit before the check digit is the reference's length
/// modulo 10 (the "hard" check a bankgiro with the length-digit service applies).
pub fn check_with_length(reference: &str) -> bool {
    let b = reference.as_bytes();
    check(reference) && b.len() >= 3 && usize::from(b[b.len() - 2] - b'0') == b.len() % 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worked_examples_of_issue_15_hold() {
        assert_eq!(ocr_reference("202600017", true).unwrap(), "20260001712");
        assert_eq!(ocr_reference("12345", true).unwrap(), "1234574");
        assert!(check("20260001712") && check_with_length("20260001712"));
        assert!(check("1234574") && check_with_length("1234574"));
    }

    #[test]
    fn without_the_length_digit_only_the_check_digit_is_added() {
        // The classic Luhn example: 7992739871 → check digit 3.
        assert_eq!(ocr_reference("7992739871", false).unwrap(), "79927398713");
        assert_eq!(ocr_reference("12345", false).unwrap(), "123455");
        assert!(check("123455"));
        assert!(!check_with_length("123455"));
    }

    #[test]
    fn every_single_digit_error_is_caught() {
        for payload in ["202600017", "1", "99999999", "4000123"] {
            for with_len in [false, true] {
                let r = ocr_reference(payload, with_len).unwrap();
                assert!(check(&r), "{r}");
                let mut b = r.clone().into_bytes();
                for i in 0..b.len() {
                    let orig = b[i];
                    for d in b'0'..=b'9' {
                        if d == orig {
                            continue;
                        }
                        b[i] = d;
                        let s = String::from_utf8(b.clone()).unwrap();
                        assert!(!check(&s), "{s} should fail (from {r})");
                    }
                    b[i] = orig;
                }
            }
        }
    }

    #[test]
    fn the_length_digit_counts_both_added_digits_modulo_ten() {
        let r = ocr_reference("12345678", true).unwrap();
        assert_eq!(r.len(), 10);
        assert_eq!(&r[8..9], "0");
        let r = ocr_reference("1", true).unwrap();
        assert_eq!(&r[1..2], "3");
    }

    #[test]
    fn bad_payloads_are_refused_and_the_limit_is_25_digits() {
        assert_eq!(ocr_reference("", true), Err(OcrError::Empty));
        assert_eq!(ocr_reference("2026-17", true), Err(OcrError::NotDigit('-')));
        assert_eq!(
            ocr_reference(&"1".repeat(23), true).map(|s| s.len()),
            Ok(25)
        );
        assert_eq!(
            ocr_reference(&"1".repeat(24), true),
            Err(OcrError::TooLong(26))
        );
        assert_eq!(
            ocr_reference(&"1".repeat(24), false).map(|s| s.len()),
            Ok(25)
        );
        assert!(!check(""));
        assert!(!check("0"));
        assert!(!check("12345 74"));
        assert!(!check(&format!("{}0", "1".repeat(25))));
    }
}
