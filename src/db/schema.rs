//! The diesel schema, written by hand to match `migrations/{sqlite,postgres}/` (both backends share it).
#![allow(missing_docs)]

diesel::table! {
    peer_groups (id) {
        id -> BigInt,
        name -> Text,
    }
}

diesel::table! {
    units (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        kind -> Text,
        parent_code -> Nullable<Text>,
        peer_group -> Text,
        predecessor_code -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    unit_heads (id) {
        id -> BigInt,
        unit_id -> BigInt,
        name -> Text,
        from_date -> Date,
        to_date -> Nullable<Date>,
    }
}

diesel::table! {
    enterprises (id) {
        id -> BigInt,
        uscc -> Text,
        name -> Text,
        email -> Nullable<Text>,
        district -> Text,
        industry -> Text,
        size -> Text,
        mail_status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    campaigns (id) {
        id -> BigInt,
        period -> Text,
        state -> Text,
        template_name -> Text,
        template_toml -> Text,
        opens_on -> Date,
        closes_on -> Date,
        sample_size -> Nullable<BigInt>,
        sample_seed -> Nullable<BigInt>,
        created_at -> Timestamp,
        opened_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        discard_reason -> Nullable<Text>,
        ballot_public_key -> Nullable<Binary>,
        ballot_suite -> Nullable<Text>,
        ballot_units -> Nullable<Integer>,
        ballot_comment_chars -> Nullable<Integer>,
        scrub_pending -> Bool,
        unopenable_excluded -> Nullable<BigInt>,
        weighted -> Nullable<Bool>,
        raking_report -> Nullable<Text>,
    }
}

diesel::table! {
    /// Failed sign-ins per name, account or not (migration 000009), by a digest of the name.
    sign_in_names (name_digest) {
        name_digest -> Text,
        failed_attempts -> Integer,
        last_failed_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Survey views per campaign and day (migration 000008); nothing per invitation.
    survey_views (campaign_id, day) {
        campaign_id -> BigInt,
        day -> Date,
        views -> BigInt,
    }
}

diesel::table! {
    interactions (id) {
        id -> BigInt,
        period -> Text,
        enterprise_id -> BigInt,
        unit_id -> BigInt,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        campaign_id -> BigInt,
        enterprise_id -> BigInt,
        token_hash -> Text,
        link_version -> Integer,
        status -> Text,
        issued_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        reminders_sent -> Integer,
        last_reminded_at -> Nullable<Timestamp>,
        failure -> Nullable<Text>,
        answered -> Bool,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        invitation_id -> BigInt,
        kind -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        message_id -> Text,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    responses (id) {
        id -> BigInt,
        campaign_id -> BigInt,
        respondent_key -> Text,
        size -> Text,
        industry -> Text,
        district -> Text,
        submitted_on -> Date,
    }
}

diesel::table! {
    ratings (id) {
        id -> BigInt,
        response_id -> Nullable<BigInt>,
        unit_id -> BigInt,
        self_selected -> Bool,
        answers -> Text,
        problems -> Text,
        comment -> Nullable<Text>,
        comment_hidden_reason -> Nullable<Text>,
        comment_hidden_at -> Nullable<Timestamp>,
        comment_hidden_by -> Nullable<Text>,
        campaign_id -> BigInt,
        size -> Text,
        industry -> Text,
        district -> Text,
        comment_review -> Text,
        weight -> Nullable<Double>,
    }
}

diesel::table! {
    aggregations (id) {
        id -> BigInt,
        campaign_id -> BigInt,
        method_version -> Text,
        seed -> BigInt,
        settings -> Text,
        computed_at -> Timestamp,
        result_json -> Text,
    }
}

diesel::table! {
    peer_group_results (id) {
        id -> BigInt,
        aggregation_id -> BigInt,
        peer_group -> Text,
        tau2 -> Nullable<Double>,
        mu -> Nullable<Double>,
    }
}

diesel::table! {
    unit_results (id) {
        id -> BigInt,
        aggregation_id -> BigInt,
        unit_id -> BigInt,
        peer_group -> Text,
        n -> BigInt,
        n_eff -> Double,
        response_rate -> Nullable<Double>,
        score -> Nullable<Double>,
        ci_low -> Nullable<Double>,
        ci_high -> Nullable<Double>,
        satisfied_rate -> Nullable<Double>,
        satisfied_low -> Nullable<Double>,
        satisfied_high -> Nullable<Double>,
        shrunken -> Nullable<Double>,
        rank -> Nullable<BigInt>,
        rank_mean -> Nullable<Double>,
        rank_low -> Nullable<BigInt>,
        rank_high -> Nullable<BigInt>,
        p_bottom5 -> Nullable<Double>,
        eligible -> Bool,
        suppressed -> Bool,
    }
}

diesel::table! {
    publications (id) {
        id -> BigInt,
        campaign_id -> BigInt,
        version -> Integer,
        aggregation_id -> BigInt,
        supersedes_id -> Nullable<BigInt>,
        reason -> Nullable<Text>,
        published_at -> Timestamp,
        results_json -> Text,
        flag_notes -> Text,
    }
}

diesel::table! {
    flags (id) {
        id -> BigInt,
        publication_id -> BigInt,
        unit_id -> BigInt,
        periods -> Text,
        credible -> Bool,
        evidence -> Text,
    }
}

diesel::table! {
    problems (id) {
        id -> BigInt,
        unit_id -> Nullable<BigInt>,
        channel -> Text,
        reporter_name -> Nullable<Text>,
        reporter_contact -> Nullable<Text>,
        description -> Text,
        state -> Text,
        deadline -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        stage -> Integer,
        enterprise_name -> Nullable<Text>,
        reporter_email -> Nullable<Text>,
        answer -> Nullable<Text>,
        outcome -> Nullable<Text>,
        confirm_due -> Nullable<Date>,
        confirm_version -> Integer,
        confirm_token_hash -> Nullable<Text>,
        mail_status -> Nullable<Text>,
        mail_error -> Nullable<Text>,
        mail_lease_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    problem_events (id) {
        id -> BigInt,
        problem_id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        state -> Text,
        stage -> Integer,
        deadline -> Nullable<Date>,
        note -> Nullable<Text>,
    }
}

diesel::joinable!(unit_heads -> units (unit_id));
diesel::joinable!(problems -> units (unit_id));
diesel::joinable!(problem_events -> problems (problem_id));
diesel::joinable!(interactions -> enterprises (enterprise_id));
diesel::joinable!(interactions -> units (unit_id));
diesel::joinable!(invitations -> campaigns (campaign_id));
diesel::joinable!(invitations -> enterprises (enterprise_id));
diesel::joinable!(outbox -> invitations (invitation_id));
diesel::joinable!(responses -> campaigns (campaign_id));
diesel::joinable!(ratings -> responses (response_id));
diesel::joinable!(ratings -> units (unit_id));
diesel::joinable!(ratings -> campaigns (campaign_id));
diesel::joinable!(aggregations -> campaigns (campaign_id));
diesel::joinable!(survey_views -> campaigns (campaign_id));
diesel::joinable!(unit_results -> aggregations (aggregation_id));
diesel::joinable!(unit_results -> units (unit_id));
diesel::joinable!(peer_group_results -> aggregations (aggregation_id));
diesel::joinable!(publications -> campaigns (campaign_id));
diesel::joinable!(ballots -> campaigns (campaign_id));
diesel::joinable!(withheld_units -> campaigns (campaign_id));
diesel::joinable!(withheld_units -> units (unit_id));
diesel::joinable!(flags -> publications (publication_id));
diesel::joinable!(flags -> units (unit_id));

diesel::allow_tables_to_appear_in_same_query!(
    peer_groups,
    units,
    unit_heads,
    enterprises,
    campaigns,
    interactions,
    invitations,
    outbox,
    responses,
    ratings,
    aggregations,
    peer_group_results,
    unit_results,
    publications,
    flags,
    problems,
    problem_events,
    users,
    sessions,
    api_tokens,
    login_failures,
    audit_log,
    leases,
    survey_views,
    sign_in_names,
    ballots,
    withheld_units,
);

diesel::table! {
    ballots (spent_key) {
        spent_key -> Binary,
        campaign_id -> BigInt,
        sealed -> Binary,
    }
}

diesel::table! {
    withheld_units (campaign_id, unit_id) {
        campaign_id -> BigInt,
        unit_id -> BigInt,
        entries -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        name -> Text,
        role -> Text,
        unit_code -> Nullable<Text>,
        password_hash -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
        password_changed_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        address -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        target -> Text,
        detail -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));

diesel::table! {
    leases (name) {
        name -> Text,
        holder -> Text,
        expires_at -> Timestamp,
    }
}
