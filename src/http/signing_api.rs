//! Signing the agreement (issue 14): the envelope of a version, its signatures, a decline, and the
//! executed PDF. Thin edges: parse, call one command or query of `app::signing`, map the answer.
use actix_web::http::header;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use std::net::IpAddr;

use super::extract::{Authenticated, JsonBody};
use super::{blocking, AppState};
use crate::app::auth::CredentialHash;
use crate::app::signing::{
    self, DeclineInput, EnvelopeInput, EnvelopeView, Policy, RequestFacts, SignatureInput,
};
use crate::app::signing_providers::{
    self as providers, EventReceipt, ProviderEvent, WebhookHeaders, WebhookProvider,
};
use crate::app::AppError;

type Data = web::Data<AppState>;

/// The signing settings in force (the pages use it too).
pub fn policy(state: &AppState) -> Policy {
    Policy {
        expiry_days: state.settings.signing.expiry_days,
        fresh_login_minutes: state.settings.signing.fresh_login_minutes,
    }
}

/// After a signature committed: when it completed the envelope, the seal job runs (right away,
/// outside any transaction, when `signing.seal_after_commit`; else the worker is woken), and the
/// view says what was stored (the pages use it too).
pub fn after_completion(state: &AppState, view: &mut EnvelopeView) -> Result<(), AppError> {
    if view.status != "completed" || view.executed_pdf_sha256.is_some() {
        return Ok(());
    }
    state.sealer.completed(&state.svc);
    view.executed_pdf_sha256 = state
        .svc
        .read(|c| signing::executed_pdf_sha256(c, &view.id))?;
    Ok(())
}

fn number(n: &str) -> Result<i32, AppError> {
    n.parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.agreement_version")))
}

/// The client's address: the socket's peer, or, when that peer is a trusted proxy
/// (`server.trusted_proxies`), the nearest address in `X-Forwarded-For` that is not one.
pub fn client_ip(req: &HttpRequest, trusted: &[String]) -> Option<String> {
    let peer = req.peer_addr().map(|a| a.ip())?;
    let trusted: Vec<IpAddr> = trusted.iter().filter_map(|t| t.parse().ok()).collect();
    if !trusted.contains(&peer) {
        return Some(peer.to_string());
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return Some(ip.to_string()),
            // A hop that is no address: believe nothing further left of it.
            Err(_) => break,
        }
    }
    Some(peer.to_string())
}

/// What the request says of the person signing (the pages use it too).
pub fn facts(req: &HttpRequest, state: &AppState) -> RequestFacts {
    RequestFacts {
        credential_hash: req
            .extensions()
            .get::<CredentialHash>()
            .map(|h| h.0.clone()),
        client_ip: client_ip(req, &state.settings.server.trusted_proxies),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(500).collect()),
        lang: super::problem::request_lang(req),
    }
}

/// CPUA legal drafts the signing envelope of a version (its signers default to one signatory per
/// party; two for one organisation sign jointly), edits it while it is a draft, and sends it. A change
/// after sending voids the sent envelope and sends a new one.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/agreements/{number}/envelope", tag = "signing",
    params(("id" = String, Path, description = "collaboration id"),
           ("number" = i32, Path, description = "agreement version number")),
    request_body(content = EnvelopeInput, example = json!({"send": true, "order": "default"})),
    responses((status = 201, body = EnvelopeView, description = "A new envelope (a first draft, or a resend after a change)"),
              (status = 200, body = EnvelopeView, description = "The open envelope, changed or sent"),
              (status = 403, description = "Only the legal team of a CPUA that is a party prepares the envelope"),
              (status = 409, description = "The version is superseded, already executed, or the agreement is recorded"),
              (status = 422, description = "An unknown order, a signer who is no party, or a party without a signer")))]
pub async fn prepare_envelope(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
    body: JsonBody<EnvelopeInput>,
) -> Result<HttpResponse, AppError> {
    let (id, n) = path.into_inner();
    let number = number(&n)?;
    let (view, created) = blocking(move || {
        let now = state.svc.clock.now();
        let policy = policy(&state);
        state.svc.write(|c| {
            signing::prepare(
                c,
                &state.svc.rulebooks,
                &policy,
                &who.0,
                &id,
                number,
                body.0,
                now,
            )
        })
    })
    .await?;
    Ok(if created {
        HttpResponse::Created().json(view)
    } else {
        HttpResponse::Ok().json(view)
    })
}

/// The newest envelope of a version: status, digest, signers with their evidence, whose turn it is,
/// and for a signer in turn the consent text to agree to.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/agreements/{number}/envelope", tag = "signing",
    params(("id" = String, Path, description = "collaboration id"),
           ("number" = i32, Path, description = "agreement version number")),
    responses((status = 200, body = EnvelopeView),
              (status = 404, description = "No such collaboration or version, or no envelope yet")))]
pub async fn get_envelope(
    state: Data,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let (id, n) = path.into_inner();
    let number = number(&n)?;
    let lang = super::problem::request_lang(&req);
    let view = blocking(move || {
        state
            .svc
            .read(|c| signing::get(c, &state.svc.rulebooks, &who.0, &id, number, lang))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// A party signs by the built-in method (a simple electronic signature): the digest shown, the
/// consent text version agreed to and the typed full name, after a fresh sign-in. Refused, naming the
/// rule, unless the digest is the envelope's, the envelope is sent and unexpired, it is the signer's
/// turn, no newer version exists, the login is fresh, the consent text current and the name the
/// person's. The last signature completes the envelope.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/agreements/{number}/envelope/signatures", tag = "signing",
    params(("id" = String, Path, description = "collaboration id"),
           ("number" = i32, Path, description = "agreement version number")),
    request_body(content = SignatureInput, example = json!({"digest": "…", "consent_text_version": "2026-12-1", "typed_name": "Karin Företagsson"})),
    responses((status = 200, body = EnvelopeView, description = "The signature is recorded"),
              (status = 403, description = "The caller signs for no party of this envelope"),
              (status = 409, description = "Not open, expired, superseded, another digest, not the caller's turn, already signed, or no fresh sign-in"),
              (status = 422, description = "A malformed digest, a name that is not the caller's, or an outdated consent text")))]
pub async fn sign_envelope(
    state: Data,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    who: Authenticated,
    body: JsonBody<SignatureInput>,
) -> Result<HttpResponse, AppError> {
    let (id, n) = path.into_inner();
    let number = number(&n)?;
    let facts = facts(&req, &state);
    let view = blocking(move || {
        let now = state.svc.clock.now();
        let policy = policy(&state);
        let mut view = state.svc.write(|c| {
            signing::sign(
                c,
                &state.svc.rulebooks,
                &policy,
                &who.0,
                &facts,
                &id,
                number,
                body.0,
                now,
            )
        })?;
        after_completion(&state, &mut view)?;
        Ok(view)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// A party declines to sign, with a reason: the envelope ends and everyone is told.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/agreements/{number}/envelope/decline", tag = "signing",
    params(("id" = String, Path, description = "collaboration id"),
           ("number" = i32, Path, description = "agreement version number")),
    request_body(content = DeclineInput, example = json!({"reason": "Klausul 7.3 behöver förhandlas."})),
    responses((status = 200, body = EnvelopeView, description = "The envelope is declined"),
              (status = 403, description = "The caller signs for no party of this envelope"),
              (status = 409, description = "The envelope is not open, or the caller has already signed"),
              (status = 422, description = "No reason given")))]
pub async fn decline_envelope(
    state: Data,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    who: Authenticated,
    body: JsonBody<DeclineInput>,
) -> Result<HttpResponse, AppError> {
    let (id, n) = path.into_inner();
    let number = number(&n)?;
    let lang = super::problem::request_lang(&req);
    let view = blocking(move || {
        let now = state.svc.clock.now();
        state.svc.write(|c| {
            signing::decline(
                c,
                &state.svc.rulebooks,
                &who.0,
                &id,
                number,
                body.0,
                lang,
                now,
            )
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The executed agreement: the version's PDF with its certificate of completion, sealed. Answers 409
/// until every party has signed, and while the seal is being written.
#[utoipa::path(get, path = "/api/v1/collaborations/{id}/agreements/{number}/executed.pdf", tag = "signing",
    params(("id" = String, Path, description = "collaboration id"),
           ("number" = i32, Path, description = "agreement version number")),
    responses((status = 200, description = "the sealed PDF (`X-Content-SHA256`)", content((Vec<u8> = "application/pdf"))),
              (status = 409, description = "Not executed yet, or the executed agreement is being sealed")))]
pub async fn executed_pdf(
    state: Data,
    path: web::Path<(String, String)>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let (id, n) = path.into_inner();
    let number = number(&n)?;
    let (bytes, sha) = blocking(move || {
        state
            .svc
            .read(|c| signing::executed_pdf(c, &state.svc.rulebooks, &who.0, &id, number))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("X-Content-SHA256", sha))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"agreement-{number}-executed.pdf\""),
        ))
        .body(bytes))
}

/// A signing provider's event (issue 14, "An external e-signature service"), delivered by the
/// Standard Webhooks scheme: authenticated by its signature, not a session. `webhook-signature` holds
/// space-separated `v1,<base64 HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}">` entries;
/// any secret configured for the provider may match (several while one is rotated). A timestamp more
/// than 5 minutes from the server's clock is refused; `webhook-id` is the idempotency key (a replay
/// answers 200 with `duplicate: true` and changes nothing). A `signature.completed` event runs the
/// same rules as a signature on the page (the envelope's digest, sent, unexpired, the signer's turn,
/// no newer version) and records evidence with the provider's name as `method` and its `level`; the
/// last signer completes the envelope. A `signature.declined` event declines it.
#[utoipa::path(post, path = "/api/v1/signing/providers/{name}/events", tag = "signing",
    params(("name" = String, Path, description = "the provider's name in `[[signing.providers]]`"),
           ("webhook-id" = String, Header, description = "The event's id: the idempotency key"),
           ("webhook-timestamp" = i64, Header, description = "Unix seconds when the event was sent"),
           ("webhook-signature" = String, Header, description = "Space-separated `v1,<base64 HMAC-SHA256>` signatures")),
    request_body(content = ProviderEvent),
    responses((status = 200, body = EventReceipt, description = "The event was acted on, or is a replay of one that was (`duplicate`)"),
              (status = 400, description = "The body is not valid JSON"),
              (status = 401, description = "A header is missing, the timestamp is more than 5 minutes off, or no signature matches a configured secret"),
              (status = 404, description = "No such provider, collaboration, version or envelope"),
              (status = 409, description = "Refused by a signing rule, named in `rule`: another digest, not open, expired, superseded, not the signer's turn, already signed"),
              (status = 413, description = "The body is larger than 64 KiB (or `server.max_body_bytes`)"),
              (status = 415, description = "The body is not sent as `Content-Type: application/json`"),
              (status = 422, description = "A field is missing or breaks a rule; `errors` names each")))]
pub async fn provider_events(
    state: Data,
    req: HttpRequest,
    path: web::Path<String>,
    mut payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    use futures_util::StreamExt;
    let name = path.into_inner();
    let limit = providers::MAX_EVENT_BYTES.min(state.settings.server.max_body_bytes);
    let too_large = || AppError::PayloadTooLarge(crate::msg!("payload_too_large", limit = limit));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let json = req
        .mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"));
    if !json {
        return Err(AppError::UnsupportedMediaType(crate::msg!(
            "unsupported_media_type"
        )));
    }
    let provider = WebhookProvider::named(&state.settings.signing.providers, &name)
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.signing_provider")))?;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest(crate::msg!("read_body")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let h = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let headers = WebhookHeaders {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
    };
    let receipt = blocking(move || {
        let now = state.svc.clock.now();
        let delivery = provider.verify(&headers, &body, now)?;
        if let Some(r) = state
            .svc
            .read(|c| providers::replay(c, &name, &delivery.id))?
        {
            return Ok(r);
        }
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            AppError::BadRequest(crate::msg!(
                "malformed_json",
                line = e.line(),
                column = e.column()
            ))
        })?;
        let event: ProviderEvent = super::extract::parse_value(value)?;
        let policy = policy(&state);
        let receipt = state.svc.write(|c| {
            providers::handle_event(
                c,
                &state.svc.rulebooks,
                &policy,
                &provider,
                &delivery,
                &body,
                &event,
                now,
            )
        })?;
        if receipt.envelope_status == "completed" && !receipt.duplicate {
            state.sealer.completed(&state.svc);
        }
        Ok(receipt)
    })
    .await?;
    Ok(HttpResponse::Ok().json(receipt))
}

/// The organisation's signing policy: the days an envelope it is a CPUA party to stays open once
/// sent (its own setting, else the default `signing.expiry_days`).
#[utoipa::path(get, path = "/api/v1/organisations/{id}/signing-policy", tag = "signing",
    params(("id" = String, Path, description = "organisation id")),
    responses((status = 200, body = signing::SigningPolicyView),
              (status = 403, description = "Neither the organisation's administrator nor its legal team"),
              (status = 404, description = "Another organisation")))]
pub async fn get_signing_policy(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
) -> Result<HttpResponse, AppError> {
    let org = super::api::org_id(&path)?;
    let view = blocking(move || {
        let policy = policy(&state);
        state
            .svc
            .read(|c| signing::signing_policy(c, &policy, &who.0, &org))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Sets the organisation's envelope expiry (1 to 365 days), used when an envelope it is a CPUA party
/// to is sent; with several CPUAs the shortest applies. Envelopes already sent keep their expiry.
#[utoipa::path(put, path = "/api/v1/organisations/{id}/signing-policy", tag = "signing",
    params(("id" = String, Path, description = "organisation id")),
    request_body(content = signing::SigningPolicyInput, example = json!({"expiry_days": 14})),
    responses((status = 200, body = signing::SigningPolicyView),
              (status = 403, description = "Neither the organisation's administrator nor its legal team"),
              (status = 404, description = "Another organisation"),
              (status = 422, description = "expiry_days outside 1 to 365")))]
pub async fn set_signing_policy(
    state: Data,
    path: web::Path<String>,
    who: Authenticated,
    body: JsonBody<signing::SigningPolicyInput>,
) -> Result<HttpResponse, AppError> {
    let org = super::api::org_id(&path)?;
    let view = blocking(move || {
        let policy = policy(&state);
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| signing::set_signing_policy(c, &policy, &who.0, &org, body.0, now))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
