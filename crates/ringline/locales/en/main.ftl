# ringline — English. Every key here must also exist in zh-CN/main.ftl.
app-tagline = Party-building demonstration zones
nav-program = Program
nav-divisions = Divisions
nav-logout = Log out
footer-data = Division codes: National Bureau of Statistics (2023). Datong points and outline: Vonng/adcode (CC BY 4.0). Map drawn without online tiles.
back-home = Back to the start page

login-title = Log in
login-username = Username
login-password = Password
login-submit = Log in
login-hint = On first start the server prints the password of the account "admin" once.

error-not-found = Not found: the record does not exist or lies outside your scope.
error-unauthorized = Please log in.
error-bad-credentials = Wrong username or password.
error-csrf = The form has expired or did not come from this site. Reload the page and try again.
error-internal = Something went wrong on the server. The error was logged; please try again or tell your administrator.

role-county-admin = County administrator
role-town-admin = Town administrator
role-village-reporter = Village reporter
role-unit-admin = Unit administrator
role-dispatched-cadre = Dispatched cadre
role-viewer = Viewer / auditor

stat-zones = zones
stat-villages-in-zones = villages in a zone
stat-villages-approximate = villages placed at their town seat (approximate)
stat-towns = towns
stat-villages = villages and communities
members-count = { $count ->
    [one] { $count } member
   *[other] { $count } members
}

map-title = Map of the county with its demonstration zones
legend-no-zone = in no zone (comparison group)
legend-approximate = approximate point (town seat)
legend-seat = town seat
geometry-assumption = Zone geometries marked "assumed" are defaults for the county to confirm: a ring around a town seat, or corridors along the town seats of a valley.
tag-assumption = assumed

zones-title = Zones
members-title = Member villages
children-title = Subordinate divisions
history-title = History
overlap-title = Villages in more than one zone
overlap-explain = Zones of one program should not share villages. Adjust the geometry or use the include/exclude lists.

col-zone = Zone
col-kind = Kind
col-theme = Theme
col-area = Area
col-goals = Goals
col-geometry = Geometry
col-members = Members
col-code = Code
col-name = Name
col-town = Town
col-reason = Why it is in
col-distance = Distance (km)
col-level = Level
col-urban-rural = Urban-rural class
col-point = Point
col-status = Status
col-when = When
col-event = Change
col-source = Source

kind-ring = Ring
kind-line = Line
theme-commerce-economy = Commerce and economy
theme-new-rural-construction = New rural construction
theme-characteristic-industry = Characteristic industry
theme-collective-economy = Village collective economy

geometry-ring = centre { $centre }, radius { $inner }–{ $outer } km
geometry-polygon = polygon with { $count } corners
geometry-line = along { $path }, { $width } km either side

reason-geometry = inside the zone
reason-geometry-approximate = inside the zone (approximate point: town seat)
reason-include-list = on the include list

approximate-point = approximate
approximate-explain = This village has no point of its own; it is placed at its town seat.
no-point = no point
no-zone = This village belongs to no zone of the program.

level-province = Province
level-city = City
level-county = County
level-town = Town
level-village = Village / community
division-kind-sub-district = sub-district (街道)
division-kind-town = town (镇)
division-kind-township = township (乡)
division-kind-town-like = town-level unit (类似乡级单位)
division-kind-residents-committee = residents' committee (community)
division-kind-villagers-committee = villagers' committee (village)
division-kind-residents-like = residents'-committee-like unit
division-kind-villagers-like = villagers'-committee-like unit
status-active = in use
status-retired = retired
division-retired-note = Retired on { $date }: this code is no longer in use. Its records stay readable; nothing new can be recorded for it, and it counts in no summary.
event-created = created
event-renamed = renamed
event-updated = updated
event-retired = retired
event-reinstated = reinstated

overrides-title = Include and exclude lists
col-list = List
col-note = Note
override-include = include
override-exclude = exclude
zone-edit-hint = To change this zone: ringline zones set-geometry, ringline zones include, ringline zones exclude (membership is recomputed at once).

nav-users = Users
nav-audit = Audit log
nav-password = Change password
error-forbidden = Your role may not do this.
error-too-many-attempts = Too many failed logins for this account or from this address. Wait { $minutes } minute(s) and try again.
error-invalid-username = The username must be 2–32 letters, digits, ".", "_" or "-".
error-weak-password = The password must have at least 10 characters and not be one repeated character.
error-duplicate-username = That username is already taken.
error-unknown-role = Unknown role.
error-bad-scope = The scope must be a 12-digit division code or zone:ID.
error-unknown-scope = The scope names no active division or zone.
error-scope-not-grantable = You may only give scopes within your own.
error-wrong-password = The current password is wrong.
error-bad-phone = That is not a phone number.
error-password-mismatch = The two new passwords differ.
user-username = Username
user-display-name = Name
user-role = Role
user-scope = Scope
user-phone = Phone
user-status-disabled = disabled
user-status-active = active
user-last-login = Last login
user-created = Created
user-create = Create user
user-password = Password
user-scope-hint = Scope: the 12-digit code of the county, town or village the user works on (e.g. 630121103000 for 东峡镇), or zone:ID for the villages of one zone. Users see nothing outside their scope.
user-unmask = show full number (recorded in the audit log)
user-enable = Enable account
user-disable = Disable account
user-new-password = New password
user-reset-password = Set password
user-reset-hint = A new password ends all of the user's sessions.
user-audit-link = Changes to this user in the audit log
user-disabled = The account is disabled and its sessions have ended.
user-enabled = The account is enabled.
user-password-reset = The password was set; the user's sessions have ended.
user-unmask-audited = The full number is shown; this view was recorded in the audit log.
password-current = Current password
password-new = New password
password-confirm = New password again
password-submit = Change password
password-hint = At least 10 characters. Changing the password logs you out everywhere.
audit-col-id = No.
audit-col-user = User
audit-col-action = Action
audit-col-entity = Record kind
audit-col-record = Record
audit-col-change = Change
audit-col-before = Before
audit-col-after = After
audit-col-detail = Detail
audit-before = before
audit-after = after
audit-from = From
audit-to = To
audit-search = Search
audit-count = { $count ->
    [one] { $count } entry
   *[other] { $count } entries
}
audit-export = Export to Excel (XLSX)
audit-sheet = Audit log
pager-prev = Previous
pager-next = Next
col-parent-code = Parent code
col-parent = Parent
col-lon = Longitude (WGS-84)
col-lat = Latitude (WGS-84)
export-xlsx = Export to Excel (XLSX)
error-busy = The database is busy, probably with a large import. Please try again in a minute.
error-conflict = Someone else saved a record with the same key at the same moment, so nothing was changed. Reload the page, check, and try again.
error-import-changed = Another import changed these records after they were checked, so nothing was written. Check the file again (a dry run) and apply what it finds.
error-invalid-request = The request could not be understood; check the address or the form fields
user-edit = Change the account
user-save = Save
user-updated = The account was changed. A change of role or scope ends the user's sessions.
user-edit-hint = Leave the masked phone as it is to keep it; clear the field to remove it. You cannot change your own role or scope.
login-password-changed = Your password was changed. Log in with the new one.
error-csrf-api = Missing or wrong X-CSRF-Token header: send the csrf_token returned by POST /api/v1/session.
urban-rural-111 = main urban area
urban-rural-112 = urban-rural fringe
urban-rural-121 = town centre
urban-rural-122 = town-rural fringe
urban-rural-123 = special area
urban-rural-210 = township centre
urban-rural-220 = village
audit-action-create = created
audit-action-update = changed
audit-action-disable = disabled
audit-action-enable = enabled
audit-action-password-reset = password set
audit-action-password-change = own password changed
audit-action-unmask = personal data shown
audit-action-import = import
audit-action-include = put on the include list
audit-action-exclude = put on the exclude list
audit-action-reset = taken off the lists
audit-entity-user = user
audit-entity-zone = zone
audit-entity-zone_override = zone list entry
audit-entity-division = divisions

# Record pages and forms (every kind)
record-new = New { $kind }
record-edit = Edit { $kind }
record-count = { $count ->
    [one] 1 record
   *[other] { $count } records
}
record-created = Saved: the record was created.
record-updated = Saved: the changes were written.
record-create = Create
record-save = Save changes
record-cancel = Cancel
record-edit-button = Edit
record-retire-button = Retire…
record-fix-fields = Some values need correcting; each problem is shown next to its field. Nothing was saved.
record-personal-unchanged = Leave empty to keep the stored value
record-retire-title = Retire { $kind }
record-retire-warning = { $name } will leave the lists and counts. It is kept, with the reason and the date, and its history stays readable.
record-delete-warning = { $name } will be deleted. The audit log keeps its values.
record-retire-reason = Reason
record-retire-date = Since (default: today)
record-retire-note = Note
record-retire-confirm = Retire it
record-delete-confirm = Delete it
record-retire-bad-date = The date is not a date; write it like 2026-03-01.
record-code-of = { $label } (code)
error-record-not-retirable = The record is already retired, or other records still refer to it.
error-invalid-input = The input has problems:
error-key-taken = Another record already has this value.
error-import-undone-already = This import was undone already.
error-import-undo-changed = Some records were changed after the import (or are outside your area); it can no longer be undone.
error-import-undo-referenced = A record the import created is now referred to by other records; the import can no longer be undone.
units-filter-uncovered = Only non-public enterprises and social organizations without organization coverage
issue-key-taken = Another record already has this value; open that record instead.
issue-update-other-person = The stored record with this ID number is { $before }, the row says { $after }: the row may name somebody else. Check the number, then confirm the update.
issue-update-renames = Renames { $before } to { $after }; check that it is the same record, then confirm.
issue-update-empties = Empties the stored value { $before }; leave the column out to keep it, or confirm.
issue-value-not-yes-no = Write 是 or 否 (yes or no).
issue-value-out-of-range = The number is too large.
record-retired = Done: the record was retired; it no longer appears in the lists.
record-show-all = show all
program-new-zone = New zone
program-zone-list = All zones as a list
