//! E-mail addresses: how a person is invited and recognised at their first sign-in.
use serde::{Deserialize, Serialize};
use std::fmt;

use super::messages::Message;
use crate::msg;

/// The longest address accepted (RFC 5321: a path of at most 256 octets, less the angle brackets).
pub const EMAIL_MAX: usize = 254;

/// An e-mail address (e-postadress), trimmed and lower-cased, so that an invitation and the
/// identity provider's `email` claim compare equal however either was typed. Only the shape is
/// checked (one `@`, a local part, a domain with a dot, no spaces or control characters); whether
/// the address reaches anyone is the identity provider's to verify.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses an address; the reason names what is wrong (catalogue `email.*`).
    pub fn parse(s: &str) -> Result<EmailAddress, Message> {
        let t = s.trim();
        if t.is_empty() {
            return Err(msg!("text.empty"));
        }
        if t.chars().count() > EMAIL_MAX {
            return Err(msg!("max_length", max = EMAIL_MAX));
        }
        let bad = || msg!("email.form", value = t);
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let Some((local, domain)) = t.split_once('@') else {
            return Err(bad());
        };
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && domain
                .split('.')
                .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
            && !domain.contains(['(', ')', '<', '>', ',', ';', ':', '\\', '"', '[', ']']);
        let local_ok = !local.is_empty()
            && local.chars().count() <= 64
            && !local.contains(['(', ')', '<', '>', ',', ';', ':', '\\', '"', '[', ']']);
        if !(domain_ok && local_ok) {
            return Err(bad());
        }
        Ok(EmailAddress(t.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a value read back from our own database (stored lower-cased).
    pub fn from_db(s: String) -> EmailAddress {
        EmailAddress(s)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        EmailAddress::parse(&s).map_err(|m| m.to_string())
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_trimmed_and_lower_cased() {
        let e = EmailAddress::parse("  Karin.Foretagsson@Exempel.SE ").unwrap();
        assert_eq!(e.as_str(), "karin.foretagsson@exempel.se");
        assert_eq!(
            e,
            EmailAddress::parse("karin.foretagsson@exempel.se").unwrap()
        );
    }

    #[test]
    fn what_is_not_an_address_is_refused() {
        for bad in [
            "",
            "   ",
            "karin",
            "@exempel.se",
            "karin@",
            "karin@exempel",
            "karin@@exempel.se",
            "kar in@exempel.se",
            "karin@exempel..se",
            "karin@-exempel.se",
            "karin@exem\tpel.se",
            "<karin@exempel.se>",
            "karin\u{0}@exempel.se",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@exempel.se", "a".repeat(250));
        assert_eq!(EmailAddress::parse(&long).unwrap_err().id(), "max_length");
    }
}
