//! Party organizations (党组织, SPEC C3) as a record kind: committees, general branches and
//! branches in a tree, each hosted by a unit or a village, established on its own, jointly with
//! other units, or as a party-building instructor only. Natural key: the organization code (a
//! village's branch uses the village's 12-digit code). Scope key: where the host is. A parent is
//! named by code or unique full name, stored or in the same file; a branch (党支部) has no
//! subordinate organizations, and parents never form a loop. An organization can hang only under
//! one within or above the caller's area. A dissolved organization (撤销) is kept with the date
//! and reason, once it has no members and no subordinate organizations left.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use ringline_core::cell;
use ringline_core::division::{DivisionCode, Level};

use super::NewOrg;
use super::query::{self, OrgFilter, PartyOrg};
use crate::access::{Access, Permission, Scope};
use crate::db::schema::{members, party_org_units, party_orgs};
use crate::db::{DbConn, DbResult};
use crate::import::Issue;
use crate::kind::{
    Column, Cx, Desc, Field, Filter, Kind, KindId, ListQuery, Page, Perms, Raw, Retire, RetireInput, Show, Stored, Ty,
    Values,
};

/// Party organization kinds: `(key, Chinese, English)`.
pub const ORG_KINDS: crate::kind::Choices = crate::import::spec::ORG_KINDS;
/// Establishment modes (SPEC C3).
pub const ORG_MODES: crate::kind::Choices = crate::import::spec::ORG_MODES;
/// Why an organization was dissolved.
pub const DISSOLVE_REASONS: crate::kind::Choices = &[
    ("dissolved", "撤销", "dissolved"),
    ("merged", "合并", "merged into another organization"),
    ("entered_in_error", "误录", "entered in error"),
];

/// A party organization as checked: the row, its parent's code (stored or in the same batch)
/// and the units it covers (its host and the joint units).
#[derive(Debug, Clone, PartialEq)]
pub struct OrgNew {
    /// The organization.
    pub org: NewOrg,
    /// The parent as typed (code or name) until resolved, then its code.
    pub parent: Option<String>,
    /// Ids of the units it covers, sorted.
    pub covered: Vec<i64>,
}

/// The party organization kind.
pub struct Orgs;

impl Kind for Orgs {
    type New = OrgNew;
    type Record = PartyOrg;

    const DESC: Desc = Desc {
        id: KindId::Orgs,
        key: "orgs",
        entity: "party_org",
        fields: &[
            Field::new("code", Ty::Code, true)
                .aliases(&["组织代码", "编码", "org_code"])
                .noted(),
            Field::new("name", Ty::Name, true).aliases(&["名称", "组织名称"]),
            Field::new("kind", Ty::Choice(ORG_KINDS), true)
                .aliases(&["类别", "组织类别", "type"])
                .noted(),
            Field::new("parent", Ty::Ref(KindId::Orgs), false)
                .aliases(&["上级组织", "上级党组织代码", "parent_code"])
                .noted(),
            Field::new("mode", Ty::Choice(ORG_MODES), true)
                .aliases(&["建立方式", "establishment"])
                .noted(),
            Field::new("unit", Ty::Ref(KindId::Units), false)
                .aliases(&["依托单位", "单位", "unit_credit_code"])
                .noted(),
            Field::new("village", Ty::Division(&[Level::Village]), false)
                .aliases(&["所在村(社区)代码", "村代码", "village_code"])
                .noted(),
            Field::new("joint_units", Ty::Text, false)
                .aliases(&["覆盖单位", "covered_units"])
                .noted(),
        ],
        columns: &[
            Column::new("name", Show::Link(KindId::Orgs, "id")),
            Column::new("code", Show::Code),
            Column::new("kind", Show::Choice(ORG_KINDS)),
            Column::new("parent_name", Show::Link(KindId::Orgs, "parent_id")),
            Column::new("mode", Show::Choice(ORG_MODES)),
            Column::new("unit_name", Show::Link(KindId::Units, "unit_id")),
            Column::new("division_code", Show::Place),
            Column::new("members", Show::Int),
            Column::new("covered_units", Show::Int),
        ],
        natural_key: &["code"],
        filters: &[
            Filter::Choice("kind", ORG_KINDS),
            Filter::Choice("mode", ORG_MODES),
            Filter::Under,
            Filter::Text,
        ],
        perms: Perms {
            write: Permission::Import,
            retire: Permission::Import,
        },
        retire: Retire::Keep(DISSOLVE_REASONS),
        importable: true,
    };

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<OrgNew>> {
        let code = match v.code("code") {
            None => {
                if !v.failed() {
                    v.required("code");
                }
                None
            }
            Some(c) if c.len() > 32 || !c.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
                v.error(
                    "code",
                    &c,
                    "org-code-malformed",
                    "an organization code has at most 32 digits, letters or '-'",
                );
                None
            }
            Some(c) => Some(c),
        };
        let name = v.name("name");
        let kind = v.choice("kind");
        let mode = v.choice("mode");
        let parent = Some(v.text("parent")).filter(|p| !p.is_empty());
        let unit_typed = v.text("unit");
        let village = if v.is_empty("village") {
            None
        } else {
            v.division("village", cx.divisions()?, &[Level::Village])
        };
        let access = cx.access;
        let mut covered = Vec::new();
        let mut division = None;
        let mut unit_id = None;
        match (unit_typed.is_empty(), &village) {
            (true, None) if v.is_empty("village") => {
                v.error(
                    "unit",
                    "",
                    "org-host-missing",
                    "give the host unit, or for a village's organization the village code",
                );
            }
            (false, Some(_)) => {
                v.error(
                    "unit",
                    &unit_typed,
                    "org-host-twice",
                    "give either the host unit or the village code, not both",
                );
            }
            (false, None) => {
                let ix = cx.units()?;
                match super::resolve_unit(ix, &unit_typed) {
                    Ok(id) => {
                        unit_id = Some(id);
                        covered.push(id);
                        division = ix.division_of.get(&id).cloned();
                    }
                    Err((n, m)) => {
                        v.error("unit", &unit_typed, "unit-not-found", m);
                        v.args(vec![("count", n.to_string())]);
                    }
                }
            }
            (true, Some(vc)) => division = Some(vc.clone()),
            _ => {}
        }
        let joint = v.text("joint_units");
        {
            let ix = cx.units()?;
            for part in joint
                .split([';', '；', '、', ',', '，'])
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                match super::resolve_unit(ix, part) {
                    Ok(id) if ix.division_of.get(&id).is_some_and(|d| access.sees_code(d)) => covered.push(id),
                    Ok(_) => v.error(
                        "joint_units",
                        part,
                        "outside-scope",
                        "this unit is outside your area; only units within your scope can be covered",
                    ),
                    Err((n, m)) => {
                        v.error("joint_units", part, "unit-not-found", m);
                        v.args(vec![("count", n.to_string())]);
                    }
                }
            }
        }
        if mode == Some("joint") && covered.len() < 2 && village.is_none() {
            v.warn(
                "joint_units",
                &joint,
                "org-joint-alone",
                "a joint organization usually covers other units too; list them under 联建单位",
            );
        }
        if let Some(d) = &division {
            v.in_scope(if unit_id.is_some() { "unit" } else { "village" }, access, d);
        }
        if v.failed() {
            return Ok(None);
        }
        let (Some(code), Some(name), Some(kind), Some(mode), Some(division_code)) = (code, name, kind, mode, division)
        else {
            return Ok(None);
        };
        covered.sort_unstable();
        covered.dedup();
        let at = cx.clock.now();
        Ok(Some(OrgNew {
            org: NewOrg {
                code,
                name,
                kind: kind.into(),
                parent_id: None,
                mode: mode.into(),
                unit_id,
                village_code: village,
                division_code,
                illustrative: cx.illustrative,
                created_at: at,
                updated_at: at,
            },
            parent,
            covered,
        }))
    }

    fn check_all(cx: &mut Cx, news: &mut [Option<OrgNew>], errors: &mut Vec<(usize, Issue)>) -> DbResult<()> {
        let access = cx.access;
        let stored_kinds: HashMap<i64, String> = party_orgs::table
            .select((party_orgs::id, party_orgs::kind))
            .load::<(i64, String)>(cx.conn)?
            .into_iter()
            .collect();
        let stored_parent: HashMap<i64, Option<i64>> = party_orgs::table
            .select((party_orgs::id, party_orgs::parent_id))
            .load::<(i64, Option<i64>)>(cx.conn)?
            .into_iter()
            .collect();
        let ix = cx.orgs()?.clone();
        // The batch's own codes and names.
        let batch_kind: HashMap<String, String> = news
            .iter()
            .flatten()
            .map(|o| (o.org.code.clone(), o.org.kind.clone()))
            .collect();
        let mut batch_names: HashMap<String, Vec<String>> = HashMap::new();
        for o in news.iter().flatten() {
            batch_names
                .entry(o.org.name.clone())
                .or_default()
                .push(o.org.code.clone());
        }
        let err = |i: usize, field: &str, value: &str, rule: &str, message: String| {
            (
                i,
                Issue {
                    field: field.into(),
                    column: field.into(),
                    value: value.into(),
                    key: rule.into(),
                    message,
                    ..Issue::default()
                },
            )
        };
        let mut bad: HashSet<usize> = HashSet::new();
        for (i, o) in news.iter_mut().enumerate() {
            let Some(o) = o else { continue };
            let Some(p) = o.parent.clone() else { continue };
            let as_code = cell::code(&p).unwrap_or_default();
            let kind_of = |code: &str| -> String {
                batch_kind.get(code).cloned().unwrap_or_else(|| {
                    ix.by_code
                        .get(code)
                        .and_then(|(id, _)| stored_kinds.get(id).cloned())
                        .unwrap_or_default()
                })
            };
            let resolved: Result<String, (usize, String)> = if batch_kind.contains_key(&as_code)
                || ix.by_code.contains_key(&as_code)
            {
                Ok(as_code.clone())
            } else {
                let name = cell::name(&p);
                let mut codes: Vec<String> = batch_names.get(&name).cloned().unwrap_or_default();
                for id in ix.by_name.get(&name).map(Vec::as_slice).unwrap_or(&[]) {
                    if let Some((c, _)) = ix.of_id.get(id)
                        && !codes.contains(c)
                    {
                        codes.push(c.clone());
                    }
                }
                match codes.as_slice() {
                    [c] => Ok(c.clone()),
                    [] => Err((
                        0,
                        format!(
                            "no party organization has the code or name {p:?}; import the parent first or in the same file"
                        ),
                    )),
                    many => Err((
                        many.len(),
                        format!(
                            "{} party organizations are named {p:?}; give the parent's code instead",
                            many.len()
                        ),
                    )),
                }
            };
            match resolved {
                Ok(code) if code == o.org.code => {
                    errors.push(err(
                        i,
                        "parent",
                        &p,
                        "org-parent-self",
                        "an organization cannot be its own parent".into(),
                    ));
                    bad.insert(i);
                }
                Ok(code) if kind_of(&code) == "branch" => {
                    errors.push(err(
                        i,
                        "parent",
                        &p,
                        "org-parent-branch",
                        "a branch (党支部) has no subordinate organizations; the parent must be a committee or general branch".into(),
                    ));
                    bad.insert(i);
                }
                Ok(code)
                    if !batch_kind.contains_key(&code)
                        && ix.by_code.get(&code).is_some_and(|(_, d)| !may_link_under(access, d)) =>
                {
                    errors.push(err(
                        i,
                        "parent",
                        &p,
                        "outside-scope",
                        "this parent organization belongs to another area; organizations can hang only under ones within or above your area".into(),
                    ));
                    bad.insert(i);
                }
                Ok(code) => o.parent = Some(code),
                Err((n, m)) => {
                    let mut e = err(i, "parent", &p, "org-parent-not-found", m);
                    e.1.args = vec![("count", n.to_string())];
                    errors.push(e);
                    bad.insert(i);
                }
            }
        }
        // Loops through the batch's and the stored parents.
        let batch_parent: HashMap<String, Option<String>> = news
            .iter()
            .enumerate()
            .filter(|(i, _)| !bad.contains(i))
            .filter_map(|(_, o)| o.as_ref().map(|o| (o.org.code.clone(), o.parent.clone())))
            .collect();
        let stored_parent_code = |code: &str| -> Option<String> {
            let (id, _) = ix.by_code.get(code)?;
            let p = (*stored_parent.get(id)?)?;
            ix.of_id.get(&p).map(|(c, _)| c.clone())
        };
        for (i, o) in news.iter().enumerate() {
            let Some(o) = o else { continue };
            if bad.contains(&i) {
                continue;
            }
            let mut seen = HashSet::from([o.org.code.clone()]);
            let mut cur = o.org.code.clone();
            loop {
                let next = match batch_parent.get(&cur) {
                    Some(p) => p.clone(),
                    None => stored_parent_code(&cur),
                };
                let Some(p) = next else { break };
                if !seen.insert(p.clone()) {
                    errors.push(err(
                        i,
                        "parent",
                        o.parent.as_deref().unwrap_or(""),
                        "org-parent-cycle",
                        "the parents form a loop (an organization would be its own ancestor)".into(),
                    ));
                    bad.insert(i);
                    break;
                }
                cur = p;
            }
        }
        // A stored organization becoming a branch must have no subordinates.
        for (i, o) in news.iter().enumerate() {
            let Some(o) = o else { continue };
            if o.org.kind != "branch" || bad.contains(&i) {
                continue;
            }
            if let Some((id, _)) = ix.by_code.get(&o.org.code) {
                let children = stored_parent.values().filter(|p| **p == Some(*id)).count();
                if children > 0 {
                    let mut e = err(
                        i,
                        "kind",
                        &o.org.kind,
                        "org-branch-has-children",
                        format!(
                            "this organization has {children} subordinate organizations; a branch (党支部) cannot have any — move them first"
                        ),
                    );
                    e.1.args = vec![("count", children.to_string())];
                    errors.push(e);
                    bad.insert(i);
                }
            }
        }
        for i in bad {
            news[i] = None;
        }
        Ok(())
    }

    fn illustrative(n: &OrgNew) -> bool {
        n.org.illustrative
    }

    fn key(n: &OrgNew) -> String {
        n.org.code.clone()
    }

    fn area(n: &OrgNew) -> String {
        n.org.division_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&OrgNew]) -> DbResult<Vec<Option<Stored<OrgNew>>>> {
        let ids: Vec<Option<i64>> = {
            let ix = cx.orgs()?;
            news.iter()
                .map(|o| ix.by_code.get(&o.org.code).map(|(id, _)| *id))
                .collect()
        };
        let wanted: Vec<i64> = ids.iter().flatten().copied().collect();
        let rows = load(cx, &wanted)?;
        Ok(ids
            .into_iter()
            .map(|id| {
                id.and_then(|id| {
                    rows.get(&id).map(|n| Stored {
                        id: id.to_string(),
                        new: n.clone(),
                    })
                })
            })
            .collect())
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<OrgNew>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        let access = cx.access;
        Ok(load(cx, &[id])?
            .remove(&id)
            .filter(|o| access.sees_code(&o.org.division_code)))
    }

    fn same(a: &OrgNew, b: &OrgNew) -> bool {
        a.org.name == b.org.name
            && a.org.kind == b.org.kind
            && a.org.mode == b.org.mode
            && a.org.unit_id == b.org.unit_id
            && a.org.village_code == b.org.village_code
            && a.parent == b.parent
            && a.covered == b.covered
    }

    fn values(cx: &mut Cx, n: &OrgNew) -> DbResult<Raw> {
        let ix = cx.units()?;
        let unit_ref = |id: i64| -> String {
            ix.by_credit_code
                .iter()
                .find(|(_, u)| **u == id)
                .map(|(c, _)| c.clone())
                .or_else(|| {
                    ix.by_name
                        .iter()
                        .find(|(_, ids)| ids.contains(&id))
                        .map(|(name, _)| name.clone())
                })
                .unwrap_or_default()
        };
        let joint: Vec<String> = n
            .covered
            .iter()
            .filter(|u| Some(**u) != n.org.unit_id)
            .map(|u| unit_ref(*u))
            .collect();
        Ok(Raw::of([
            ("code", n.org.code.clone()),
            ("name", n.org.name.clone()),
            ("kind", n.org.kind.clone()),
            ("parent", n.parent.clone().unwrap_or_default()),
            ("mode", n.org.mode.clone()),
            ("unit", n.org.unit_id.map(unit_ref).unwrap_or_default()),
            ("village", n.org.village_code.clone().unwrap_or_default()),
            ("joint_units", joint.join(";")),
        ]))
    }

    fn insert(conn: &mut DbConn, rows: &[OrgNew]) -> DbResult<Vec<String>> {
        let orgs: Vec<NewOrg> = rows.iter().map(|o| o.org.clone()).collect();
        let ids = crate::insert_returning_ids!(&mut *conn, party_orgs::table, party_orgs::id, &orgs, 1_000);
        let by_code: HashMap<&str, i64> = rows
            .iter()
            .map(|o| o.org.code.as_str())
            .zip(ids.iter().copied())
            .collect();
        let mut links = Vec::new();
        for (o, id) in rows.iter().zip(&ids) {
            if let Some(p) = &o.parent {
                let parent_id = match by_code.get(p.as_str()) {
                    Some(pid) => Some(*pid),
                    None => party_orgs::table
                        .filter(party_orgs::code.eq(p))
                        .select(party_orgs::id)
                        .first::<i64>(conn)
                        .optional()?,
                };
                diesel::update(party_orgs::table.find(id))
                    .set(party_orgs::parent_id.eq(parent_id))
                    .execute(conn)?;
            }
            links.extend(o.covered.iter().map(|u| (*id, *u)));
        }
        super::link_org_units(conn, &links)?;
        Ok(ids.into_iter().map(|i| i.to_string()).collect())
    }

    fn update(conn: &mut DbConn, id: &str, o: &OrgNew) -> DbResult<()> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(());
        };
        let parent_id = match &o.parent {
            Some(p) => party_orgs::table
                .filter(party_orgs::code.eq(p))
                .select(party_orgs::id)
                .first::<i64>(conn)
                .optional()?,
            None => None,
        };
        diesel::update(party_orgs::table.find(id))
            .set((
                party_orgs::name.eq(&o.org.name),
                party_orgs::kind.eq(&o.org.kind),
                party_orgs::mode.eq(&o.org.mode),
                party_orgs::unit_id.eq(o.org.unit_id),
                party_orgs::village_code.eq(&o.org.village_code),
                party_orgs::division_code.eq(&o.org.division_code),
                party_orgs::parent_id.eq(parent_id),
                party_orgs::illustrative.eq(o.org.illustrative),
                party_orgs::updated_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
        diesel::delete(party_org_units::table.filter(party_org_units::party_org_id.eq(id))).execute(conn)?;
        // Members follow their organization's place.
        diesel::update(members::table.filter(members::party_org_id.eq(id)))
            .set(members::division_code.eq(&o.org.division_code))
            .execute(conn)?;
        let links: Vec<(i64, i64)> = o.covered.iter().map(|u| (id, *u)).collect();
        super::link_org_units(conn, &links)?;
        Ok(())
    }

    fn retire(cx: &mut Cx, id: &str, how: &RetireInput) -> DbResult<bool> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(false);
        };
        let active_members: i64 = members::table
            .filter(members::party_org_id.eq(id))
            .filter(members::left_on.is_null())
            .count()
            .get_result(cx.conn)?;
        let children: i64 = party_orgs::table
            .filter(party_orgs::parent_id.eq(id))
            .filter(party_orgs::dissolved_on.is_null())
            .count()
            .get_result(cx.conn)?;
        if active_members + children > 0 {
            return Ok(false);
        }
        let n = diesel::update(party_orgs::table.find(id).filter(party_orgs::dissolved_on.is_null()))
            .set((
                party_orgs::dissolved_on.eq(how.date.unwrap_or_else(|| cx.today())),
                party_orgs::dissolve_reason.eq(&how.reason),
                party_orgs::updated_at.eq(cx.clock.now()),
            ))
            .execute(cx.conn)?;
        Ok(n == 1)
    }

    fn remove(conn: &mut DbConn, id: &str) -> DbResult<bool> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(false);
        };
        let refs: i64 = members::table
            .filter(members::party_org_id.eq(id))
            .count()
            .get_result(conn)?;
        let children: i64 = party_orgs::table
            .filter(party_orgs::parent_id.eq(id))
            .count()
            .get_result(conn)?;
        if refs + children > 0 {
            return Ok(false);
        }
        diesel::delete(party_org_units::table.filter(party_org_units::party_org_id.eq(id))).execute(conn)?;
        Ok(diesel::delete(party_orgs::table.find(id))
            .execute(conn)
            .is_ok_and(|n| n == 1))
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<PartyOrg>> {
        let filter = OrgFilter {
            kind: q.value("kind").map(str::to_string),
            mode: q.value("mode").map(str::to_string),
            under: q.under.clone(),
            q: q.q.clone(),
            retired: q.retired,
        };
        let (items, total) = query::orgs(conn, access, &filter, q.limit, q.offset)?;
        Ok(Page { items, total })
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<PartyOrg>> {
        match id.parse::<i64>() {
            Ok(id) => query::org(conn, access, id),
            Err(_) => Ok(None),
        }
    }
}

/// Whether an organization of the caller's may hang under an organization located at
/// `division`: one within the caller's scope, or one above it (a town's committee under the
/// county's), never one of another area.
fn may_link_under(access: &Access, division: &str) -> bool {
    if access.sees_code(division) {
        return true;
    }
    match (&access.scope, DivisionCode::parse(division)) {
        (Scope::Division(mine), Ok(d)) => mine.as_str().starts_with(d.prefix()),
        // A zone's villages hang under their towns' and county's committees, which a zone
        // names for context.
        (Scope::Zone(_), Ok(_)) => access.names_code(division),
        _ => false,
    }
}

/// Stored organizations by id, with their parent's code and the units they cover.
fn load(cx: &mut Cx, ids: &[i64]) -> DbResult<HashMap<i64, OrgNew>> {
    let mut out = HashMap::with_capacity(ids.len());
    for part in ids.chunks(1_000) {
        let rows: Vec<(i64, Option<i64>, NewOrg)> = party_orgs::table
            .filter(party_orgs::id.eq_any(part))
            .select((party_orgs::id, party_orgs::parent_id, NewOrg::as_select()))
            .load(cx.conn)?;
        let links: Vec<(i64, i64)> = party_org_units::table
            .filter(party_org_units::party_org_id.eq_any(part))
            .select((party_org_units::party_org_id, party_org_units::unit_id))
            .load(cx.conn)?;
        let mut covered: HashMap<i64, Vec<i64>> = HashMap::new();
        for (o, u) in links {
            covered.entry(o).or_default().push(u);
        }
        let ix = cx.orgs()?;
        for (id, parent, org) in rows {
            let mut c = covered.remove(&id).unwrap_or_default();
            c.sort_unstable();
            out.insert(
                id,
                OrgNew {
                    parent: parent.and_then(|p| ix.of_id.get(&p)).map(|(code, _)| code.clone()),
                    covered: c,
                    org,
                },
            );
        }
    }
    Ok(out)
}
