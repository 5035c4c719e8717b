//! What the OpenAPI document says beyond the handlers' annotations: the answers every operation
//! can give before its handler runs ([`StandardAnswers`]), and the schemas of query parameters
//! whose allowed values are checked by hand (a choice, a division code), so the document states
//! exactly what is accepted.

use utoipa::openapi::Object;
use utoipa::openapi::schema::{ObjectBuilder, Type};

use super::Guard;
use crate::import::spec::{self, MEMBER_STATUSES, ORG_KINDS, ORG_MODES, UNIT_KINDS};

/// Documents on every operation the answers the guard middleware and the framework give before
/// a handler runs, from the route's [`Guard`] in [`super::routes`]: 400 `invalid-request` (a
/// query, path or body that cannot be read), 401 `unauthorized` (no session; not on public
/// routes), 403 `forbidden`/`csrf` (a role without the permission; an unsafe request without
/// the CSRF token or from another origin), 413 `body-too-large` (operations with a body),
/// 415 `unsupported-media-type` and 422 `invalid-request` (JSON bodies), 422 `invalid-limit` and
/// `invalid-offset` (lists, [`super::api::Paging`]), and 503 `busy` with `Retry-After` (SQLite's write lock held past the
/// busy timeout). Every error answer gets the [`super::ErrorBody`] schema.
pub struct StandardAnswers;

impl utoipa::Modify for StandardAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, Ref, RefOr, Response};
        let guards: std::collections::HashMap<(String, String), Guard> = super::route_specs()
            .into_iter()
            .map(|r| ((r.path.to_string(), r.method.as_str().to_lowercase()), r.guard))
            .collect();
        let error = |description: &str| {
            let mut r = Response::new(description);
            r.content.insert(
                "application/json".into(),
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            );
            r
        };
        for (path, item) in doc.paths.paths.iter_mut() {
            let ops = [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("put", item.put.as_mut()),
                ("patch", item.patch.as_mut()),
                ("delete", item.delete.as_mut()),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                let guard = guards
                    .get(&(path.clone(), method.to_string()))
                    .copied()
                    .unwrap_or(Guard::Login);
                let unsafe_method = method != "get";
                let has_input = op.parameters.as_ref().is_some_and(|p| !p.is_empty()) || op.request_body.is_some();
                let json_body = op
                    .request_body
                    .as_ref()
                    .is_some_and(|b| b.content.contains_key("application/json"));
                let mut add: Vec<(&str, &str)> = Vec::new();
                if has_input {
                    add.push((
                        "400",
                        "`invalid-request`: a query, path or body that cannot be read (not a number, not valid JSON …); the message names the field, never the value",
                    ));
                }
                if guard != Guard::Public {
                    add.push(("401", "`unauthorized`: no valid session"));
                }
                if matches!(guard, Guard::Perm(_)) || (unsafe_method && guard != Guard::Public) {
                    add.push((
                        "403",
                        "`forbidden`: the role lacks the permission; `csrf`: an unsafe request without the session's `X-CSRF-Token`, or from another origin",
                    ));
                }
                if op.request_body.is_some() {
                    add.push(("413", "`body-too-large`: the body is larger than the upload limit"));
                }
                if json_body {
                    add.push((
                        "415",
                        "`unsupported-media-type`: the body is not sent as `application/json`",
                    ));
                    add.push((
                        "422",
                        "`invalid-request`: the JSON body has the wrong shape (a missing field, a wrong type, an unknown field); the message names the field, never the value",
                    ));
                }
                let paged = op
                    .parameters
                    .as_ref()
                    .is_some_and(|ps| ps.iter().any(|p| p.name == "limit"));
                if paged {
                    add.push((
                        "422",
                        "`invalid-limit`, `invalid-offset`: `limit` is not a whole number from 1 to 1000, or `offset` not one of 0 or more",
                    ));
                }
                add.push(("503", "`busy`: the database is busy (a long import holds the write lock); retry after `Retry-After` seconds"));
                for (status, description) in add {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| RefOr::T(error(description)));
                }
                // Error answers documented without a body get the error body.
                for (status, r) in op.responses.responses.iter_mut() {
                    if let RefOr::T(r) = r
                        && (status.starts_with('4') || status.starts_with('5'))
                        && r.content.is_empty()
                    {
                        r.content.insert(
                            "application/json".into(),
                            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                        );
                    }
                }
            }
        }
    }
}

/// Digits as [`ringline_core::division::DivisionCode::parse`] reads them: ASCII or full-width.
macro_rules! d {
    (0) => {
        "[0０]"
    };
    (1_9) => {
        "[1-9１-９]"
    };
    (1_5) => {
        "[1-5１-５]"
    };
    (any) => {
        "[0-9０-９]"
    };
}

/// A non-zero two-digit group.
macro_rules! n2 {
    () => {
        concat!("(", d!(0), d!(1_9), "|", d!(1_9), d!(any), ")")
    };
}

/// A non-zero three-digit town or village group below 600.
macro_rules! n3 {
    () => {
        concat!(
            "(",
            d!(0),
            d!(0),
            d!(1_9),
            "|",
            d!(0),
            d!(1_9),
            d!(any),
            "|",
            d!(1_5),
            d!(any),
            d!(any),
            ")"
        )
    };
}

/// `n` zeros.
macro_rules! zeros {
    ($n:literal) => {
        concat!(d!(0), "{", $n, "}")
    };
}

/// The division codes [`super::registry::division_code`] accepts, as a regular expression: empty
/// (no filter), or the national table's 2, 4, 6, 9 or 12 digits (full-width too) that name a
/// province, city, county, town or village once padded to 12 — a non-zero province, zeros only
/// at the end except the county digits of a city without counties (东莞市 441900003000), town
/// and village digits below 600 — with spaces around.
pub const DIVISION_CODE_PATTERN: &str = concat!(
    "^[ \\t\\r\\n\\u3000]*(",
    n2!(),
    "(",
    // 2 digits: the province alone.
    "|",
    // 4 digits.
    "(",
    zeros!(2),
    "|",
    n2!(),
    ")",
    "|",
    // 6 digits.
    "(",
    zeros!(4),
    "|",
    n2!(),
    "(",
    zeros!(2),
    "|",
    n2!(),
    "))",
    "|",
    // 9 digits.
    "(",
    zeros!(7),
    "|",
    n2!(),
    "(",
    zeros!(5),
    "|",
    n2!(),
    "(",
    zeros!(3),
    "|",
    n3!(),
    ")|",
    zeros!(2),
    n3!(),
    "))",
    "|",
    // 12 digits.
    "(",
    zeros!(10),
    "|",
    n2!(),
    "(",
    zeros!(8),
    "|",
    n2!(),
    "(",
    zeros!(6),
    "|",
    n3!(),
    "(",
    zeros!(3),
    "|",
    n3!(),
    "))|",
    zeros!(2),
    n3!(),
    "(",
    zeros!(3),
    "|",
    n3!(),
    "))))",
    ")?[ \\t\\r\\n\\u3000]*$"
);

/// A string parameter holding a division code ([`DIVISION_CODE_PATTERN`]).
pub fn division_code_param() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(DIVISION_CODE_PATTERN))
        .build()
}

/// Spaces a filter value may carry around it (the handlers trim them).
const SPACES: &str = "[ \\t\\r\\n\\u3000]*";

/// A string parameter that is one of `keys`, or empty (no filter), with spaces around — as
/// [`super::registry::choice`] reads it. A pattern, not an `enum`, so the spaces are allowed.
fn choice_param<'a>(keys: impl IntoIterator<Item = &'a str>) -> Object {
    let keys: Vec<&str> = keys.into_iter().collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^{SPACES}({})?{SPACES}$", keys.join("|"))))
        .description(Some(format!("One of {}, or empty for any.", keys.join(", "))))
        .build()
}

fn keys(choices: &'static [(&'static str, &'static str, &'static str)]) -> impl Iterator<Item = &'static str> {
    choices.iter().map(|(k, _, _)| *k)
}

/// `kind` of the unit list.
pub fn unit_kind_param() -> Object {
    choice_param(keys(UNIT_KINDS))
}

/// `kind` of the organization list.
pub fn org_kind_param() -> Object {
    choice_param(keys(ORG_KINDS))
}

/// `mode` of the organization list.
pub fn org_mode_param() -> Object {
    choice_param(keys(ORG_MODES))
}

/// `status` of the member list.
pub fn member_status_param() -> Object {
    choice_param(keys(MEMBER_STATUSES))
}

/// `level` of the division list.
pub fn level_param() -> Object {
    choice_param(["province", "city", "county", "town", "village"])
}

/// `by` of the coverage table.
pub fn coverage_by_param() -> Object {
    choice_param(["town", "zone", "county"])
}

/// `by` of the economy summary.
pub fn economy_by_param() -> Object {
    choice_param(["zone", "town", "county"])
}

/// `lacking` of the uncovered units.
pub fn lacking_param() -> Object {
    choice_param(["organization", "work"])
}

/// `class` of the village incomes.
pub fn income_class_param() -> Object {
    choice_param(["empty_shell", "weak", "ordinary", "strong"])
}

/// A calendar year of the economy figures: 1949–2200.
pub fn year_param() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1949))
        .maximum(Some(2200))
        .build()
}

/// The importable kinds (`party_orgs` is another name of `orgs`).
pub fn import_kind_param() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(spec::KINDS.iter().map(|k| k.key).chain(["party_orgs"])))
        .build()
}

/// The template files: `KIND.xlsx` or `KIND`.
pub fn template_file_param() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(
            spec::KINDS
                .iter()
                .map(|k| k.key)
                .chain(["party_orgs"])
                .flat_map(|k| [format!("{k}.xlsx"), k.to_string()]),
        ))
        .build()
}

/// A file sent as the request body: its bytes, at least one.
pub struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .min_length(Some(1))
            .into()
    }
}

impl utoipa::ToSchema for FileBytes {}
