//! The diesel schema, one for both backends (the migrations keep the two in step).
diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        org_number -> Text,
        vat_number -> Nullable<Text>,
        address -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    accounts (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        email -> Text,
        email_verified -> Bool,
        issuer -> Nullable<Text>,
        subject -> Nullable<Text>,
        is_demo -> Bool,
        created_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
        /// The person's language for mail: `sv` (default) or `en`.
        language -> Text,
        /// Whether the person wants notices that are not deadlines.
        notices -> Bool,
    }
}

diesel::table! {
    memberships (id) {
        id -> Text,
        account_id -> Text,
        organisation_id -> Text,
        role -> Text,
        source -> Text,
        granted_at -> Timestamp,
        granted_by -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        account_id -> Text,
        membership_id -> Nullable<Text>,
        kind -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        idle_timeout_seconds -> Nullable<BigInt>,
        csrf_hash -> Nullable<Text>,
        provider -> Nullable<Text>,
        auth_time -> Nullable<Timestamp>,
        acr -> Nullable<Text>,
        amr -> Nullable<Text>,
        id_token_hint -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        key_hash -> Text,
        organisation_id -> Text,
        name -> Text,
        scope -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        email -> Text,
        organisation_id -> Text,
        role -> Text,
        invited_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        accepted_by -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    registers (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        is_example -> Bool,
        created_at -> Timestamp,
        patient_information_covers_research -> Bool,
    }
}

diesel::table! {
    register_cpua (id) {
        id -> BigInt,
        register_id -> Text,
        cpua_id -> Text,
        valid_from -> Timestamp,
        valid_to -> Nullable<Timestamp>,
    }
}

diesel::table! {
    collaborations (id) {
        id -> Text,
        reference -> Text,
        title -> Text,
        step -> Text,
        company_id -> Text,
        principal_id -> Nullable<Text>,
        version -> BigInt,
        /// The state as JSON text; written empty since `state_z` holds it (a non-empty `state`, as
        /// every row before migration `2026-12-10-000032_scale_extra` has, is read as before).
        state -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// The type in force (legal's override, else the rulebook's), written with every state.
        collaboration_type -> Nullable<Text>,
        /// The state packed (`db::packed`).
        state_z -> Nullable<Binary>,
    }
}

diesel::table! {
    collaboration_registers (collaboration_id, register_id) {
        collaboration_id -> Text,
        register_id -> Text,
        /// The collaboration's `created_at`, copied so the list by register reads one index in order.
        created_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Who may see a collaboration (the rule of `app::authz::can_see`), one row per organisation.
    collaboration_access (collaboration_id, org_id) {
        org_id -> Text,
        collaboration_id -> Text,
        created_at -> Timestamp,
        is_company -> Integer,
        is_principal -> Integer,
        is_cpua -> Integer,
        next_due_on -> Nullable<Date>,
        step_no -> Integer,
    }
}

diesel::table! {
    cpua_reviews (collaboration_id, cpua_id) {
        collaboration_id -> Text,
        cpua_id -> Text,
        status -> Text,
        decision_due_on -> Nullable<Date>,
    }
}

diesel::table! {
    /// One row per deadline a command opened (the deadline projection, `app::deadlines`).
    deadlines (collaboration_id, code, track) {
        collaboration_id -> Text,
        code -> Text,
        track -> Text,
        due_on -> Date,
        first_reminder_on -> Date,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        stream -> Text,
        seq -> BigInt,
        schema_version -> Integer,
        occurred_at -> Timestamp,
        actor_account -> Text,
        actor_name -> Text,
        actor_org -> Nullable<Text>,
        actor_role -> Text,
        command -> Text,
        visibility -> Text,
        before_state -> Nullable<Text>,
        after_state -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
        change_patch -> Nullable<Text>,
        state_hash -> Nullable<Text>,
        files -> Nullable<Text>,
        /// Version 3: the change, raw DEFLATE of its JSON text (`change_patch` is then NULL).
        change_z -> Nullable<Binary>,
    }
}

diesel::table! {
    audit_checkpoints (id) {
        id -> BigInt,
        stream -> Text,
        seq -> BigInt,
        hash -> Text,
        signed_at -> Timestamp,
        key_id -> Text,
        signature -> Text,
    }
}

diesel::joinable!(memberships -> organisations (organisation_id));
diesel::joinable!(memberships -> accounts (account_id));
diesel::joinable!(sessions -> accounts (account_id));
diesel::joinable!(sessions -> memberships (membership_id));
diesel::joinable!(api_keys -> organisations (organisation_id));
diesel::joinable!(api_keys -> accounts (created_by));
diesel::joinable!(register_cpua -> registers (register_id));
diesel::joinable!(register_cpua -> organisations (cpua_id));
diesel::joinable!(collaboration_registers -> collaborations (collaboration_id));
diesel::joinable!(collaboration_registers -> registers (register_id));
diesel::joinable!(cpua_reviews -> collaborations (collaboration_id));
diesel::joinable!(deadlines -> collaborations (collaboration_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    accounts,
    memberships,
    sessions,
    api_keys,
    invitations,
    registers,
    register_cpua,
    collaborations,
    collaboration_registers,
    collaboration_access,
    cpua_reviews,
    deadlines,
    counters,
    audit_events,
    audit_checkpoints,
);

diesel::table! {
    agreement_versions (collaboration_id, number) {
        collaboration_id -> Text,
        number -> Integer,
        language -> Text,
        created_at -> Timestamp,
        created_by -> Text,
        template_version -> Text,
        rulebook_version -> Text,
        terms -> Text,
        data -> Text,
        document -> Text,
        docx -> Binary,
        pdf -> Binary,
        html -> Binary,
        docx_sha256 -> Text,
        pdf_sha256 -> Text,
        html_sha256 -> Text,
    }
}

diesel::joinable!(agreement_versions -> collaborations (collaboration_id));
diesel::allow_tables_to_appear_in_same_query!(agreement_versions, collaborations);

diesel::table! {
    release_delegations (id) {
        id -> Text,
        register_id -> Text,
        cpua_id -> Text,
        delegate_kind -> Text,
        delegate_account_id -> Nullable<Text>,
        delegate_name -> Nullable<Text>,
        delegated_on -> Date,
        reference -> Text,
        revoked_on -> Nullable<Date>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_attempts (state_hash) {
        state_hash -> Text,
        provider -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        next_path -> Text,
        step_up_session -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// The transactional outbox: one mail to one person, written with the change it tells of.
    outbox (id) {
        id -> Text,
        collaboration_id -> Nullable<Text>,
        event -> Text,
        kind -> Text,
        dedup_key -> Nullable<Text>,
        recipient_account -> Text,
        recipient_name -> Text,
        recipient_org -> Text,
        recipient_role -> Text,
        recipient_email -> Nullable<Text>,
        language -> Text,
        data -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    signing_envelopes (id) {
        id -> Text,
        collaboration_id -> Text,
        seq -> Integer,
        version -> Integer,
        digest -> Text,
        status -> Text,
        order_mode -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        created_by -> Text,
        sent_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        end_reason -> Nullable<Text>,
        decline_reason -> Nullable<Text>,
        reminders_sent -> Integer,
        executed_pdf -> Nullable<Binary>,
        executed_pdf_sha256 -> Nullable<Text>,
        executed_seal_certificate -> Nullable<Text>,
    }
}

diesel::table! {
    signing_signers (id) {
        id -> Text,
        envelope_id -> Text,
        position -> Integer,
        party_role -> Text,
        organisation_id -> Text,
        organisation_name -> Text,
        capacity -> Text,
        turn_group -> Integer,
        status -> Text,
        signed_at -> Nullable<Timestamp>,
        signed_by -> Nullable<Text>,
        signer_name -> Nullable<Text>,
        signer_email -> Nullable<Text>,
    }
}

diesel::table! {
    signing_evidence (id) {
        id -> Text,
        envelope_id -> Text,
        signer_id -> Text,
        collaboration_id -> Text,
        version -> Integer,
        method -> Text,
        level -> Text,
        provider -> Text,
        subject -> Text,
        auth_time -> Nullable<Timestamp>,
        acr -> Nullable<Text>,
        amr -> Nullable<Text>,
        account_id -> Text,
        name -> Text,
        email -> Text,
        organisation_id -> Text,
        organisation_name -> Text,
        capacity -> Text,
        typed_name -> Text,
        consent_version -> Text,
        consent_language -> Text,
        consent_sha256 -> Text,
        digest -> Text,
        server_time -> Timestamp,
        client_ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::joinable!(signing_signers -> signing_envelopes (envelope_id));
diesel::joinable!(signing_evidence -> signing_signers (signer_id));
diesel::allow_tables_to_appear_in_same_query!(signing_envelopes, signing_signers, signing_evidence);

diesel::table! {
    webhook_events (provider, event_id) {
        provider -> Text,
        event_id -> Text,
        event_type -> Text,
        collaboration_id -> Text,
        agreement_version -> Integer,
        envelope_id -> Text,
        outcome -> Text,
        body_sha256 -> Text,
        sent_at -> Timestamp,
        received_at -> Timestamp,
    }
}

diesel::table! {
    documents (id) {
        id -> Text,
        collaboration_id -> Text,
        doc_type -> Text,
        visibility -> Text,
        file_name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        storage_key -> Text,
        uploaded_by -> Text,
        uploaded_by_name -> Text,
        organisation_id -> Text,
        organisation_name -> Text,
        uploaded_at -> Timestamp,
        redacted_at -> Nullable<Timestamp>,
        redacted_by -> Nullable<Text>,
        redacted_by_name -> Nullable<Text>,
        redacted_by_organisation -> Nullable<Text>,
        redaction_reason -> Nullable<Text>,
    }
}

diesel::table! {
    document_links (document_id, item) {
        document_id -> Text,
        item -> Text,
        linked_by -> Text,
        linked_at -> Timestamp,
    }
}

diesel::table! {
    document_blobs (storage_key) {
        storage_key -> Text,
        bytes -> Binary,
    }
}

diesel::joinable!(document_links -> documents (document_id));
diesel::allow_tables_to_appear_in_same_query!(documents, document_links);

// Case handling (issue 16, items 2-5).
diesel::table! {
    completion_requests (id) {
        id -> Text,
        collaboration_id -> Text,
        cpua_id -> Text,
        items -> Text,
        due_on -> Date,
        requested_by -> Text,
        requested_at -> Timestamp,
        snapshot -> Text,
        answers -> Nullable<Text>,
        answered_by -> Nullable<Text>,
        answered_at -> Nullable<Timestamp>,
        resubmitted_snapshot -> Nullable<Text>,
    }
}

diesel::table! {
    consultations (id) {
        id -> Text,
        collaboration_id -> Text,
        cpua_id -> Text,
        addressee_kind -> Text,
        addressee_org -> Nullable<Text>,
        addressee_role -> Nullable<Text>,
        addressee_email -> Nullable<Text>,
        addressee_name -> Nullable<Text>,
        question -> Text,
        due_on -> Date,
        requested_by -> Text,
        requested_at -> Timestamp,
        answer -> Nullable<Text>,
        answered_on -> Nullable<Date>,
        answered_by -> Nullable<Text>,
        recorded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    case_files (collaboration_id, cpua_id) {
        collaboration_id -> Text,
        cpua_id -> Text,
        case_number -> Nullable<Text>,
        assignee -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    data_users (id) {
        id -> Text,
        collaboration_id -> Text,
        name -> Text,
        email -> Text,
        project_role -> Text,
        status -> Text,
        added_by -> Text,
        added_by_name -> Text,
        added_by_org -> Text,
        added_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_by_name -> Nullable<Text>,
        decided_by_org -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        refusal_reason -> Nullable<Text>,
        removed_by -> Nullable<Text>,
        removed_by_name -> Nullable<Text>,
        removed_at -> Nullable<Timestamp>,
        removal_reason -> Nullable<Text>,
        undertaking_account -> Nullable<Text>,
        undertaking_at -> Nullable<Timestamp>,
        undertaking_version -> Nullable<Text>,
        undertaking_sha256 -> Nullable<Text>,
    }
}
// Outbound events (issue 16, item 8): webhook subscriptions and their deliveries.
diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        organisation_id -> Text,
        url -> Text,
        event_types -> Text,
        description -> Text,
        secret -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        subscription_id -> Text,
        event_id -> Text,
        event_type -> Text,
        collaboration_id -> Nullable<Text>,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_subscriptions (subscription_id));
diesel::allow_tables_to_appear_in_same_query!(webhook_subscriptions, webhook_deliveries);

// Billing of extraction work (issue 15, items 2-4 and 6).
diesel::table! {
    work_log_lines (id) {
        id -> Text,
        collaboration_id -> Text,
        cpua_id -> Text,
        person_name -> Text,
        worked_on -> Date,
        activity -> Text,
        kind -> Text,
        hours_hundredths -> BigInt,
        rate_ore -> Nullable<BigInt>,
        amount_ore -> BigInt,
        status -> Text,
        logged_by -> Text,
        logged_at -> Timestamp,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        ceiling_reason -> Nullable<Text>,
        invoice_id -> Nullable<Text>,
    }
}

diesel::table! {
    invoice_series (cpua_id, year) {
        cpua_id -> Text,
        year -> Integer,
        next_number -> BigInt,
    }
}

diesel::table! {
    invoices (id) {
        id -> Text,
        kind -> Text,
        credits_invoice_id -> Nullable<Text>,
        number -> Nullable<Text>,
        status -> Text,
        cpua_id -> Text,
        collaboration_id -> Text,
        buyer_org_id -> Text,
        buyer_name -> Text,
        buyer_org_number -> Text,
        buyer_vat_number -> Nullable<Text>,
        buyer_country -> Text,
        buyer_reference -> Nullable<Text>,
        order_number -> Nullable<Text>,
        parties -> Text,
        payment_terms_days -> Integer,
        issue_date -> Nullable<Date>,
        due_date -> Nullable<Date>,
        ocr -> Nullable<Text>,
        currency -> Text,
        vat_treatment -> Nullable<Text>,
        net_ore -> BigInt,
        vat_ore -> BigInt,
        gross_ore -> BigInt,
        note -> Nullable<Text>,
        document -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        issued_by -> Nullable<Text>,
        issued_at -> Nullable<Timestamp>,
        revision -> Integer,
    }
}

diesel::table! {
    invoice_lines (invoice_id, line_number) {
        invoice_id -> Text,
        line_number -> Integer,
        description -> Text,
        quantity_hundredths -> BigInt,
        unit_code -> Text,
        unit_price_ore -> BigInt,
        net_ore -> BigInt,
        work_log_line_id -> Nullable<Text>,
    }
}

diesel::table! {
    invoice_files (invoice_id, kind) {
        invoice_id -> Text,
        kind -> Text,
        bytes -> Binary,
        sha256 -> Text,
    }
}

diesel::table! {
    signing_policies (organisation_id) {
        organisation_id -> Text,
        expiry_days -> Integer,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::table! {
    signing_party_rules (envelope_id, organisation_id) {
        envelope_id -> Text,
        organisation_id -> Text,
        rule -> Text,
    }
}

diesel::joinable!(signing_party_rules -> signing_envelopes (envelope_id));
diesel::allow_tables_to_appear_in_same_query!(signing_party_rules, signing_envelopes);

diesel::table! {
    payment_imports (id) {
        id -> Text,
        cpua_id -> Text,
        sha256 -> Text,
        message_id -> Nullable<Text>,
        entries -> Integer,
        matched -> Integer,
        unmatched -> Integer,
        already_recorded -> Integer,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        cpua_id -> Text,
        invoice_id -> Nullable<Text>,
        amount_ore -> BigInt,
        currency -> Text,
        value_date -> Date,
        bank_reference -> Text,
        ocr_reference -> Nullable<Text>,
        unmatched_reason -> Nullable<Text>,
        source -> Text,
        import_id -> Nullable<Text>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
        payer_name -> Nullable<Text>,
    }
}

diesel::table! {
    invoice_reminders (invoice_id, round) {
        invoice_id -> Text,
        round -> Integer,
        sent_on -> Date,
        balance_ore -> BigInt,
        recorded_at -> Timestamp,
    }
}

// Issue 15, item 5: an unmatched payment placed on an invoice later (append-only).
diesel::table! {
    payment_allocations (id) {
        id -> Text,
        payment_id -> Text,
        invoice_id -> Text,
        cpua_id -> Text,
        amount_ore -> BigInt,
        allocated_by -> Text,
        allocated_at -> Timestamp,
    }
}

diesel::joinable!(payments -> invoices (invoice_id));
diesel::joinable!(payments -> payment_imports (import_id));
diesel::joinable!(invoice_reminders -> invoices (invoice_id));
diesel::joinable!(payment_allocations -> payments (payment_id));
diesel::allow_tables_to_appear_in_same_query!(
    payments,
    invoices,
    payment_imports,
    invoice_reminders,
    payment_allocations
);

// Issue 15, item 2: the receipt (a case document) of an expense line.
diesel::table! {
    work_log_receipts (work_log_line_id) {
        work_log_line_id -> Text,
        document_id -> Text,
        attached_by -> Text,
        attached_at -> Timestamp,
    }
}

diesel::table! {
    signing_seal_jobs (id) {
        id -> Text,
        collaboration_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        done_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    signing_seal_certificates (sha256) {
        sha256 -> Text,
        certificate -> Binary,
        organisation -> Text,
        first_used_at -> Timestamp,
    }
}
