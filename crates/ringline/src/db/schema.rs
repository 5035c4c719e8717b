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
    }
}

diesel::joinable!(zones -> programs (program_id));
diesel::joinable!(zone_members -> zones (zone_id));
diesel::joinable!(zone_overrides -> zones (zone_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(party_org_units -> party_orgs (party_org_id));
diesel::joinable!(party_org_units -> units (unit_id));
diesel::joinable!(members -> party_orgs (party_org_id));

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
);
