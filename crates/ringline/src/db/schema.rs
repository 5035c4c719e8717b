//! Diesel table definitions, shared by both backends. Kept by hand in step with
//! `migrations/sqlite` and `migrations/postgres`.
#![allow(missing_docs)]

diesel::table! {
    divisions (code) {
        code -> Text,
        name -> Text,
        level -> Text,
        parent_code -> Nullable<Text>,
        urban_rural_code -> Nullable<Text>,
        lon -> Nullable<Double>,
        lat -> Nullable<Double>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    division_history (id) {
        id -> BigInt,
        code -> Text,
        event -> Text,
        old_name -> Nullable<Text>,
        new_name -> Nullable<Text>,
        source -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    boundaries (division_code) {
        division_code -> Text,
        geojson -> Text,
        source -> Text,
    }
}

diesel::table! {
    programs (id) {
        id -> BigInt,
        name -> Text,
        name_en -> Text,
        county_code -> Text,
        start_year -> Integer,
        end_year -> Integer,
        description -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    zones (id) {
        id -> BigInt,
        program_id -> BigInt,
        name -> Text,
        name_en -> Text,
        kind -> Text,
        theme -> Text,
        area -> Text,
        goals -> Text,
        geometry -> Text,
        geometry_note -> Nullable<Text>,
        allow_overlap -> Bool,
        sort_order -> Integer,
    }
}

diesel::table! {
    zone_overrides (zone_id, division_code) {
        zone_id -> BigInt,
        division_code -> Text,
        action -> Text,
        note -> Text,
    }
}

diesel::table! {
    zone_members (zone_id, division_code) {
        zone_id -> BigInt,
        division_code -> Text,
        reason -> Text,
        distance_km -> Nullable<Double>,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        scope -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
        password_changed_at -> Timestamp,
        display_name -> Text,
        phone -> Nullable<Text>,
        last_login_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        user_id -> Nullable<BigInt>,
        username -> Text,
        action -> Text,
        entity -> Text,
        entity_id -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        detail -> Text,
        scope -> Text,
    }
}

diesel::table! {
    login_attempts (id) {
        id -> BigInt,
        at -> Timestamp,
        username -> Text,
        ip -> Text,
        success -> Bool,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    units (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        credit_code -> Nullable<Text>,
        credit_code_unverified -> Bool,
        division_code -> Text,
        address -> Text,
        lon -> Nullable<Double>,
        lat -> Nullable<Double>,
        headcount -> Nullable<Integer>,
        party_member_count -> Nullable<Integer>,
        illustrative -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        retired_on -> Nullable<Date>,
        retire_reason -> Nullable<Text>,
    }
}

diesel::table! {
    party_orgs (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<BigInt>,
        mode -> Text,
        unit_id -> Nullable<BigInt>,
        village_code -> Nullable<Text>,
        division_code -> Text,
        illustrative -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        dissolved_on -> Nullable<Date>,
        dissolve_reason -> Nullable<Text>,
    }
}

diesel::table! {
    party_org_units (party_org_id, unit_id) {
        party_org_id -> BigInt,
        unit_id -> BigInt,
    }
}

diesel::table! {
    members (id) {
        id -> BigInt,
        name -> Text,
        id_number -> Text,
        sex -> Text,
        birth_date -> Date,
        phone -> Nullable<Text>,
        status -> Text,
        join_date -> Nullable<Date>,
        party_org_id -> BigInt,
        employer -> Text,
        employer_unit_id -> Nullable<BigInt>,
        home_community -> Nullable<Text>,
        division_code -> Text,
        illustrative -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        left_on -> Nullable<Date>,
        left_reason -> Nullable<Text>,
    }
}

diesel::table! {
    member_events (id) {
        id -> BigInt,
        member_id -> BigInt,
        event -> Text,
        on_date -> Date,
        note -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    import_runs (id) {
        id -> BigInt,
        kind -> Text,
        file -> Text,
        user_id -> Nullable<BigInt>,
        username -> Text,
        scope -> Text,
        applied_at -> Timestamp,
        undone_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    import_changes (id) {
        id -> BigInt,
        run_id -> BigInt,
        record_id -> Text,
        before_json -> Nullable<Text>,
        after_json -> Text,
    }
}

diesel::table! {
    skills (key) {
        key -> Text,
        zh -> Text,
        en -> Text,
        sort_order -> Integer,
    }
}

diesel::table! {
    skill_aliases (alias) {
        alias -> Text,
        skill -> Text,
    }
}

diesel::table! {
    cadres (id) {
        id -> BigInt,
        name -> Text,
        id_number -> Text,
        sex -> Text,
        birth_date -> Date,
        phone -> Nullable<Text>,
        source_unit_id -> Nullable<BigInt>,
        source_town -> Nullable<Text>,
        home_village -> Nullable<Text>,
        division_code -> Text,
        illustrative -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        retired_on -> Nullable<Date>,
        retire_reason -> Nullable<Text>,
    }
}

diesel::table! {
    cadre_skills (cadre_id, skill) {
        cadre_id -> BigInt,
        skill -> Text,
    }
}

diesel::table! {
    twinning (unit_id, village_code) {
        unit_id -> BigInt,
        village_code -> Text,
        illustrative -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    village_needs (village_code, skill) {
        village_code -> Text,
        skill -> Text,
        priority -> Integer,
        illustrative -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    dispatch_batches (id) {
        id -> BigInt,
        name -> Text,
        county_code -> Text,
        min_size -> Integer,
        max_size -> Integer,
        per_village -> Integer,
        young_max_age -> Nullable<Integer>,
        reference_date -> Date,
        term_months -> Integer,
        per_priority_point -> Integer,
        twinning_bonus -> Integer,
        planned_at -> Nullable<Timestamp>,
        plan_error -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamp>,
        illustrative -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    batch_rules (batch_id, cadre_id, village_code) {
        batch_id -> BigInt,
        cadre_id -> BigInt,
        village_code -> Text,
        kind -> Text,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    batch_pairs (batch_id, cadre_id) {
        batch_id -> BigInt,
        cadre_id -> BigInt,
        village_code -> Text,
        score -> BigInt,
        breakdown_json -> Text,
        pinned -> Bool,
    }
}

diesel::table! {
    residencies (id) {
        id -> BigInt,
        batch_id -> BigInt,
        cadre_id -> BigInt,
        village_code -> Text,
        start_date -> Date,
        end_date -> Date,
        evaluation -> Nullable<Text>,
        evaluation_comment -> Nullable<Text>,
        evaluated_at -> Nullable<Timestamp>,
        evaluated_by -> Nullable<Text>,
        illustrative -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    work_logs (id) {
        id -> BigInt,
        residency_id -> BigInt,
        date -> Date,
        content -> Text,
        illustrative -> Bool,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    attendance (residency_id, month) {
        residency_id -> BigInt,
        month -> Text,
        days -> Integer,
        updated_at -> Timestamp,
        updated_by -> Text,
        confirmed_by -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    leave_requests (id) {
        id -> BigInt,
        residency_id -> BigInt,
        start_date -> Date,
        end_date -> Date,
        days -> Integer,
        reason -> Text,
        status -> Text,
        approver_level -> Text,
        requested_at -> Timestamp,
        requested_by -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        illustrative -> Bool,
    }
}

diesel::table! {
    lead_products (id) {
        id -> BigInt,
        village_code -> Text,
        year -> Integer,
        name -> Text,
        category -> Text,
        scale -> Nullable<Double>,
        scale_unit -> Text,
        output_value_fen -> Nullable<BigInt>,
        households -> Nullable<Integer>,
        income_per_household_fen -> Nullable<BigInt>,
        illustrative -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    development_chains (id) {
        id -> BigInt,
        village_code -> Text,
        product -> Text,
        branch_org_id -> Nullable<BigInt>,
        association_unit_id -> Nullable<BigInt>,
        company_unit_id -> Nullable<BigInt>,
        market_unit_id -> Nullable<BigInt>,
        illustrative -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    brands (id) {
        id -> BigInt,
        name -> Text,
        owner_unit_id -> Nullable<BigInt>,
        owner_village -> Nullable<Text>,
        division_code -> Text,
        zone_id -> Nullable<BigInt>,
        level -> Text,
        year -> Integer,
        illustrative -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    collective_income (id) {
        id -> BigInt,
        village_code -> Text,
        year -> Integer,
        source -> Text,
        amount_fen -> BigInt,
        illustrative -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    income_targets (id) {
        id -> BigInt,
        village_code -> Text,
        year -> Integer,
        target_fen -> BigInt,
        illustrative -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    held_rows (id) {
        id -> BigInt,
        kind -> Text,
        record_id -> BigInt,
        record_division -> Text,
        row_division -> Text,
        row_json -> Text,
        file -> Text,
        line -> BigInt,
        held_by -> Text,
        held_at -> Timestamp,
    }
}

diesel::joinable!(zones -> programs (program_id));
diesel::joinable!(zone_members -> zones (zone_id));
diesel::joinable!(zone_overrides -> zones (zone_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(party_org_units -> party_orgs (party_org_id));
diesel::joinable!(party_org_units -> units (unit_id));
diesel::joinable!(members -> party_orgs (party_org_id));
diesel::joinable!(cadres -> units (source_unit_id));
diesel::joinable!(cadre_skills -> cadres (cadre_id));
diesel::joinable!(cadre_skills -> skills (skill));
diesel::joinable!(skill_aliases -> skills (skill));
diesel::joinable!(twinning -> units (unit_id));
diesel::joinable!(village_needs -> skills (skill));
diesel::joinable!(batch_rules -> dispatch_batches (batch_id));
diesel::joinable!(batch_rules -> cadres (cadre_id));
diesel::joinable!(batch_pairs -> dispatch_batches (batch_id));
diesel::joinable!(batch_pairs -> cadres (cadre_id));
diesel::joinable!(residencies -> dispatch_batches (batch_id));
diesel::joinable!(residencies -> cadres (cadre_id));
diesel::joinable!(work_logs -> residencies (residency_id));
diesel::joinable!(attendance -> residencies (residency_id));
diesel::joinable!(leave_requests -> residencies (residency_id));
diesel::joinable!(development_chains -> party_orgs (branch_org_id));
diesel::joinable!(brands -> zones (zone_id));
diesel::joinable!(member_events -> members (member_id));
diesel::joinable!(import_changes -> import_runs (run_id));

diesel::allow_tables_to_appear_in_same_query!(
    divisions,
    division_history,
    boundaries,
    programs,
    zones,
    zone_overrides,
    zone_members,
    users,
    sessions,
    audit_log,
    login_attempts,
    units,
    party_orgs,
    party_org_units,
    members,
    skills,
    skill_aliases,
    cadres,
    cadre_skills,
    twinning,
    village_needs,
    dispatch_batches,
    batch_rules,
    batch_pairs,
    residencies,
    work_logs,
    attendance,
    leave_requests,
    lead_products,
    development_chains,
    brands,
    collective_income,
    income_targets,
    member_events,
    import_runs,
    import_changes,
    held_rows,
);
