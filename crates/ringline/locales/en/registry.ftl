# The registry pages (SPEC C3): units, party organizations, members and the two coverages.
# Every key here must also exist in zh-CN/registry.ftl.
nav-units = Units
nav-orgs = Party organizations
nav-members = Members
nav-coverage = Coverage
illustrative = Illustrative
illustrative-note = Records marked "Illustrative" were generated for the demo; they are not real.
reg-all = All
reg-filter = Filter
reg-under = Town or village
reg-name-contains = Name contains
reg-uncovered-only = Only non-public enterprises and social organizations without organization coverage
reg-clear-filter = show all members
reg-none = None.
reg-yes = yes
reg-no = no
reg-outside-scope = outside your scope
reg-count-units = { $count ->
    [one] { $count } unit
   *[other] { $count } units
}
reg-count-orgs = { $count ->
    [one] { $count } party organization
   *[other] { $count } party organizations
}
reg-count-members = { $count ->
    [one] { $count } member
   *[other] { $count } members
}
reg-units-hint = Party members: the number the unit reports / the number registered with it as employer. Organization coverage: an own or joint party organization; work coverage: any party organization or a party-building instructor.
reg-col-id = No.
reg-col-credit-code = Unified social credit code
reg-col-credit-check = Code check
reg-unverified = unverified
reg-unverified-explain = The code fails the GB 32100 check (an early pilot code, accepted with a warning).
reg-col-place = Place
reg-col-village = Village / community
reg-col-address = Address
reg-col-headcount = Headcount
reg-col-party-members = Party members (reported / registered)
reg-col-reported-members = Party members reported by the unit
reg-col-registered-members = Registered party members
reg-col-org-covered = Organization coverage
reg-col-work-covered = Work coverage
reg-col-mode = Establishment
reg-col-parent = Parent organization
reg-col-parent-code = Parent code
reg-col-host = Host unit or village
reg-col-place-code = Division code
reg-col-members = Members
reg-col-covered-units = Units covered
reg-col-sex = Sex
reg-col-age = Age
reg-col-id-number = ID number
reg-col-phone = Phone
reg-col-join-date = Joined the Party
reg-col-org = Party organization
reg-col-org-code = Organization code
reg-col-employer = Employer
reg-col-home = Home community
reg-col-home-code = Home community code
reg-col-listed-at = Listed at
reg-col-zone-id = Zone id
reg-home-placeholder = village code
reg-masked-note = ID numbers and phones are masked.
reg-covering-orgs = Party organizations covering this unit
reg-no-covering = No party organization covers this unit.
reg-covering-hidden = { $count ->
    [one] One more party organization outside your scope covers it ({ $modes }).
   *[other] { $count } more party organizations outside your scope cover it ({ $modes }).
}
reg-employed-members = Party members working here
reg-employed-count = { $shown } within your scope of { $total } registered with this unit as employer.
reg-children = Subordinate organizations
reg-covered-units = Units covered
reg-covered-more = { $shown } of { $all } units shown; the others lie outside your scope or beyond this list ({ $visible } within your scope).
reg-host-unit = host
reg-open-member-list = Open in the member list
reg-unmask = Show the full ID number and phone (recorded in the audit log)
reg-unmasked-notice = The full ID number and phone are shown on this page only, once; this view was recorded in the audit log.
coverage-title = The two coverages
coverage-explain = Counted: non-public enterprises and social organizations. Organization coverage: the unit has its own party organization or belongs to a joint one. Work coverage: any party organization, or at least a party-building instructor, covers the unit.
coverage-by-town = By town
coverage-by-zone = By zone
coverage-by-county = County
coverage-program = Program
coverage-col-units = Units
coverage-col-org-covered = Organization covered
coverage-col-org-rate = Organization coverage rate
coverage-col-work-covered = Work covered
coverage-col-work-rate = Work coverage rate
coverage-uncovered-org = Units without organization coverage
coverage-uncovered-work = Units without work coverage
coverage-lacking-org = lacking organization coverage
coverage-lacking-work = lacking work coverage
coverage-in-unit-list = open in the unit list
