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

diesel::joinable!(zones -> programs (program_id));
diesel::joinable!(zone_members -> zones (zone_id));
diesel::joinable!(zone_overrides -> zones (zone_id));
diesel::joinable!(sessions -> users (user_id));

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
);
