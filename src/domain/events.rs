//! Every event type, and who may see it. The match below is exhaustive: a new command kind or event
//! type does not compile until it is declared party-visible or internal (DESIGN.md).
use super::audit::Visibility;
use super::lifecycle::CommandKind;

/// The type of an audit event (händelsetyp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    CollaborationCreated,
    Command(CommandKind),
    /// The classification was recomputed because facts changed (old and new are recorded).
    ClassificationChanged,
    /// A new immutable agreement version was rendered.
    AgreementVersionCreated,
    /// CPUA legal replaced a clause's text for this agreement (a new version records it).
    AgreementDeviationAdded,
    OrganisationCreated,
    RegisterCreated,
    RegisterMoved,
    /// CPUA legal recorded a written delegation of release decisions for a register.
    DelegationRecorded,
    /// CPUA legal revoked a delegation.
    DelegationRevoked,
    /// An administrator recorded whether a register's patient information covers research.
    RegisterPatientInformationChanged,
    AccountCreated,
    /// A sign-in through an OpenID provider gave a person a role: an invitation bound to their
    /// verified e-mail, a bootstrap administrator, or an organisation and role the provider asserts.
    SignInMembershipGranted,
    /// A role the provider asserted before is no longer asserted at this sign-in, and is revoked.
    SignInMembershipRevoked,
    /// A person was invited by e-mail to a role in an organisation.
    InvitationCreated,
    /// An open invitation was withdrawn.
    InvitationRevoked,
    /// A person was given a role in an organisation.
    MembershipGranted,
    /// A role was taken from a person; its sessions ended with it.
    MembershipRevoked,
    /// A company representative created an API key for a company system.
    ApiKeyCreated,
    /// An API key was revoked.
    ApiKeyRevoked,
    /// A person switched the role their session acts in.
    ActiveMembershipChanged,
    /// A person changed their mail language or turned notices on or off.
    NotificationPreferencesChanged,
    /// CPUA legal drew (or, while a draft, changed) the signing envelope of an agreement version.
    EnvelopeDrafted,
    /// The envelope was sent to its signers.
    EnvelopeSent,
    /// A party signed: the evidence of the signature.
    SignatureRecorded,
    /// Every signer signed: the version is executed.
    EnvelopeCompleted,
    /// A party declined to sign, with a reason.
    EnvelopeDeclined,
    /// An open envelope was voided: a newer version, or its signers changed after sending.
    EnvelopeVoided,
    /// The envelope expired unsigned.
    EnvelopeExpired,
    /// A document every party sees was uploaded to the case (issue 16).
    DocumentUploaded,
    /// A document was said to satisfy a dossier item or an obligation.
    DocumentLinked,
    /// A document's bytes were removed; its tombstone says who, when and why.
    DocumentRedacted,
    /// As the three above, for a document internal to the uploading organisation.
    InternalDocumentUploaded,
    InternalDocumentLinked,
    InternalDocumentRedacted,
    /// Issue 16: CPUA legal asked for an opinion (remiss) with a due date.
    ConsultationRequested,
    /// Issue 16: the opinion was recorded (by its addressee, or by legal as received).
    ConsultationAnswered,
    /// Issue 16: a CPUA's handling lawyer of the case was assigned or changed.
    CaseAssigned,
    /// Issue 16: a CPUA recorded its own case number (diarienummer).
    CaseNumberSet,
    /// Issue 16 item 6: a party named a person who may access the data.
    DataUserAdded,
    /// CPUA legal approved an addition made after release.
    DataUserApproved,
    /// CPUA legal refused an addition made after release, with a reason.
    DataUserRefused,
    /// A named person was removed; the record stays.
    DataUserRemoved,
    /// The named person confirmed their own confidentiality undertaking.
    DataUserUndertakingConfirmed,
    /// Issue 15: a line of work or a direct expense was logged against the cost agreement.
    WorkLogged,
    /// Issue 15: the register holder or finance approved a work-log line.
    WorkApproved,
    /// Issue 15: finance drew a draft invoice from approved lines.
    InvoiceDrafted,
    /// Issue 15: an invoice got its number and its stored renderings.
    InvoiceIssued,
    /// Issue 15: a credit note was issued against an invoice.
    CreditNoteIssued,
    /// Issue 16 item 8: an organisation subscribed a system to outbound events (never the secret).
    WebhookSubscriptionCreated,
    /// Issue 16 item 8: an organisation's subscription was deleted.
    WebhookSubscriptionDeleted,
    /// Issue 15: a payment of an invoice was recorded (by hand or from a camt.054 file).
    PaymentRecorded,
    /// Issue 15: an unmatched payment (its OCR matched nothing) was placed on an invoice, in part or
    /// in whole; append-only, never undone.
    PaymentAllocated,
    /// Issue 15: an overdue invoice's reminder was sent to the buyer and finance.
    InvoiceReminderSent,
    /// Issue 14: a CPUA's administrator or legal team set its envelope expiry (signing policy).
    SigningPolicySet,
    /// Issue 15: a receipt (a case document) was attached to an expense line.
    WorkReceiptAttached,
    /// Issue 15: finance edited a draft invoice (references, terms, the lines it holds).
    InvoiceDraftEdited,
    /// Issue 14: the seal job appended the certificate of completion to a completed envelope's
    /// version PDF and sealed it (the executed agreement's hash, the seal certificate, whether a
    /// timestamp authority's token is in it).
    ExecutedAgreementSealed,
}

impl EventType {
    pub fn code(self) -> &'static str {
        match self {
            EventType::CollaborationCreated => "collaboration_created",
            EventType::ClassificationChanged => "classification_changed",
            EventType::AgreementVersionCreated => "agreement_version_created",
            EventType::AgreementDeviationAdded => "agreement_deviation_added",
            EventType::Command(k) => k.code(),
            EventType::OrganisationCreated => "organisation_created",
            EventType::RegisterCreated => "register_created",
            EventType::RegisterMoved => "register_moved",
            EventType::DelegationRecorded => "delegation_recorded",
            EventType::DelegationRevoked => "delegation_revoked",
            EventType::RegisterPatientInformationChanged => "register_patient_information_changed",
            EventType::AccountCreated => "account_created",
            EventType::SignInMembershipGranted => "sign_in_membership_granted",
            EventType::SignInMembershipRevoked => "sign_in_membership_revoked",
            EventType::InvitationCreated => "invitation_created",
            EventType::InvitationRevoked => "invitation_revoked",
            EventType::MembershipGranted => "membership_granted",
            EventType::MembershipRevoked => "membership_revoked",
            EventType::ApiKeyCreated => "api_key_created",
            EventType::ApiKeyRevoked => "api_key_revoked",
            EventType::ActiveMembershipChanged => "active_membership_changed",
            EventType::NotificationPreferencesChanged => "notification_preferences_changed",
            EventType::EnvelopeDrafted => "envelope_drafted",
            EventType::EnvelopeSent => "envelope_sent",
            EventType::SignatureRecorded => "signature_recorded",
            EventType::EnvelopeCompleted => "envelope_completed",
            EventType::EnvelopeDeclined => "envelope_declined",
            EventType::EnvelopeVoided => "envelope_voided",
            EventType::EnvelopeExpired => "envelope_expired",
            EventType::DocumentUploaded => "document_uploaded",
            EventType::DocumentLinked => "document_linked",
            EventType::DocumentRedacted => "document_redacted",
            EventType::InternalDocumentUploaded => "internal_document_uploaded",
            EventType::InternalDocumentLinked => "internal_document_linked",
            EventType::InternalDocumentRedacted => "internal_document_redacted",
            EventType::ConsultationRequested => "consultation_requested",
            EventType::ConsultationAnswered => "consultation_answered",
            EventType::CaseAssigned => "case_assigned",
            EventType::CaseNumberSet => "case_number_set",
            EventType::DataUserAdded => "data_user_added",
            EventType::DataUserApproved => "data_user_approved",
            EventType::DataUserRefused => "data_user_refused",
            EventType::DataUserRemoved => "data_user_removed",
            EventType::DataUserUndertakingConfirmed => "data_user_undertaking_confirmed",
            EventType::WorkLogged => "work_logged",
            EventType::WorkApproved => "work_approved",
            EventType::InvoiceDrafted => "invoice_drafted",
            EventType::InvoiceIssued => "invoice_issued",
            EventType::CreditNoteIssued => "credit_note_issued",
            EventType::WebhookSubscriptionCreated => "webhook_subscription_created",
            EventType::WebhookSubscriptionDeleted => "webhook_subscription_deleted",
            EventType::PaymentRecorded => "payment_recorded",
            EventType::PaymentAllocated => "payment_allocated",
            EventType::InvoiceReminderSent => "invoice_reminder_sent",
            EventType::SigningPolicySet => "signing_policy_set",
            EventType::WorkReceiptAttached => "work_receipt_attached",
            EventType::InvoiceDraftEdited => "invoice_draft_edited",
            EventType::ExecutedAgreementSealed => "executed_agreement_sealed",
        }
    }

    pub fn visibility(self) -> Visibility {
        use CommandKind::*;
        match self {
            EventType::CollaborationCreated
            | EventType::ClassificationChanged
            | EventType::AgreementVersionCreated
            | EventType::AgreementDeviationAdded => Visibility::Party,
            // Signing concerns every party: each sees who signed, how and when.
            EventType::EnvelopeDrafted
            | EventType::EnvelopeSent
            | EventType::SignatureRecorded
            | EventType::EnvelopeCompleted
            | EventType::EnvelopeDeclined
            | EventType::EnvelopeVoided
            | EventType::EnvelopeExpired
            | EventType::ExecutedAgreementSealed => Visibility::Party,
            // A document is seen as its own visibility says: an internal one's events stay inside the
            // uploading organisation.
            EventType::DocumentUploaded
            | EventType::DocumentLinked
            | EventType::DocumentRedacted => Visibility::Party,
            EventType::InternalDocumentUploaded
            | EventType::InternalDocumentLinked
            | EventType::InternalDocumentRedacted => Visibility::Internal,
            EventType::Command(k) => match k {
                UpdateDetails
                | ToRegisterContact
                | RecordFeasibility
                | ToEthicsReview
                | RecordEthicsApproval
                | ToDataApplication
                | ToReleaseDecision
                | ReconsiderDecision
                | RecordAppealOutcome
                | RecordCostAgreement
                | RecordDataProcessingAgreement
                | RecordThirdCountryAssessment
                | RecordIdentityNumberJustification
                | RecordCoordination
                | RecordRetrospectiveConsent
                | RecordLinkageApplication
                | RecordLinkageDecision
                | ToAgreement
                | ToDataRelease
                | RecordPublication
                | RecordReportBack
                | ToResults
                | ToArchiving
                | ConfirmDisposal
                | RecordKeyFileDeleted
                | ToClosed
                | ToWithdrawn
                | OpenAmendment
                | RecordAmendmentEthics
                | SubmitAmendmentApplication
                | DecideAmendment
                | RecordAmendmentAgreement
                | ReleaseAmendmentData
                | OverrideClassification
                | ReturnForCompletion
                | ResubmitApplication
                | EndUsagePeriod => Visibility::Party,
                // A lawyer's recommendation and an internal note stay inside their organisation.
                RecommendDecision | AddInternalNote => Visibility::Internal,
            },
            EventType::OrganisationCreated
            | EventType::RegisterCreated
            | EventType::RegisterMoved
            | EventType::DelegationRecorded
            | EventType::DelegationRevoked
            | EventType::RegisterPatientInformationChanged
            | EventType::AccountCreated
            | EventType::SignInMembershipGranted
            | EventType::SignInMembershipRevoked
            | EventType::InvitationCreated
            | EventType::InvitationRevoked
            | EventType::MembershipGranted
            | EventType::MembershipRevoked
            | EventType::ApiKeyCreated
            | EventType::ApiKeyRevoked
            | EventType::ActiveMembershipChanged
            | EventType::NotificationPreferencesChanged => Visibility::Internal,
            // Issue 16: a CPUA's consultations, its lawyer and its case number are its own handling.
            EventType::ConsultationRequested
            | EventType::ConsultationAnswered
            | EventType::CaseAssigned
            | EventType::CaseNumberSet => Visibility::Internal,
            // Who may access the data concerns every party and the CPUAs alike.
            EventType::DataUserAdded
            | EventType::DataUserApproved
            | EventType::DataUserRefused
            | EventType::DataUserRemoved
            | EventType::DataUserUndertakingConfirmed => Visibility::Party,
            // Issue 15: the CPUA's work log and its invoicing are its own bookkeeping.
            EventType::WorkLogged
            | EventType::WorkApproved
            | EventType::InvoiceDrafted
            | EventType::InvoiceIssued
            | EventType::CreditNoteIssued => Visibility::Internal,
            // Issue 16 item 8: where an organisation's own systems hear from is its own business.
            EventType::WebhookSubscriptionCreated | EventType::WebhookSubscriptionDeleted => {
                Visibility::Internal
            }
            EventType::PaymentRecorded
            | EventType::PaymentAllocated
            | EventType::InvoiceReminderSent => Visibility::Internal,
            // Issue 14: an organisation's signing policy is its own setting.
            EventType::SigningPolicySet => Visibility::Internal,
            // Issue 15: receipts and draft edits are the CPUA's own bookkeeping.
            EventType::WorkReceiptAttached | EventType::InvoiceDraftEdited => Visibility::Internal,
        }
    }

    /// Every event type there is.
    pub fn all() -> Vec<EventType> {
        let mut v = vec![
            EventType::CollaborationCreated,
            EventType::ClassificationChanged,
            EventType::AgreementVersionCreated,
            EventType::AgreementDeviationAdded,
            EventType::OrganisationCreated,
            EventType::RegisterCreated,
            EventType::RegisterMoved,
            EventType::DelegationRecorded,
            EventType::DelegationRevoked,
            EventType::RegisterPatientInformationChanged,
            EventType::AccountCreated,
            EventType::SignInMembershipGranted,
            EventType::SignInMembershipRevoked,
            EventType::InvitationCreated,
            EventType::InvitationRevoked,
            EventType::MembershipGranted,
            EventType::MembershipRevoked,
            EventType::ApiKeyCreated,
            EventType::ApiKeyRevoked,
            EventType::ActiveMembershipChanged,
            EventType::NotificationPreferencesChanged,
            EventType::EnvelopeDrafted,
            EventType::EnvelopeSent,
            EventType::SignatureRecorded,
            EventType::EnvelopeCompleted,
            EventType::EnvelopeDeclined,
            EventType::EnvelopeVoided,
            EventType::EnvelopeExpired,
            EventType::DocumentUploaded,
            EventType::DocumentLinked,
            EventType::DocumentRedacted,
            EventType::InternalDocumentUploaded,
            EventType::InternalDocumentLinked,
            EventType::InternalDocumentRedacted,
            EventType::ConsultationRequested,
            EventType::ConsultationAnswered,
            EventType::CaseAssigned,
            EventType::CaseNumberSet,
            EventType::DataUserAdded,
            EventType::DataUserApproved,
            EventType::DataUserRefused,
            EventType::DataUserRemoved,
            EventType::DataUserUndertakingConfirmed,
            EventType::WorkLogged,
            EventType::WorkApproved,
            EventType::InvoiceDrafted,
            EventType::InvoiceIssued,
            EventType::CreditNoteIssued,
            EventType::WebhookSubscriptionCreated,
            EventType::WebhookSubscriptionDeleted,
            EventType::PaymentRecorded,
            EventType::PaymentAllocated,
            EventType::InvoiceReminderSent,
            EventType::SigningPolicySet,
            EventType::WorkReceiptAttached,
            EventType::InvoiceDraftEdited,
            EventType::ExecutedAgreementSealed,
        ];
        v.extend(CommandKind::ALL.iter().copied().map(EventType::Command));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_event_type_has_a_unique_code_and_a_visibility() {
        let all = EventType::all();
        let codes: BTreeSet<&str> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), all.len(), "event codes must be unique");
        // Internal notes never reach the parties.
        assert_eq!(
            EventType::Command(CommandKind::AddInternalNote).visibility(),
            Visibility::Internal
        );
        assert_eq!(
            EventType::Command(CommandKind::RecommendDecision).visibility(),
            Visibility::Internal
        );
        assert_eq!(
            EventType::Command(CommandKind::ToReleaseDecision).visibility(),
            Visibility::Party
        );
    }
}
