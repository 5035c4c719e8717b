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
members-count = { $count } members

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
geometry-polygon = polygon of { $count } points
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
