//! Creating, editing and retiring one record of a kind (web forms, the API, the CLI): the
//! kind's `check` on what was typed, the caller's permission and scope, a natural key held by
//! another record refused, the write and its audit entry in one transaction.

use super::import::{area_prefix, masked_json};
use super::values::Overlay;
use super::{Cx, Kind, Raw, Retire, RetireInput, Values, WriteError, desc_of};
use crate::import::Issue;

fn invalid(errors: Vec<Issue>) -> WriteError {
    WriteError::Invalid(errors)
}

/// The natural key already held by another record (or one outside the caller's scope, which
/// is reported the same way: a key that exists is never revealed as "elsewhere"). A kind may
/// say it in its own words with the locale text `issue-key-taken-{kind}` (its rule key is then
/// `key-taken-{kind}`, `_` written `-`), which gets the record's values of the natural key that
/// are not personal data as `value`.
fn taken<K: Kind>(cx: &mut Cx, n: &K::New, except: Option<&str>) -> Result<Option<Issue>, WriteError> {
    let desc = desc_of::<K>();
    let stored = K::stored(cx, &[n])?;
    match stored.into_iter().next().flatten() {
        Some(s) if Some(s.id.as_str()) != except => {
            let field = desc.natural_key.first().copied().unwrap_or("");
            let own = format!("key-taken-{}", desc.key.replace('_', "-"));
            let en = crate::i18n::Tr(crate::i18n::Lang::En);
            let raw = K::values(cx, n)?;
            let value = desc
                .natural_key
                .iter()
                .filter(|k| !desc.field(k).is_some_and(|f| f.personal))
                .map(|k| raw.text(k).to_string())
                .collect::<Vec<_>>()
                .join(" / ");
            let mut issue = Issue {
                field: field.into(),
                column: field.into(),
                value,
                key: "key-taken".into(),
                message: "another record already has this value; open that record instead".into(),
                ..Issue::default()
            };
            // The text's `value` must be given: a missing argument counts as a missing text.
            if en
                .try_args(&format!("issue-{own}"), &[("value", issue.value.clone())])
                .is_some()
            {
                issue.key = own;
                issue.message = issue.text(en);
            }
            Ok(Some(issue))
        }
        _ => Ok(None),
    }
}

/// The kind's checks across records, on a batch of one.
fn across<K: Kind>(cx: &mut Cx, n: K::New) -> Result<K::New, WriteError> {
    let mut batch = [Some(n)];
    let mut errors = Vec::new();
    K::check_all(cx, &mut batch, &mut errors)?;
    let [n] = batch;
    match n {
        Some(n) if errors.is_empty() => Ok(n),
        _ => Err(invalid(errors.into_iter().map(|(_, e)| e).collect())),
    }
}

/// Creates a record from `raw` (every field of the kind may be given; absent ones are empty).
///
/// # Errors
/// [`WriteError::Forbidden`] without the kind's write permission, [`WriteError::Invalid`] with
/// every problem by field, [`WriteError::Db`].
pub fn create<K: Kind>(cx: &mut Cx, raw: &Raw) -> Result<String, WriteError> {
    let desc = desc_of::<K>();
    if !cx.access.can(desc.perms.write) {
        return Err(WriteError::Forbidden);
    }
    crate::db::write_transaction(cx.conn, |conn| {
        let illustrative = cx.illustrative;
        let mut cx = Cx::new(conn, cx.access, cx.clock);
        cx.illustrative = illustrative;
        let mut v = Values::new(desc, raw);
        let n = K::check(&mut v, &mut cx)?;
        let Some(n) = n.filter(|_| v.errors.is_empty()) else {
            return Err(invalid(v.errors));
        };
        let n = across::<K>(&mut cx, n)?;
        if !cx.access.sees_code(&K::area(&n)) {
            return Err(WriteError::Forbidden);
        }
        if let Some(i) = taken::<K>(&mut cx, &n, None)? {
            return Err(invalid(vec![i]));
        }
        let ids = K::insert(cx.conn, std::slice::from_ref(&n))?;
        let id = ids.into_iter().next().unwrap_or_default();
        let after = K::values(&mut cx, &n)?;
        crate::audit::record(
            cx.conn,
            cx.access,
            crate::audit::Change {
                action: "create",
                entity: desc.entity,
                entity_id: &id,
                after: Some(masked_json(desc, &after)),
                scope: area_prefix(&K::area(&n)),
                ..Default::default()
            },
        )?;
        Ok(id)
    })
}

/// Changes record `id`: the values in `raw` over the stored ones (a field left out keeps its
/// value; an empty one clears it). Personal fields left empty keep their stored value, since
/// edit forms never show them.
///
/// # Errors
/// As [`create`], and [`WriteError::NotFound`] for a record unknown or outside the scope.
pub fn edit<K: Kind>(cx: &mut Cx, id: &str, raw: &Raw) -> Result<(), WriteError> {
    let desc = desc_of::<K>();
    if !cx.access.can(desc.perms.write) {
        return Err(WriteError::Forbidden);
    }
    crate::db::write_transaction(cx.conn, |conn| {
        let illustrative = cx.illustrative;
        let mut cx = Cx::new(conn, cx.access, cx.clock);
        cx.illustrative = illustrative;
        let stored = K::load(&mut cx, id)?.ok_or(WriteError::NotFound)?;
        if let Some((key, message)) = K::frozen(&stored) {
            return Err(WriteError::Conflict(key, message));
        }
        let before = K::values(&mut cx, &stored)?;
        let mut typed = raw.clone();
        for f in desc.fields.iter().filter(|f| f.personal) {
            if typed.text(f.key).trim().is_empty() {
                typed.0.remove(f.key);
            }
        }
        let merged = Overlay {
            over: &typed,
            base: &before,
        };
        let mut v = Values::new(desc, &merged);
        let n = K::check(&mut v, &mut cx)?;
        let Some(n) = n.filter(|_| v.errors.is_empty()) else {
            return Err(invalid(v.errors));
        };
        let n = across::<K>(&mut cx, n)?;
        if !cx.access.sees_code(&K::area(&n)) {
            return Err(WriteError::Forbidden);
        }
        if let Some(i) = taken::<K>(&mut cx, &n, Some(id))? {
            return Err(invalid(vec![i]));
        }
        if K::same(&stored, &n) && K::illustrative(&stored) == K::illustrative(&n) {
            return Ok(());
        }
        K::update(cx.conn, id, &n)?;
        let after = K::values(&mut cx, &n)?;
        crate::audit::record(
            cx.conn,
            cx.access,
            crate::audit::Change {
                action: "update",
                entity: desc.entity,
                entity_id: id,
                before: Some(masked_json(desc, &before)),
                after: Some(masked_json(desc, &after)),
                scope: area_prefix(&K::area(&n)),
                ..Default::default()
            },
        )?;
        Ok(())
    })
}

/// Retires record `id` as the kind's [`Retire`] says: kept with a reason and date, or deleted.
///
/// # Errors
/// [`WriteError::Forbidden`] without the kind's retire permission or for a kind that is never
/// retired, [`WriteError::NotFound`], [`WriteError::Invalid`] for an unknown reason, and
/// [`WriteError::Conflict`] when the record is already retired or something refers to it.
pub fn retire<K: Kind>(cx: &mut Cx, id: &str, how: &RetireInput) -> Result<(), WriteError> {
    let desc = desc_of::<K>();
    if !cx.access.can(desc.perms.retire) {
        return Err(WriteError::Forbidden);
    }
    crate::db::write_transaction(cx.conn, |conn| {
        let illustrative = cx.illustrative;
        let mut cx = Cx::new(conn, cx.access, cx.clock);
        cx.illustrative = illustrative;
        let stored = K::load(&mut cx, id)?.ok_or(WriteError::NotFound)?;
        if let Some((key, message)) = K::frozen(&stored) {
            return Err(WriteError::Conflict(key, message));
        }
        let reasons = match desc.retire {
            Retire::Never => return Err(WriteError::Forbidden),
            Retire::Keep(reasons) => reasons,
            Retire::Delete => &[],
        };
        if !reasons.is_empty() && !reasons.iter().any(|r| r.0 == how.reason) {
            let allowed: Vec<&str> = reasons.iter().map(|r| r.0).collect();
            return Err(invalid(vec![Issue {
                field: "reason".into(),
                column: "reason".into(),
                value: how.reason.clone(),
                key: "value-not-a-choice".into(),
                message: format!("choose one of: {}", allowed.join(", ")),
                args: vec![("allowed", allowed.join("、"))],
                ..Issue::default()
            }]));
        }
        if ringline_core::text::check_name(&how.note, 500).is_err() && !how.note.is_empty() {
            return Err(invalid(vec![Issue {
                field: "note".into(),
                column: "note".into(),
                key: "text-too-long".into(),
                message: "the note must be one line of at most 500 characters".into(),
                ..Issue::default()
            }]));
        }
        let before = K::values(&mut cx, &stored)?;
        let mut how = how.clone();
        how.date = how.date.or_else(|| Some(cx.today()));
        let retired = match desc.retire {
            Retire::Delete => K::remove(cx.conn, id)?,
            _ => K::retire(&mut cx, id, &how)?,
        };
        if !retired {
            return Err(WriteError::Conflict(
                "record-not-retirable",
                "the record is already retired, or other records still refer to it".into(),
            ));
        }
        crate::audit::record(
            cx.conn,
            cx.access,
            crate::audit::Change {
                action: "retire",
                entity: desc.entity,
                entity_id: id,
                before: Some(masked_json(desc, &before)),
                detail: [how.reason.as_str(), how.note.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(": "),
                scope: area_prefix(&K::area(&stored)),
                ..Default::default()
            },
        )?;
        Ok(())
    })
}
