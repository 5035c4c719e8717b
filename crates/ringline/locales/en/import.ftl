# Importing registry records: the import pages and the problems found in files.
nav-import = Import
import-intro = Import units, party organizations and party members from XLSX, XLS, ODS or CSV files. The file is checked first (a dry run): every problem is listed with its row and column, and nothing is written until the whole file is valid.
import-templates = Templates
import-order = Import in this order: units, then party organizations (they name their host unit), then party members (they name their organization). Dispatched cadres and twinning name units too; work logs name cadres who are in residence. Development chains name party organizations and units, brands their owner unit or village; lead products, collective income and income targets are given per village.
import-upload = Check a file
import-kind = Records
import-file = File
import-on-existing = Rows that match a stored record but differ
import-on-existing-skip = keep the stored record (skip)
import-on-existing-update = update the stored record
import-check = Upload and check
import-formats = Accepted: .xlsx, .xls, .ods, .csv (UTF-8, GBK or GB18030) and .csv.gz, up to 64 MB and 500,000 rows. The header may sit below a title row; merged header cells are understood.
import-no-file = Choose a file to upload.
import-choose-kind = Choose what the file holds.
import-unknown-type = { $file }: unknown file type; use .xlsx, .xls, .ods, .csv or .csv.gz.
import-too-large = The file is larger than { $mb } MB; split it.
import-stalled = The upload stopped arriving before it was complete; nothing was saved. Upload the file again.
import-stage-reading = Reading the file…
import-stage-checking = Checking rows…
import-stage-writing = Writing…
import-running-hint = This page refreshes itself until the work is done.
import-failed = The import stopped because of an internal error; nothing was written. Try again, or tell the administrator.
import-changed = Another import changed these records while this one was waiting to write, so nothing was written. The file has been checked again: review the new counts below before applying.
import-applied = Imported: the records were written.
import-dry-run-ok = The file is valid. Nothing has been written yet: check the counts and apply.
import-has-errors = { $count ->
    [one] 1 problem found: nothing was written. Fix it in the file and upload it again.
   *[other] { $count } problems found: nothing was written. Fix them in the file and upload it again.
}
import-more-errors = … and { $count } more: download the rows with errors to see them all.
import-rows = Data rows
import-header-row = Header on row
import-new = New
import-updated = To update / updated
import-unchanged = Unchanged
import-skipped = Skipped
import-errors = Errors
import-warnings = Warnings
import-apply = Apply: write these records
import-errors-xlsx = Download the rows with errors (XLSX, bad cells marked)
import-row = Row
import-column = Column
import-value = Value
import-reason = Reason
import-not-ready = This file cannot be applied: it has errors, is still being checked, or was already imported.
issue-value-missing = { $column } is required; fill it in.
issue-value-negative = Must be a whole number of 0 or more.
issue-duplicate-in-file = The same record as row { $first }; each record may appear only once in a file.
issue-header-not-found = No header row found near the top of the sheet; the header must name the columns, e.g. { $expected }.
issue-header-duplicate-column = The column { $column } appears twice; keep one.
issue-header-missing-column = The required column { $column } is missing; add it (the template shows every column).
issue-file-empty = The file is empty.
issue-file-no-rows = The file has a header but no data rows.
issue-file-too-many-rows = The file has too many rows; split it into files of at most 500,000 rows.
issue-file-too-large = The file is too large once unpacked; split it.
issue-file-encoding = { $detail }
issue-file-nul-byte = { $detail }
issue-file-malformed-csv = The CSV file is malformed: { $detail }
issue-file-not-spreadsheet = The spreadsheet cannot be read: { $detail }
issue-file-unknown-type = Unknown file type; use .xlsx, .xls, .ods, .csv or .csv.gz.
issue-file-unreadable = The file could not be read: { $detail }
issue-division-unknown = { $value } is not a division code in use here; check the 12-digit code.
issue-division-retired = { $code } was retired on { $date }: its records stay readable, but nothing new can be recorded for it; use the code that replaced it.
issue-org-division-retired = This party organization belongs to { $code }, which was retired on { $date }: nobody new joins it; register the member with the organization that replaced it.
issue-division-wrong-level = This is a { $level } code; a { $wanted } code is needed here.
issue-outside-scope = Outside your area; only records within your scope can be imported.
issue-point-outside-china = The point (WGS-84 longitude, latitude) is not in China; check the order and the numbers.
issue-point-unpaired = Give both longitude and latitude, or neither.
issue-credit-code-unverified = The credit code fails the GB 32100 check; accepted as an early pilot code — check it against the licence.
issue-org-code-malformed = An organization code has at most 32 digits, letters or '-'.
issue-org-host-missing = Give the host unit, or for a village's organization the village code.
issue-org-host-twice = Give either the host unit or the village code, not both.
issue-org-joint-alone = A joint organization usually covers other units too; list them under the joint units column.
issue-org-parent-self = An organization cannot be its own parent.
issue-org-parent-branch = A branch has no subordinate organizations; the parent must be a committee or a general branch.
issue-org-parent-cycle = The parents form a loop (an organization would be its own ancestor).
issue-org-parent-not-found = { $count ->
    [0] No party organization has the code or name { $value }; import the parent first or in the same file.
   *[other] { $count } party organizations are named { $value }; give the parent's code instead.
}
issue-org-not-found = { $count ->
    [0] No party organization has the code or name { $value }; use a code from the organization list.
   *[other] { $count } party organizations are named { $value }; give the organization's code instead.
}
issue-unit-not-found = { $count ->
    [0] No registered unit has the credit code or name { $value }; import the unit first or correct the name.
   *[other] { $count } registered units are named { $value }; give the unit's credit code instead.
}
issue-id-number-converted = A 15-digit first-generation ID number; stored converted to 18 characters.
issue-sex-mismatch = Does not agree with the ID number, which says { $expected } (the 17th digit is odd for men, even for women); correct one of them.
issue-birth-date-mismatch = Does not agree with the ID number's birth date { $expected }; correct one of them.
issue-join-date-too-early = The join date is before the Party was founded (1921); check the date.
issue-join-date-future = The join date is in the future.
issue-join-date-under-18 = The join date is before the member's 18th birthday (the Party Constitution, Article 1, requires 18 years of age).
issue-cell-scientific-notation = Excel stored this long number as a number and kept only 15 digits; format the column as text and type the value again.
issue-cell-not-a-date = Not a date; write it as 2019-07-01, 2019/7/1, 2019.07.01 or 2019年7月1日, or use an Excel date cell.
issue-cell-ambiguous-date = The day and month order is unclear; write the year first, e.g. 2019-07-01.
issue-cell-not-a-number = Not a number.
issue-cell-not-a-whole-number = Must be a whole number.
issue-cell-bad-phone = Not a phone number; write an 11-digit mobile number starting with 1, or a landline with its area code such as 0971-2722345.
issue-cell-not-a-choice = Not one of the allowed values; choose one of: { $allowed }.
issue-id-number-empty = The ID number is empty; enter the 18-character citizen ID number.
issue-id-number-wrong-length = An ID number has 18 characters (15 for old first-generation cards).
issue-id-number-not-digits = An ID number may contain only digits, and an X only as its last character.
issue-id-number-bad-date = The ID number's birth-date digits (7–14) are not a real date from 1900 on; check them.
issue-id-number-future-date = The ID number's birth date is in the future; check the birth-date digits.
issue-id-number-check-failed = The ID number's last character does not match the other 17; one of them is probably mistyped.
issue-credit-code-empty = The unified social credit code is empty.
issue-credit-code-wrong-length = A unified social credit code has 18 characters.
issue-credit-code-bad-character = A unified social credit code uses digits and the capital letters except I, O, S, V and Z.
issue-credit-code-check-failed = The credit code's last character does not match the other 17; look for a mistyped character.
issue-name-empty = The name is empty.
issue-name-too-long = The name is too long.
issue-name-invisible-character = The name contains an invisible or control character; retype it.
issue-code-empty = The division code is empty.
issue-code-wrong-length = A division code has 12 digits.
issue-code-not-digits = A division code has only digits.
issue-code-zero-province = A division code cannot start with 00.
issue-code-gap = The division code has a gap (a part after a zero part); check the digits.
issue-code-town-part = The division code's town part (digits 7–9) is not valid; check the digits.
issue-code-village-part = The division code's village part (digits 10–12) is not valid; check the digits.
issue-code-level-mismatch = The code does not have the level given; check the code.
issue-source-not-found = { $count ->
    [0] No registered unit and no town is named { $value }; give a unit's credit code or full name, or a town's 12-digit code.
   *[other] { $count } towns are named { $value }; give the town's 12-digit code.
}
issue-skill-unknown = { $value } is not on the skill list; use one of: { $allowed }.
issue-priority-out-of-range = The priority is 1, 2 or 3 (3 is the most urgent).
issue-cadre-not-found = No cadre on the roster has this ID number; import the cadre first.
issue-residency-not-found = This cadre has no residency covering this date.
issue-dispatch-log-empty = Write what was done.
issue-dispatch-log-too-long = A work log entry has at most 2,000 characters.
issue-dispatch-log-invisible = The text contains an invisible or control character; retype it.
import-stage-queued = Waiting for the import before it to finish…
import-too-many-jobs = You already have { $count } imports being checked or written; wait until one has finished.
issue-member-under-18 = By the ID number's birth date the member is under 18; party members are at least 18 (the Party Constitution, Article 1) — check the number.
issue-text-too-long = Longer than 500 characters; shorten it.
issue-org-branch-has-children = This organization has { $count } subordinate organizations; a branch cannot have any — move them first.
issue-cell-excel-error = The cell holds the Excel error { $value } instead of a value; fix the formula or type the value.
issue-amount-negative = The amount { $value } is negative; amounts are zero or more.
issue-amount-not-numeric = { $value } is not an amount of money; write yuan as digits with an optional decimal point, e.g. 12345.67, 12,345.67 or 1.2万.
issue-amount-bad-grouping = The thousands separators in { $value } are misplaced; write 1,234,567.89 or 1234567.89.
issue-amount-too-precise = { $value } is more precise than a fen; use at most 2 decimals (6 with 万).
issue-amount-too-large = { $value } is above 1,000,000,000,000 yuan; check the digits and the unit.
issue-amount-empty = The amount is empty; enter a sum in yuan such as 12,345.67 or 1.2万.
issue-year-outside-program = The year { $value } is outside the program of this village's county: { $first } to { $last } (the program's years and the five baseline years before them); check the year.
issue-year-out-of-range = The year { $value } is not between { $first } and { $last }; check the year.
issue-year-future = The year { $value } has not begun; income and output are reported for the current year or earlier ones.
issue-income-source-unknown = { $value } is not an income source; use one of: { $allowed }.
issue-scale-negative = The scale is negative; it is 0 or more.
issue-scale-unpaired = Give the scale and its unit together, or neither.
issue-chain-product-unknown = { $value } is none of the village's lead products; the chain is stored all the same — check the name.
issue-brand-owner-not-found = No registered unit has the credit code or name { $value }, and it is no village code; give a unit's credit code or full name, or a village's 12-digit code.
issue-brand-zone-other-county = The zone { $value } belongs to a program of another county; a brand belongs to a zone of its owner's county.
issue-zone-not-found = { $count ->
    [0] No zone of the owner's county is named { $value }; use a zone's name as the program page shows it.
   *[other] { $count } zones of the owner's county are named { $value }; use the zone's full name.
}
issue-division-name-unknown = No place of the wanted level is named { $value }; pick one from the list or give its 12-digit code.
issue-division-name-ambiguous = { $count } places are named { $value }; write the town before it ("town village") or give the 12-digit code.

# Held rows: import rows whose ID number belongs to a record outside the importer's area.
held-title = Rows held for the county
held-intro = When an imported member or cadre row carries the ID number of a person registered outside the importer's area, the import answers as for a new person and writes nothing to that record; the row waits here for a user whose area covers both places, who transfers the record to the row's organization or source, or discards the row. Both are recorded in the audit log.
held-open = Open the held rows
held-none = No rows are held for your area.
held-kind-members = Party member
held-kind-cadres = Dispatched cadre
held-col-id-number = ID number
held-col-record = Registered as
held-col-row = Row would move it to
held-col-source = File, row, imported by
held-record-gone = (record no longer exists)
held-transfer = Transfer
held-discard = Discard
import-sheet = Sheet
import-sheet-hint = first visible sheet
import-other-sheet = Read another sheet of this workbook:
import-read-sheet = Check that sheet
import-runs-title = Applied imports
import-runs-intro = An applied import can be undone while no later change touched its records: the records it created are removed and the values it replaced are put back.
import-runs-open = See the applied imports
import-runs-none = No import has been applied in your area yet.
import-run-number = Number
import-run-by = By
import-run-applied = Applied
import-run-undone = Undone
import-run-title = Import
import-run-records = Records written
import-undo = Undo this import
import-undo-link = Undo this import…
import-undo-warning = Undoing removes the records this import created and puts back the values it replaced. It is refused if any of them has changed since.
import-undo-sure = I have checked: undo this import.
import-undone = The import was undone.
import-to-confirm = Updates to confirm
import-to-confirm-hint = These rows would rename a record (another person under the same ID number?) or empty a stored value. Check them; to write them, tick the box before applying.
import-confirm-updates = I have checked the updates to confirm above: write them too.
import-confirm-needed = Some updates need your confirmation: tick the box under the list of updates to confirm, or fix the file.
import-changes = Rows that change stored records
import-key = Key
import-change-action = Action
import-change-fields = Stored → new
issue-header-unknown-column = The column { $column } is not a column of this kind and will not be imported; the nearest known header is { $nearest } — rename the header if that is what it holds.
issue-error-workbook = This is an error workbook: it holds only the rows that had errors. Fix them in the original file, or import these rows and then the others.
issue-file-no-such-sheet = { $detail }

issue-twinning-other-county = The unit lies outside the village's county; twin the village with a unit of its own county.
issue-dispatch-batch-county = A batch is planned by a scope covering its whole county; choose your county.
issue-dispatch-size-range = The batch size is not valid: the minimum may not exceed the maximum, and a batch has 0 to 10,000 pairs.
issue-dispatch-per-village = Cadres per village: give a number from 1 to 100.
issue-dispatch-young-max-age = The age limit is between 18 and 70 years; leave it empty for any age.
issue-dispatch-term = The term is between 1 and 120 months.
issue-dispatch-weights = Score weights are between -1000 and 1000 points.
issue-dispatch-outside-term = { $value } is outside this residency ({ $start } to { $end }).
issue-key-taken-dispatch = A batch is already named { $value }; choose another name.
issue-key-taken-work-logs = This cadre already has a work log for { $value }; one a day: open that one to change it.
issue-dispatch-leave-overlap = Leave from { $start } to { $end } ({ $status }) already covers some of these days; change that request or choose other days.
issue-dispatch-attendance-missing = No days are recorded for { $value }; record them first.
issue-dispatch-attendance-confirmed = The days of { $value } were confirmed already by { $who }.
issue-dispatch-confirm-unticked = Tick the box saying you understand that confirming cannot be undone, then confirm.
