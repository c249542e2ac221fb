//! Signing providers (issue 14, "An external e-signature service"): one interface — start, status,
//! fetch result, cancel — with the built-in simple electronic signature as one implementation and a
//! Standard Webhooks provider as another.
//!
//! A webhook provider is a service (e.g. built on BankID or SITHS) that has the signer sign on its
//! side and reports the result to `POST /api/v1/signing/providers/{name}/events`. Each event is
//! verified by the Standard Webhooks scheme ([`WebhookProvider::verify`]): `webhook-signature` holds
//! `v1,<base64 HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}">` entries, any configured
//! secret may match (several while one is rotated), compared in constant time; a timestamp more
//! than five minutes from the server's clock is refused. `webhook-id` is the idempotency key: a
//! replay answers 200 and changes nothing. A verified event then runs the same signing commands as
//! the built-in method (`app::signing::record_provider_signature` and `record_provider_decline`).
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::signing::{self, Policy, ProviderResult, METHOD_BUILTIN};
use super::{AppError, FieldError};
use crate::config::SigningProviderSettings;
use crate::db::repo::ts;
use crate::db::signing::{self as store, EnvelopeRow, EvidenceRow};
use crate::db::webhooks::{self as events, WebhookEventRow};
use crate::db::DbConn;
use crate::domain::classification::RulebookSet;
use crate::domain::lifecycle::Refusal;
use crate::domain::signing::EnvelopeStatus;

/// How far `webhook-timestamp` may be from the server's clock (Standard Webhooks' five minutes).
pub const TOLERANCE_SECONDS: i64 = 300;
/// The largest event body read (or `server.max_body_bytes`, if smaller).
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// What starting a signature gives the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// Where the signers sign.
    pub sign_at: String,
}

/// One way of signing an envelope. Every method records its result as evidence in
/// `signing_evidence` with its own `method` and `level`; the envelope, its turns and its completion
/// are the same for all.
pub trait SigningProvider {
    /// The method's name: the evidence's `method`.
    fn name(&self) -> &str;
    /// Starts signing a sent envelope.
    fn start(&self, conn: &mut DbConn, envelope: &EnvelopeRow) -> Result<Started, AppError>;
    /// Where the envelope is.
    fn status(&self, conn: &mut DbConn, envelope: &EnvelopeRow)
        -> Result<EnvelopeStatus, AppError>;
    /// The evidence this method recorded for the envelope.
    fn fetch_result(
        &self,
        conn: &mut DbConn,
        envelope: &EnvelopeRow,
    ) -> Result<Vec<EvidenceRow>, AppError>;
    /// Stops signing an envelope.
    fn cancel(&self, conn: &mut DbConn, envelope: &EnvelopeRow) -> Result<(), AppError>;
}

fn status_of(env: &EnvelopeRow) -> Result<EnvelopeStatus, AppError> {
    EnvelopeStatus::parse(&env.status).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("stored envelope status {:?}", env.status))
    })
}

fn evidence_by(
    conn: &mut DbConn,
    envelope: &EnvelopeRow,
    method: &str,
) -> Result<Vec<EvidenceRow>, AppError> {
    Ok(store::evidence(conn, &envelope.id)?
        .into_iter()
        .filter(|e| e.method == method)
        .collect())
}

/// The built-in method: the envelope is sent and each signer signs on the page (a fresh sign-in, the
/// consent text and the typed name; `app::signing::sign`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Builtin;

impl SigningProvider for Builtin {
    fn name(&self) -> &str {
        METHOD_BUILTIN
    }

    fn start(&self, conn: &mut DbConn, envelope: &EnvelopeRow) -> Result<Started, AppError> {
        match self.status(conn, envelope)? {
            EnvelopeStatus::Sent => Ok(Started {
                sign_at: format!(
                    "/api/v1/collaborations/{}/agreements/{}/envelope",
                    envelope.collaboration_id, envelope.version
                ),
            }),
            other => Err(Refusal::precondition(crate::msg!(
                "signing_not_open",
                status = other.words()
            ))
            .into()),
        }
    }

    fn status(&self, _: &mut DbConn, envelope: &EnvelopeRow) -> Result<EnvelopeStatus, AppError> {
        status_of(envelope)
    }

    fn fetch_result(
        &self,
        conn: &mut DbConn,
        envelope: &EnvelopeRow,
    ) -> Result<Vec<EvidenceRow>, AppError> {
        evidence_by(conn, envelope, METHOD_BUILTIN)
    }

    fn cancel(&self, _: &mut DbConn, _: &EnvelopeRow) -> Result<(), AppError> {
        Err(Refusal::precondition(crate::msg!("signing_builtin_no_cancel")).into())
    }
}

/// Decodes `whsec_<base64>` secrets, saying which one is wrong.
pub fn check_secrets(secrets: &[String]) -> Result<Vec<Vec<u8>>, String> {
    secrets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let b64 = s.trim().strip_prefix("whsec_").ok_or_else(|| {
                format!(
                    "secret {} must be whsec_<base64> (Standard Webhooks)",
                    i + 1
                )
            })?;
            let key = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| format!("secret {} is not valid base64 after whsec_", i + 1))?;
            if key.len() < 16 {
                return Err(format!("secret {} must hold at least 16 bytes", i + 1));
            }
            Ok(key)
        })
        .collect()
}

/// A provider that reports by Standard Webhooks (`[[signing.providers]]`).
#[derive(Clone)]
pub struct WebhookProvider {
    name: String,
    keys: Vec<Vec<u8>>,
}

impl std::fmt::Debug for WebhookProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookProvider")
            .field("name", &self.name)
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// The Standard Webhooks headers of one delivery, as sent.
#[derive(Debug, Clone, Default)]
pub struct WebhookHeaders {
    pub id: Option<String>,
    pub timestamp: Option<String>,
    pub signature: Option<String>,
}

/// A delivery whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub id: String,
    pub sent_at: DateTime<Utc>,
}

impl WebhookProvider {
    pub fn from_settings(s: &SigningProviderSettings) -> Result<WebhookProvider, String> {
        Ok(WebhookProvider {
            name: s.name.clone(),
            keys: check_secrets(&s.secrets)?,
        })
    }

    /// The configured provider of that name.
    pub fn named(providers: &[SigningProviderSettings], name: &str) -> Option<WebhookProvider> {
        let s = providers.iter().find(|p| p.name == name)?;
        WebhookProvider::from_settings(s).ok()
    }

    /// Verifies one delivery (Standard Webhooks): the headers present, the timestamp within
    /// [`TOLERANCE_SECONDS`] of `now`, and a `v1` signature over `{id}.{timestamp}.{body}` by one of
    /// the configured secrets, each compared in constant time. Every failure is a 401.
    pub fn verify(
        &self,
        h: &WebhookHeaders,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Verified, AppError> {
        let unauth = |m| AppError::Unauthenticated(m);
        let (Some(id), Some(stamp), Some(signature)) = (&h.id, &h.timestamp, &h.signature) else {
            return Err(unauth(crate::msg!("webhook_headers_missing")));
        };
        if id.is_empty() || id.len() > 256 || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(unauth(crate::msg!("webhook_id_invalid")));
        }
        let secs: i64 = stamp
            .trim()
            .parse()
            .map_err(|_| unauth(crate::msg!("webhook_timestamp_invalid")))?;
        let sent_at = DateTime::<Utc>::from_timestamp(secs, 0)
            .ok_or_else(|| unauth(crate::msg!("webhook_timestamp_invalid")))?;
        if (now - sent_at).abs() > Duration::seconds(TOLERANCE_SECONDS) {
            return Err(unauth(crate::msg!(
                "webhook_timestamp_stale",
                seconds = TOLERANCE_SECONDS.to_string()
            )));
        }
        let given: Vec<Vec<u8>> = signature
            .split_whitespace()
            .filter_map(|e| e.strip_prefix("v1,"))
            .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .collect();
        let mut ok = false;
        for key in &self.keys {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("hmac key: {e}")))?;
            mac.update(id.as_bytes());
            mac.update(b".");
            mac.update(stamp.as_bytes());
            mac.update(b".");
            mac.update(body);
            for g in &given {
                // Constant-time; every pair is tried, so the time says nothing of which matched.
                ok |= mac.clone().verify_slice(g).is_ok();
            }
        }
        if !ok {
            return Err(unauth(crate::msg!("webhook_signature_invalid")));
        }
        Ok(Verified {
            id: id.clone(),
            sent_at,
        })
    }

    fn unsupported(&self, operation: &str) -> AppError {
        Refusal::precondition(crate::msg!(
            "signing_provider_unsupported",
            provider = self.name.clone(),
            operation = operation.to_string()
        ))
        .into()
    }
}

impl SigningProvider for WebhookProvider {
    fn name(&self) -> &str {
        &self.name
    }

    /// The provider's service starts the signature with the signer; samverkan hears of it by event.
    fn start(&self, _: &mut DbConn, _: &EnvelopeRow) -> Result<Started, AppError> {
        Err(self.unsupported("start"))
    }

    fn status(&self, _: &mut DbConn, envelope: &EnvelopeRow) -> Result<EnvelopeStatus, AppError> {
        status_of(envelope)
    }

    fn fetch_result(
        &self,
        conn: &mut DbConn,
        envelope: &EnvelopeRow,
    ) -> Result<Vec<EvidenceRow>, AppError> {
        evidence_by(conn, envelope, &self.name)
    }

    fn cancel(&self, _: &mut DbConn, _: &EnvelopeRow) -> Result<(), AppError> {
        Err(self.unsupported("cancel"))
    }
}

/// What the provider reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum EventType {
    /// The signer signed: evidence is recorded; the last signer completes the envelope.
    #[serde(rename = "signature.completed")]
    SignatureCompleted,
    /// The signer declined: the envelope ends, everyone is told.
    #[serde(rename = "signature.declined")]
    SignatureDeclined,
}

impl EventType {
    pub fn code(self) -> &'static str {
        match self {
            EventType::SignatureCompleted => "signature.completed",
            EventType::SignatureDeclined => "signature.declined",
        }
    }
}

/// The signature's level (eIDAS): advanced or qualified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum SignatureLevel {
    AES,
    QES,
}

impl SignatureLevel {
    pub fn code(self) -> &'static str {
        match self {
            SignatureLevel::AES => "AES",
            SignatureLevel::QES => "QES",
        }
    }
}

/// The signer as the provider identified them.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventSigner {
    /// The party's organisation id (a signer of the envelope).
    pub organisation_id: String,
    /// The signer's full name as the provider verified it.
    pub name: String,
    pub email: String,
    /// The capacity they signed in, e.g. `firmatecknare`; matched to the party's signer slot.
    pub capacity: String,
}

/// A signing provider's event (the body of a Standard Webhooks delivery).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"type": "signature.completed", "collaboration_id": "…",
    "agreement_version": 1, "signer": {"organisation_id": "…", "name": "Karin Företagsson",
    "email": "karin@example.se", "capacity": "firmatecknare"}, "digest": "…", "level": "AES",
    "signed_at": "2026-09-01T09:00:00Z", "provider_reference": "tx-4711"}))]
pub struct ProviderEvent {
    #[serde(rename = "type")]
    pub kind: EventType,
    pub collaboration_id: String,
    pub agreement_version: i32,
    pub signer: EventSigner,
    /// The digest of the version the signer signed (the envelope's `digest`).
    pub digest: String,
    pub level: SignatureLevel,
    pub signed_at: DateTime<Utc>,
    /// The provider's reference to the signing transaction.
    pub provider_reference: String,
    /// Why the signer declined (`signature.declined` only).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The answer to a delivery.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventReceipt {
    /// The `webhook-id`.
    pub event_id: String,
    /// A replay of an event already acted on: nothing changed.
    pub duplicate: bool,
    pub envelope_id: String,
    /// The envelope's status after the event.
    pub envelope_status: String,
}

fn check_event(e: &ProviderEvent, now: DateTime<Utc>) -> Result<(), AppError> {
    let mut errs = Vec::new();
    let line = |errs: &mut Vec<FieldError>, field: &str, v: &str, max: usize| {
        match crate::domain::text::parse_line(v, max) {
            Ok(t) if t.is_empty() => {
                errs.push(FieldError::new(field, crate::msg!("required.field")))
            }
            Ok(_) => {}
            Err(m) => errs.push(FieldError::new(field, crate::msg!("text", reason = m))),
        }
    };
    line(&mut errs, "collaboration_id", &e.collaboration_id, 100);
    line(
        &mut errs,
        "signer.organisation_id",
        &e.signer.organisation_id,
        100,
    );
    line(&mut errs, "signer.name", &e.signer.name, 200);
    line(&mut errs, "signer.email", &e.signer.email, 320);
    line(&mut errs, "provider_reference", &e.provider_reference, 200);
    if crate::domain::text::parse_line(&e.signer.capacity, 200).is_err() {
        line(&mut errs, "signer.capacity", &e.signer.capacity, 200);
    }
    let d = e.digest.trim();
    if d.len() != 64 || !d.bytes().all(|b| b.is_ascii_hexdigit()) {
        errs.push(FieldError::new(
            "digest",
            crate::msg!("signing_digest_format"),
        ));
    }
    if e.signed_at > now + Duration::seconds(TOLERANCE_SECONDS) {
        errs.push(FieldError::new(
            "signed_at",
            crate::msg!("webhook_signed_at_future"),
        ));
    }
    if let Some(r) = &e.reason {
        if let Err(m) = crate::domain::text::parse_text(r, 5_000) {
            errs.push(FieldError::new("reason", crate::msg!("text", reason = m)));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errs))
    }
}

/// A verified delivery already acted on, if it was (a replay: answered, nothing changed).
pub fn replay(
    conn: &mut DbConn,
    provider: &str,
    event_id: &str,
) -> Result<Option<EventReceipt>, AppError> {
    Ok(
        events::find(conn, provider, event_id)?.map(|r| EventReceipt {
            event_id: r.event_id,
            duplicate: true,
            envelope_id: r.envelope_id,
            envelope_status: r.outcome,
        }),
    )
}

/// Acts on one verified event in the caller's transaction: its `webhook-id` is taken first (a
/// concurrent delivery of the same event waits for it and is answered as a replay), then the
/// signature or decline runs through the signing commands. A refusal rolls the whole transaction
/// back, the key with it, so a corrected redelivery can still be acted on.
#[allow(clippy::too_many_arguments)]
pub fn handle_event(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    policy: &Policy,
    provider: &WebhookProvider,
    delivery: &Verified,
    body: &[u8],
    event: &ProviderEvent,
    now: DateTime<Utc>,
) -> Result<EventReceipt, AppError> {
    check_event(event, now)?;
    let body_sha256 = hex::encode(Sha256::digest(body));
    let row = WebhookEventRow {
        provider: provider.name.clone(),
        event_id: delivery.id.clone(),
        event_type: event.kind.code().into(),
        collaboration_id: event.collaboration_id.trim().to_string(),
        agreement_version: event.agreement_version,
        envelope_id: String::new(),
        outcome: String::new(),
        body_sha256: body_sha256.clone(),
        sent_at: ts(delivery.sent_at),
        received_at: ts(now),
    };
    if !events::insert(conn, &row)? {
        return replay(conn, &provider.name, &delivery.id)?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the webhook event vanished")));
    }
    let result = ProviderResult {
        provider: &provider.name,
        collaboration_id: event.collaboration_id.trim(),
        version: event.agreement_version,
        organisation_id: event.signer.organisation_id.trim(),
        name: &event.signer.name,
        email: &event.signer.email,
        capacity: &event.signer.capacity,
        digest: &event.digest,
        level: event.level.code(),
        signed_at: event.signed_at,
        provider_reference: event.provider_reference.trim(),
        body_sha256: &body_sha256,
    };
    let env = match event.kind {
        EventType::SignatureCompleted => {
            signing::record_provider_signature(conn, rulebooks, policy, &result, now)?
        }
        EventType::SignatureDeclined => {
            let reason = event
                .reason
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| format!("declined at {}", provider.name));
            signing::record_provider_decline(conn, rulebooks, &result, &reason, now)?
        }
    };
    events::set_outcome(conn, &provider.name, &delivery.id, &env.id, &env.status)?;
    Ok(EventReceipt {
        event_id: delivery.id.clone(),
        duplicate: false,
        envelope_id: env.id,
        envelope_status: env.status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn provider(secrets: &[&str]) -> WebhookProvider {
        WebhookProvider::from_settings(&SigningProviderSettings {
            name: "bankid-sign".into(),
            secrets: secrets.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap()
    }

    fn sign(key: &[u8], id: &str, ts: i64, body: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
        mac.update(format!("{id}.{ts}.").as_bytes());
        mac.update(body);
        format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        )
    }

    // The example of the Standard Webhooks specification's reference implementations.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn the_specifications_example_verifies_and_a_changed_byte_does_not() {
        let p = provider(&[SECRET]);
        let key = check_secrets(&[SECRET.to_string()]).unwrap().remove(0);
        let now = Utc.timestamp_opt(1_614_265_330, 0).unwrap();
        let body = br#"{"test": 2432232314}"#;
        let h = WebhookHeaders {
            id: Some("msg_p5jXN8AQM9LWM0D4loKWxJek".into()),
            timestamp: Some("1614265330".into()),
            signature: Some(format!(
                "v1,bm9ldHUjKzFob2VudXRob2VodWUzMjRvdWVvdW9ldQo= {}",
                sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body)
            )),
        };
        assert!(p.verify(&h, body, now).is_ok());
        assert!(p.verify(&h, br#"{"test": 2432232315}"#, now).is_err());
        assert!(p
            .verify(&h, body, now + Duration::seconds(TOLERANCE_SECONDS + 1))
            .is_err());
        assert!(p.verify(&WebhookHeaders::default(), body, now).is_err());
    }

    #[test]
    fn secrets_must_be_whsec_base64() {
        assert!(check_secrets(&["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()]).is_err());
        assert!(check_secrets(&["whsec_!!".into()]).is_err());
        assert!(check_secrets(&["whsec_c2hvcnQ=".into()]).is_err());
        assert_eq!(check_secrets(&[SECRET.into()]).unwrap()[0].len(), 24);
    }
}
