//! Party members (党员, SPEC C3) as a record kind. Natural key: the citizen ID number
//! (GB 11643-1999), whose birth date and sex are cross-checked with the row. Scope key: the
//! party organization's division (copied into `members.division_code`). ID numbers and phones
//! are personal data: masked everywhere, never in edit forms, unmasked only through the audited
//! unmask. A member who leaves the register — transferred out (组织关系转出), deceased, or whose
//! membership is suspended (停止党籍) — is kept with the date and reason, leaves lists and counts,
//! and the change is kept in `member_events`.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use ringline_core::cell;
use ringline_core::division::Level;
use ringline_core::id_number::Sex;

use super::NewMember;
use super::query::{self, Member, MemberFilter};
use crate::access::{Access, Permission};
use crate::db::schema::{member_events, members};
use crate::db::{DbConn, DbResult};
use crate::kind::{
    Column, Cx, Desc, Field, Filter, Kind, KindId, ListQuery, Page, Perms, Raw, Retire, RetireInput, Show, Stored, Ty,
    Values,
};

/// Member status: `(key, Chinese, English)`.
pub const MEMBER_STATUSES: crate::kind::Choices = crate::import::spec::MEMBER_STATUSES;

/// Sex as written (cross-checked against the ID number).
pub const SEXES: crate::kind::Choices = crate::import::spec::SEXES;

/// Why a member left the register (党员名册).
pub const LEAVE_REASONS: crate::kind::Choices = &[
    ("transferred_out", "组织关系转出", "transferred out"),
    ("deceased", "去世", "deceased"),
    ("suspended", "停止党籍", "membership suspended"),
    ("entered_in_error", "误录", "entered in error"),
];

/// The earliest join date accepted: the founding of the Party (1 July 1921).
const FOUNDED: (i32, u32, u32) = (1921, 7, 1);

/// The party member kind.
pub struct Members;

impl Kind for Members {
    type New = NewMember;
    type Record = Member;

    const DESC: Desc = Desc {
        id: KindId::Members,
        key: "members",
        entity: "member",
        fields: &[
            Field::new("name", Ty::Name, true).aliases(&["党员姓名"]),
            Field::new("sex", Ty::Choice(SEXES), false).aliases(&["gender"]).noted(),
            Field::new("id_number", Ty::IdNumber, true)
                .aliases(&["身份证号码", "身份证号", "身份证", "证件号码", "id number", "id_card"])
                .noted(),
            Field::new("birth_date", Ty::Date, false)
                .aliases(&["出生年月", "birthday"])
                .noted(),
            Field::new("phone", Ty::Phone, false).aliases(&[
                "联系电话",
                "电话",
                "手机",
                "手机号",
                "手机号码",
                "联系方式",
                "联系手机",
                "mobile",
            ]),
            Field::new("status", Ty::Choice(MEMBER_STATUSES), true).aliases(&["党员类别", "类别", "党籍状态"]),
            Field::new("join_date", Ty::Date, false)
                .aliases(&["入党时间", "入党日期(年月日)"])
                .noted(),
            Field::new("party_organization", Ty::Ref(KindId::Orgs), true)
                .aliases(&["所在党组织", "党组织", "党支部", "所在支部", "party_org", "org_code"])
                .noted(),
            Field::new("employer", Ty::Text, false).aliases(&["工作单位", "单位", "现工作单位"]),
            Field::new("home_community", Ty::Division(&[Level::Village]), false)
                .aliases(&[
                    "报到社区代码",
                    "报到社区",
                    "报到村(社区)",
                    "报到村（社区）",
                    "居住社区",
                    "居住地社区",
                    "home_community_code",
                ])
                .noted(),
        ],
        columns: &[
            Column::new("name", Show::Link(KindId::Members, "id")),
            Column::new("sex", Show::Choice(SEXES)),
            Column::new("age", Show::Int),
            Column::new("id_number", Show::Code),
            Column::new("phone", Show::Code),
            Column::new("status", Show::Choice(MEMBER_STATUSES)),
            Column::new("join_date", Show::Date),
            Column::new("party_org_name", Show::Text),
            Column::detail("party_org_code", Show::Code),
            Column::new("employer", Show::Text),
            Column::new("home_community_name", Show::Text),
            Column::detail("division_code", Show::Place),
        ],
        natural_key: &["id_number"],
        filters: &[
            Filter::Choice("status", MEMBER_STATUSES),
            Filter::Under,
            Filter::Text,
            Filter::Division("home_community"),
            Filter::Id("org_id", KindId::Orgs),
        ],
        perms: Perms {
            write: Permission::Import,
            retire: Permission::Import,
        },
        retire: Retire::Keep(LEAVE_REASONS),
        importable: true,
    };

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<NewMember>> {
        let today = cx.today();
        let name = v.name("name");
        let id = v.id_number("id_number", today);
        let sex_typed = v.choice("sex");
        let birth_typed = v.date("birth_date");
        let (mut sex, mut birth) = (None, None);
        if let Some(id) = &id {
            let s = match id.sex() {
                Sex::Male => "male",
                Sex::Female => "female",
            };
            let (y, m, d) = id.birth_date();
            let b = NaiveDate::from_ymd_opt(y, m, d);
            if let Some(t) = sex_typed
                && t != s
            {
                let raw = v.raw("sex").to_string();
                v.error(
                    "sex",
                    &raw,
                    "sex-mismatch",
                    format!(
                        "does not agree with the ID number, which says {} (the 17th digit is odd for men, even for women, GB 11643-1999); correct one of them",
                        if s == "male" { "男 male" } else { "女 female" }
                    ),
                );
                v.args(vec![("expected", if s == "male" { "男" } else { "女" }.to_string())]);
            }
            if let (Some(t), Some(b)) = (birth_typed, b)
                && t != b
            {
                let raw = v.raw("birth_date").to_string();
                v.error(
                    "birth_date",
                    &raw,
                    "birth-date-mismatch",
                    format!("does not agree with the ID number's birth date {b}; correct one of them"),
                );
                v.args(vec![("expected", b.to_string())]);
            }
            sex = Some(s);
            birth = b;
            // A party member is at least 18 (the Party Constitution, Article 1).
            if let Some(b) = b
                && adult_on(b).is_some_and(|adult| adult > today)
            {
                v.error(
                    "id_number",
                    &id.masked(),
                    "member-under-18",
                    "by the ID number's birth date the member is under 18; party members are at least 18 (the Party Constitution, Article 1) — check the number",
                );
            }
        }
        let phone = v.phone("phone");
        let status = v.choice("status");
        let join = v.date("join_date");
        if let Some(j) = join {
            let raw = v.raw("join_date").to_string();
            let founded = NaiveDate::from_ymd_opt(FOUNDED.0, FOUNDED.1, FOUNDED.2).unwrap_or(j);
            if j < founded {
                v.error(
                    "join_date",
                    &raw,
                    "join-date-too-early",
                    "the join date is before the Party was founded (1921); check the date",
                );
            } else if j > today {
                v.error("join_date", &raw, "join-date-future", "the join date is in the future");
            } else if let Some(b) = birth
                && adult_on(b).is_some_and(|adult| j < adult)
            {
                v.error(
                    "join_date",
                    &raw,
                    "join-date-under-18",
                    "the join date is before the member's 18th birthday (the Party Constitution, Article 1, requires 18 years of age)",
                );
            }
        }
        let org = match v.required("party_organization") {
            None => None,
            Some(typed) => match super::resolve_org(cx.orgs()?, &typed) {
                Ok(found) => Some(found),
                Err((n, m)) => {
                    v.error("party_organization", &typed, "org-not-found", m);
                    v.args(vec![("count", n.to_string())]);
                    None
                }
            },
        };
        if let Some((_, div)) = &org {
            v.in_scope("party_organization", cx.access, div);
        }
        let employer = v.text("employer");
        // Linked only to a unit the caller sees, so a link never reveals or touches another area.
        let employer_unit_id = {
            let access = cx.access;
            let ix = cx.units()?;
            match ix.by_name.get(&cell::name(&employer)).map(Vec::as_slice) {
                Some([id]) if ix.division_of.get(id).is_some_and(|d| access.sees_code(d)) => Some(*id),
                _ => None,
            }
        };
        let home = if v.is_empty("home_community") {
            None
        } else {
            v.division("home_community", cx.divisions()?, &[Level::Village])
        };
        if v.failed() {
            return Ok(None);
        }
        let (Some(name), Some(id), Some(sex), Some(birth), Some(status), Some((org_id, division))) =
            (name, id, sex, birth, status, org)
        else {
            return Ok(None);
        };
        let at = cx.clock.now();
        Ok(Some(NewMember {
            name,
            id_number: id.as_str().to_string(),
            sex: sex.into(),
            birth_date: birth,
            phone,
            status: status.into(),
            join_date: join,
            party_org_id: org_id,
            employer,
            employer_unit_id,
            home_community: home,
            division_code: division,
            illustrative: cx.illustrative,
            created_at: at,
            updated_at: at,
        }))
    }

    fn held_json(n: &NewMember) -> Option<String> {
        serde_json::to_string(n).ok()
    }

    fn illustrative(n: &NewMember) -> bool {
        n.illustrative
    }

    fn check_all(
        cx: &mut Cx,
        news: &mut [Option<NewMember>],
        errors: &mut Vec<(usize, crate::import::Issue)>,
    ) -> DbResult<()> {
        // Nobody new joins an organization of a retired division (its members stay readable).
        let retired = cx.divisions()?.retired.clone();
        let joining: Vec<usize> = news
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.as_ref().filter(|n| retired.contains_key(&n.division_code)).map(|_| i))
            .collect();
        if joining.is_empty() {
            return Ok(());
        }
        let numbers: Vec<&str> = joining
            .iter()
            .filter_map(|&i| news[i].as_ref().map(|n| n.id_number.as_str()))
            .collect();
        let stored = load_by_numbers(cx.conn, &numbers)?;
        for i in joining {
            let Some(n) = &news[i] else { continue };
            let joins = stored
                .get(&n.id_number)
                .is_none_or(|(_, s)| s.party_org_id != n.party_org_id);
            if !joins {
                continue;
            }
            let on = retired[&n.division_code].to_string();
            errors.push((
                i,
                crate::import::Issue {
                    field: "party_organization".into(),
                    column: "party_organization".into(),
                    key: "org-division-retired".into(),
                    message: format!(
                        "this party organization belongs to {}, which was retired on {on}: nobody new joins it; register the member with the organization that replaced it",
                        n.division_code
                    ),
                    args: vec![("code", n.division_code.clone()), ("date", on)],
                    ..Default::default()
                },
            ));
            news[i] = None;
        }
        Ok(())
    }

    fn key(n: &NewMember) -> String {
        n.id_number.clone()
    }

    fn area(n: &NewMember) -> String {
        n.division_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&NewMember]) -> DbResult<Vec<Option<Stored<NewMember>>>> {
        let numbers: Vec<&str> = news.iter().map(|m| m.id_number.as_str()).collect();
        let found = load_by_numbers(cx.conn, &numbers)?;
        Ok(news
            .iter()
            .map(|m| {
                found.get(&m.id_number).map(|(id, n)| Stored {
                    id: id.to_string(),
                    new: n.clone(),
                })
            })
            .collect())
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<NewMember>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        let row: Option<NewMember> = members::table
            .find(id)
            .filter(members::left_on.is_null())
            .select(NewMember::as_select())
            .first(cx.conn)
            .optional()?;
        Ok(row.filter(|m| cx.access.sees_code(&m.division_code)))
    }

    fn same(a: &NewMember, b: &NewMember) -> bool {
        a.name == b.name
            && a.sex == b.sex
            && a.birth_date == b.birth_date
            && a.phone == b.phone
            && a.status == b.status
            && a.join_date == b.join_date
            && a.party_org_id == b.party_org_id
            && a.employer == b.employer
            && a.employer_unit_id == b.employer_unit_id
            && a.home_community == b.home_community
    }

    fn values(cx: &mut Cx, n: &NewMember) -> DbResult<Raw> {
        let org = cx
            .orgs()?
            .of_id
            .get(&n.party_org_id)
            .map(|(code, _)| code.clone())
            .unwrap_or_default();
        Ok(Raw::of([
            ("name", n.name.clone()),
            ("sex", n.sex.clone()),
            ("id_number", n.id_number.clone()),
            ("birth_date", n.birth_date.to_string()),
            ("phone", n.phone.clone().unwrap_or_default()),
            ("status", n.status.clone()),
            ("join_date", n.join_date.map(|d| d.to_string()).unwrap_or_default()),
            ("party_organization", org),
            ("employer", n.employer.clone()),
            ("home_community", n.home_community.clone().unwrap_or_default()),
        ]))
    }

    fn insert(conn: &mut DbConn, rows: &[NewMember]) -> DbResult<Vec<String>> {
        super::insert_members(conn, rows)?;
        let numbers: Vec<&str> = rows.iter().map(|m| m.id_number.as_str()).collect();
        let mut ids: HashMap<String, i64> = HashMap::with_capacity(rows.len());
        for part in numbers.chunks(1_000) {
            let got: Vec<(i64, String)> = members::table
                .filter(members::id_number.eq_any(part))
                .select((members::id, members::id_number))
                .load(conn)?;
            ids.extend(got.into_iter().map(|(id, n)| (n, id)));
        }
        Ok(rows
            .iter()
            .map(|m| ids.get(&m.id_number).map(i64::to_string).unwrap_or_default())
            .collect())
    }

    fn update(conn: &mut DbConn, id: &str, m: &NewMember) -> DbResult<()> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(());
        };
        diesel::update(members::table.find(id))
            .set((
                members::name.eq(&m.name),
                members::sex.eq(&m.sex),
                members::birth_date.eq(m.birth_date),
                members::phone.eq(&m.phone),
                members::status.eq(&m.status),
                members::join_date.eq(m.join_date),
                members::party_org_id.eq(m.party_org_id),
                members::employer.eq(&m.employer),
                members::employer_unit_id.eq(m.employer_unit_id),
                members::home_community.eq(&m.home_community),
                members::division_code.eq(&m.division_code),
                members::illustrative.eq(m.illustrative),
                members::updated_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
        Ok(())
    }

    fn retire(cx: &mut Cx, id: &str, how: &RetireInput) -> DbResult<bool> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(false);
        };
        let on = how.date.unwrap_or_else(|| cx.today());
        let n = diesel::update(members::table.find(id).filter(members::left_on.is_null()))
            .set((
                members::left_on.eq(on),
                members::left_reason.eq(&how.reason),
                members::updated_at.eq(cx.clock.now()),
            ))
            .execute(cx.conn)?;
        if n == 1 {
            diesel::insert_into(member_events::table)
                .values((
                    member_events::member_id.eq(id),
                    member_events::event.eq(&how.reason),
                    member_events::on_date.eq(on),
                    member_events::note.eq(&how.note),
                    member_events::recorded_by.eq(&cx.access.username),
                    member_events::recorded_at.eq(cx.clock.now()),
                ))
                .execute(cx.conn)?;
        }
        Ok(n == 1)
    }

    fn remove(conn: &mut DbConn, id: &str) -> DbResult<bool> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(false);
        };
        let events: i64 = member_events::table
            .filter(member_events::member_id.eq(id))
            .count()
            .get_result(conn)?;
        if events > 0 {
            return Ok(false);
        }
        Ok(diesel::delete(members::table.find(id)).execute(conn)? == 1)
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<Member>> {
        let filter = MemberFilter {
            status: q.value("status").map(str::to_string),
            org_id: q.value("org_id").and_then(|v| v.parse().ok()),
            under: q.under.clone(),
            q: q.q.clone(),
            home_community: q.value("home_community").map(str::to_string),
            retired: q.retired,
        };
        let (items, total) = query::members(conn, access, &filter, q.limit, q.offset)?;
        Ok(Page {
            items: items.into_iter().map(|m| redact(access, m)).collect(),
            total,
        })
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<Member>> {
        match id.parse::<i64>() {
            Ok(id) => Ok(query::member(conn, access, id)?.map(|m| redact(access, m))),
            Err(_) => Ok(None),
        }
    }
}

/// A member as the caller may see it: the home community's code is withheld when it lies
/// outside the caller's scope (its name, public reference data, is kept), so nothing shown
/// names a place outside the scope.
pub fn redact(access: &Access, mut m: Member) -> Member {
    if m.home_community.as_deref().is_some_and(|c| !access.sees_code(c)) {
        m.home_community = None;
    }
    m
}

/// The day someone born on `birth` turns 18.
fn adult_on(birth: NaiveDate) -> Option<NaiveDate> {
    birth.checked_add_months(chrono::Months::new(18 * 12))
}

/// Stored members by ID number: one scan of the unique index when the table is not much larger
/// than the list, else lookups in chunks.
pub(crate) fn load_by_numbers(conn: &mut DbConn, numbers: &[&str]) -> DbResult<HashMap<String, (i64, NewMember)>> {
    let stored: i64 = members::table.count().get_result(conn)?;
    let ids: Vec<i64> = if stored <= (numbers.len() as i64).saturating_mul(4) {
        let wanted: HashSet<&str> = numbers.iter().copied().collect();
        members::table
            .select((members::id, members::id_number))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .filter(|(_, n)| wanted.contains(n.as_str()))
            .map(|(id, _)| id)
            .collect()
    } else {
        let mut v = Vec::new();
        for part in numbers.chunks(1_000) {
            v.extend(
                members::table
                    .filter(members::id_number.eq_any(part))
                    .select(members::id)
                    .load::<i64>(conn)?,
            );
        }
        v
    };
    let mut out = HashMap::with_capacity(ids.len());
    for part in ids.chunks(1_000) {
        let rows: Vec<(i64, NewMember)> = members::table
            .filter(members::id.eq_any(part))
            .select((members::id, NewMember::as_select()))
            .load(conn)?;
        out.extend(rows.into_iter().map(|(id, m)| (m.id_number.clone(), (id, m))));
    }
    Ok(out)
}
