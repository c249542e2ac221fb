//! Mail out (e-post): the Swedish and English templates compiled into the binary (Handlebars, strict
//! mode), and the SMTP transport (lettre) configured by `[mail] smtp_url` in lettre's URL form.
use handlebars::Handlebars;
use lettre::message::{header, Mailbox, MultiPart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use serde_json::{json, Value};
use std::time::Duration;

use crate::config::MailSettings;

/// The languages mail is written in; a person's language falls back to Swedish.
pub const LANGUAGES: [&str; 2] = ["sv", "en"];

macro_rules! templates {
    ($($name:literal),+ $(,)?) => {
        /// Every mail template: (language, name, source).
        pub const TEMPLATES: &[(&str, &str, &str)] = &[
            $(
                ("sv", $name, include_str!(concat!("../../mail-templates/sv/", $name, ".hbs"))),
                ("en", $name, include_str!(concat!("../../mail-templates/en/", $name, ".hbs"))),
            )+
        ];
    };
}

templates!(
    "layout.txt",
    "layout.html",
    "feasibility_requested.txt",
    "application_completed.txt",
    "decision_taken.txt",
    "cost_agreement_recorded.txt",
    "data_released.txt",
    "key_file_deleted.txt",
    "disposal_confirmed.txt",
    "decision_due_soon.txt",
    "decision_overdue.txt",
    "key_file_deletion_soon.txt",
    "key_file_deletion_due.txt",
    "usage_period_end_soon.txt",
    "usage_period_end_due.txt",
    "disposal_due_soon.txt",
    "disposal_overdue.txt",
    "signing_requested.txt",
    "signing_reminder.txt",
    "envelope_completed.txt",
    "envelope_declined.txt",
    "envelope_voided.txt",
    "envelope_expired.txt",
    "completion_due_soon.txt",
    "consultation_due_soon.txt",
    "invoice_overdue.txt",
);

/// A mail ready to send: subject, text and HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The compiled templates: text without escaping, HTML with.
pub struct MailTemplates {
    text: Handlebars<'static>,
    html: Handlebars<'static>,
}

impl MailTemplates {
    /// Compiles the embedded templates; an error names the template.
    pub fn builtin() -> anyhow::Result<MailTemplates> {
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        for (lang, name, src) in TEMPLATES {
            let key = format!("{lang}/{name}");
            let reg = if name.ends_with(".html") {
                &mut html
            } else {
                &mut text
            };
            reg.register_template_string(&key, *src)
                .map_err(|e| anyhow::anyhow!("mail template {key}: {e}"))?;
        }
        Ok(MailTemplates { text, html })
    }

    /// Whether a template for this event exists (in Swedish; a test checks both languages agree).
    pub fn has(&self, event: &str) -> bool {
        self.text.has_template(&format!("sv/{event}.txt"))
    }

    /// Renders the mail of `event` in `language` from the row's data and the link to the case.
    pub fn render(
        &self,
        language: &str,
        event: &str,
        data: &Value,
        public_url: &str,
    ) -> anyhow::Result<RenderedMail> {
        let lang = if LANGUAGES.contains(&language) {
            language
        } else {
            "sv"
        };
        let mut data = data.clone();
        let link = match data.get("collaboration_id").and_then(Value::as_str) {
            Some(id) => format!("{public_url}/collaborations/{id}"),
            None => public_url.to_string(),
        };
        if let Some(o) = data.as_object_mut() {
            o.insert("link".into(), json!(link));
        }
        let body = self
            .text
            .render(&format!("{lang}/{event}.txt"), &data)
            .map_err(|e| anyhow::anyhow!("mail template {lang}/{event}: {e}"))?;
        let (subject, rest) = body.split_once('\n').unwrap_or((body.as_str(), ""));
        let subject = subject.trim().to_string();
        let paragraphs: Vec<String> = rest
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        let footer = self
            .text
            .render(&format!("{lang}/layout.txt"), &data)
            .map_err(|e| anyhow::anyhow!("mail template {lang}/layout.txt: {e}"))?;
        let text = format!("{}\n\n{}", paragraphs.join("\n\n"), footer.trim_end());
        let mut page = data.clone();
        if let Some(o) = page.as_object_mut() {
            o.insert("subject".into(), json!(subject));
            o.insert("paragraphs".into(), json!(paragraphs));
        }
        let html = self
            .html
            .render(&format!("{lang}/layout.html"), &page)
            .map_err(|e| anyhow::anyhow!("mail template {lang}/layout.html: {e}"))?;
        Ok(RenderedMail {
            subject,
            text: format!("{text}\n"),
            html,
        })
    }
}

/// The mode of TLS a lettre URL asks for.
fn tls_mode(url: &url::Url) -> &'static str {
    if url.scheme() == "smtps" {
        return "wrapper";
    }
    match url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.to_string())
        .as_deref()
    {
        Some("required") => "required",
        Some("opportunistic") => "opportunistic",
        _ => "none",
    }
}

/// Checks the `[mail]` settings at start; the error names the key (never the password).
pub fn check_settings(s: &MailSettings) -> Result<(), String> {
    if s.from.parse::<Mailbox>().is_err() {
        return Err("mail.from: is not an e-mail address, e.g. samverkan@region.example".into());
    }
    if !s.smtp_url.is_empty() {
        let ok = url::Url::parse(&s.smtp_url)
            .is_ok_and(|u| matches!(u.scheme(), "smtp" | "smtps") && u.host().is_some());
        if !ok || SmtpTransport::from_url(&s.smtp_url).is_err() {
            return Err("mail.smtp_url: must be lettre's URL form, e.g. smtp://user:password@host:587?tls=required or smtps://host:465".into());
        }
    }
    if !s.ca_file.is_empty() && !std::path::Path::new(&s.ca_file).is_file() {
        return Err(format!("mail.ca_file: {} is not a file", s.ca_file));
    }
    if !(1..=100).contains(&s.max_attempts) {
        return Err("mail.max_attempts: must be between 1 and 100".into());
    }
    if !(1..=86_400).contains(&s.retry_base_seconds) {
        return Err("mail.retry_base_seconds: must be between 1 and 86400".into());
    }
    if !(1..=86_400).contains(&s.lease_seconds) {
        return Err("mail.lease_seconds: must be between 1 and 86400".into());
    }
    if !(10..=3_600_000).contains(&s.poll_interval_ms) {
        return Err("mail.poll_interval_ms: must be between 10 and 3600000".into());
    }
    if !(1..=1000).contains(&s.batch_size) {
        return Err("mail.batch_size: must be between 1 and 1000".into());
    }
    if !(1..=86_400).contains(&s.deadline_interval_seconds) {
        return Err("mail.deadline_interval_seconds: must be between 1 and 86400".into());
    }
    Ok(())
}

/// The SMTP sender.
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
    /// The domain of Message-IDs: the sender's.
    domain: String,
}

impl Mailer {
    /// The sender configured by `[mail]`, or `None` when no `smtp_url` is set.
    pub fn from_settings(s: &MailSettings) -> anyhow::Result<Option<Mailer>> {
        if s.smtp_url.is_empty() {
            return Ok(None);
        }
        check_settings(s).map_err(anyhow::Error::msg)?;
        let url = url::Url::parse(&s.smtp_url).map_err(|_| anyhow::anyhow!("mail.smtp_url"))?;
        let mut b = SmtpTransport::from_url(&s.smtp_url)
            .map_err(|e| anyhow::anyhow!("mail.smtp_url: {e}"))?
            .timeout(Some(Duration::from_secs(30)));
        if !s.ca_file.is_empty() {
            let pem = std::fs::read(&s.ca_file)
                .map_err(|e| anyhow::anyhow!("mail.ca_file: {}: {e}", s.ca_file))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| anyhow::anyhow!("mail.ca_file: {}: {e}", s.ca_file))?;
            let host = url.host_str().unwrap_or_default().to_string();
            let params = TlsParameters::builder(host)
                .add_root_certificate(cert)
                .build()
                .map_err(|e| anyhow::anyhow!("mail.ca_file: {e}"))?;
            b = match tls_mode(&url) {
                "wrapper" => b.tls(Tls::Wrapper(params)),
                "required" => b.tls(Tls::Required(params)),
                "opportunistic" => b.tls(Tls::Opportunistic(params)),
                _ => b,
            };
        }
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|_| anyhow::anyhow!("mail.from: is not an e-mail address"))?;
        let domain = from.email.domain().to_string();
        Ok(Some(Mailer {
            transport: b.build(),
            from,
            domain,
        }))
    }

    /// The Message-ID of an outbox row: the same on every attempt, so a resend after a crash is
    /// recognisable.
    pub fn message_id(&self, outbox_id: &str) -> String {
        format!("<{outbox_id}@{}>", self.domain)
    }

    /// Sends one mail; the error is a line for the outbox's `last_error` (no secret in it).
    pub fn send(
        &self,
        to_name: &str,
        to: &str,
        language: &str,
        outbox_id: &str,
        mail: &RenderedMail,
    ) -> Result<(), String> {
        let address = to
            .parse()
            .map_err(|e| format!("recipient address {to}: {e}"))?;
        let to = Mailbox::new(Some(to_name.to_string()), address);
        let lang = if LANGUAGES.contains(&language) {
            language
        } else {
            "sv"
        };
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(self.message_id(outbox_id)))
            .header(ContentLanguage(lang.to_string()))
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(&msg)
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}

/// The `Content-Language` header.
#[derive(Debug, Clone)]
struct ContentLanguage(String);

impl header::Header for ContentLanguage {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ContentLanguage(s.to_string()))
    }

    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_in_strict_mode_in_both_languages() {
        let t = MailTemplates::builtin().unwrap();
        for (lang, name, _) in TEMPLATES {
            let other = if *lang == "sv" { "en" } else { "sv" };
            assert!(
                TEMPLATES.iter().any(|(l, n, _)| l == &other && n == name),
                "{name} in {other}"
            );
        }
        assert!(t.has("application_completed"));
    }

    #[test]
    fn a_mail_has_subject_text_html_and_the_link_and_escapes_html() {
        let t = MailTemplates::builtin().unwrap();
        let data = json!({"collaboration_id": "c1", "reference": "SAM-2026-0001",
            "title": "<b>Hjärta</b>", "cpua_name": "Region Uppsala", "due_on": "2026-10-01"});
        let m = t
            .render("sv", "application_completed", &data, "https://s.example")
            .unwrap();
        assert_eq!(
            m.subject,
            "SAM-2026-0001: ny ansökan om utlämnande till Region Uppsala"
        );
        assert!(m.text.contains("https://s.example/collaborations/c1"));
        assert!(m.text.contains("2026-10-01"));
        assert!(m.html.contains("&lt;b&gt;Hjärta&lt;/b&gt;"), "{}", m.html);
        assert!(m
            .html
            .contains("href=\"https://s.example/collaborations/c1\""));
        let en = t
            .render("en", "application_completed", &data, "https://s.example")
            .unwrap();
        assert!(en.subject.contains("new data application"));
    }

    #[test]
    fn strict_mode_refuses_a_missing_variable() {
        let t = MailTemplates::builtin().unwrap();
        let err = t
            .render(
                "sv",
                "application_completed",
                &json!({}),
                "https://s.example",
            )
            .unwrap_err();
        assert!(err.to_string().contains("application_completed"));
    }

    #[test]
    fn a_malformed_sender_stops_the_start_naming_the_key() {
        let mut s = crate::config::Settings::defaults().mail;
        s.from = "not an address".into();
        assert!(check_settings(&s).unwrap_err().starts_with("mail.from"));
        let mut s = crate::config::Settings::defaults().mail;
        s.smtp_url = "http://x".into();
        assert!(check_settings(&s).unwrap_err().starts_with("mail.smtp_url"));
        s.smtp_url = "smtp://u:secret@localhost:587?tls=required".into();
        assert!(check_settings(&s).is_ok());
    }
}
