# mamori messages (English).

## Command help (--help)
cli-mamori = mamori: cybersecurity operations for medical institutions: ledgers, tests, audit log, the MHLW checklist
cli-init = Create the data directory and database, and print the first-run setup token
cli-serve = Start the web UI and API (initialises on first run)
cli-migrate = Upgrade the database to this version's schema
cli-institution = Manage institutions (tenants)
cli-institution-add = Register an institution
cli-institution-list = List registered institutions
cli-jobs = Manage jobs (imports, scans, verifications and other long work)
cli-jobs-list = List jobs
cli-jobs-show = Show a job
cli-jobs-cancel = Cancel a running or queued job
cli-audit = Work with the audit log
cli-audit-verify = Verify the audit log's hash chains: detects edited, deleted and reordered entries
cli-audit-log = Show the newest audit log entries
cli-token = Manage API tokens
cli-token-create = Issue an API token (shown only once)
cli-token-list = List API tokens
cli-token-revoke = Revoke an API token
cli-arg-data-dir = Data directory (SQLite database, lock, evidence files)
cli-arg-db = Use PostgreSQL instead of SQLite: postgres://user:password@host:port/database
cli-arg-lang = Message language (ja or en)
cli-arg-verbose = Log details to standard error
cli-arg-listen = Address and port to listen on (default 127.0.0.1: reachable from this machine only)
cli-arg-tls-cert = TLS certificate (PEM; chain with the server certificate first)
cli-arg-tls-key = TLS private key (PEM)
cli-arg-tls = Serve HTTPS with a self-signed certificate even on loopback
cli-arg-insecure-http = Allow plain HTTP without TLS on a non-loopback address (not recommended)
cli-arg-name = Name
cli-arg-kind = Kind (clinic, hospital, pharmacy, other)
cli-arg-code = Medical institution code (7 to 10 digits)
cli-arg-json = Print JSON
cli-arg-institution = Institution ID
cli-arg-status = Filter by status (queued, running, succeeded, failed, cancelled, interrupted)
cli-arg-limit = Maximum number of entries shown
cli-arg-id = The ID
cli-arg-follow = Show progress until the job ends

## Initialisation
setup-token-heading = First-run setup token (shown only here; keep it from others):
setup-token-hint = Start mamori serve, open the URL it prints in a browser and register the administrator with this token. Until an administrator exists, every start issues a new token.
init-created = Initialised the data ({ $backend }: { $location }).
init-existing = Checked the existing data ({ $backend }: { $location }).
migrate-up-to-date = The database is up to date (schema { $version }).
migrate-done = Upgraded the database (schema { $from } → { $to }).

## Institutions
institution-created = Registered the institution "{ $name }" (ID: { $id }).
institution-none = No institution is registered. Register one with mamori institution add.
institution-kind-clinic = Clinic
institution-kind-hospital = Hospital
institution-kind-pharmacy = Pharmacy
institution-kind-other = Other
demo-mark = [demo]

## Table headings
col-id = ID
col-name = Name
col-kind = Kind
col-code = Code
col-status = Status
col-progress = Progress
col-created = Created
col-message = Message
col-error = Error
col-finished = Finished
col-created-by = Started by
col-seq = No.
col-at = Time
col-actor = Actor
col-action = Action
col-object = Object
col-last-used = Last used

## Jobs
jobs-none = No jobs.
jobs-cancelled = Cancelled job { $id }.
jobs-cancel-requested = Asked job { $id } to stop. It stops at its next checkpoint.
job-status-queued = queued
job-status-running = running
job-status-succeeded = succeeded
job-status-failed = failed
job-status-cancelled = cancelled
job-status-interrupted = interrupted (process ended)

## Audit log
audit-chain-system = installation
audit-verifying = Verifying the audit log
audit-chain-ok = ✓ { $chain }: { $count } entries, none tampered with
audit-chain-broken = ✗ { $chain }: { $problem }
audit-verified = Verified all { $chains } audit chains. No tampering detected.
audit-break-edited = entry { $seq } has been altered
audit-break-gap = entry { $found } follows entry { $after } (entries deleted or reordered)
audit-break-unlinked = entry { $seq } does not link to the entry before it (deleted, inserted or reordered)
audit-break-truncated = the log ends at entry { $last } but had reached entry { $head } (newest entries deleted)
audit-break-head-mismatch = the last entry ({ $seq }) does not match the recorded chain head
audit-break-head-missing = entries exist but the chain head has been deleted
audit-break-emptied = the log is empty although it must have entries (entries deleted)

## API tokens
token-name-required = Give the token a name
token-created = Issued the API token "{ $name }" (ID: { $id }):
token-shown-once = This token cannot be shown again. Store it safely. Send it to the API as "Authorization: Bearer TOKEN".
token-revoked-state = revoked
token-active-state = active
token-none = No API tokens.
token-revoked = Revoked API token { $id }.

## Serving
serve-interrupted-jobs = Marked { $count } jobs that were running when mamori last stopped as interrupted. See mamori jobs list.
serve-insecure-warning = Warning: serving plain HTTP on the network. Traffic can be read and altered.
serve-tls-self-signed = TLS: using the self-signed certificate { $path }. Check that the fingerprint your browser shows matches:
serve-tls-certificate = TLS: using the certificate { $path }. Fingerprint:
serve-listening = mamori is running: { $url }
serve-stopped = mamori stopped.

## Errors
err-prefix = Error:
err-internal = Something unexpected went wrong. Run again with -v for details.
err-job = The job failed: { $reason }
err-db-bad-url = The database (--db) is not a valid URL: { $reason }
err-db-unreachable = Cannot connect to the database { $target } ({ $reason }). Check that the server runs and the address and credentials are right.
err-data-dir-unwritable = Cannot write to the data directory { $path } ({ $reason }). Check the location and permissions.
err-data-dir-locked = The data directory { $path } is in use by another mamori (process { $pid }).
err-key-missing = The installation key { $path } is missing. Restore it from the backup together with the database (a new key would invalidate every registered authenticator).
err-not-initialised = There is no data in { $path }. Run mamori init first.
err-schema-too-new = This data was created by a newer mamori (schema { $found }; this program supports up to { $supported }). Update mamori. The data was not changed.
err-schema-outdated = The database needs upgrading (schema { $found } → { $supported }). Run mamori migrate.
err-not-found = { $what } { $id } was not found.
err-referenced = { $what } { $id } is referred to by other records and cannot be deleted.
err-conflict = { $what } { $id } already exists.
err-job-finished = Job { $id } has already finished.
err-in-row = Row { $row }: { $reason }
err-invalid = Invalid input: { $reason }
err-missing-reference = { $what } { $id } refers to a record that does not exist in this institution.
err-database = A database operation failed ({ $code }). Run again with -v for details.
err-tls = Cannot set up TLS: { $reason }
err-bind = Cannot listen on { $addr } ({ $reason }). Check whether another program uses it.
err-bad-listen = "{ $value }" is not a listen address (for example 127.0.0.1:8780).
err-bad-id = "{ $value }" is not a valid ID.
err-bad-status = There is no status "{ $value }" (use queued, running, succeeded, failed, cancelled or interrupted).
err-audit-broken = The audit log shows signs of tampering. Record the output above and contact the system administrator.
err-job-not-succeeded = The job ended as "{ $status }".

## Web
web-running = mamori { $version } is running.
web-database = Database
web-institutions = Registered institutions
web-setup = First-run setup
web-setup-pending = pending (register the administrator with the token mamori serve printed)
web-setup-done = done
web-db-unavailable = The database is unavailable.
api-not-found = Not found.
api-invalid = The request is not valid.
api-conflict = It conflicts with another record.
api-internal = The server had a problem.
api-unauthenticated = A valid API token is required.

## Causes
problem-no-scheme = write it as postgres://user:password@host:port/database
problem-unsupported-scheme = unsupported kind of database; use postgres://
problem-no-host = no host given
problem-no-path = no file path given
problem-syntax = syntax error
problem-not-found = not found
problem-permission-denied = permission denied
problem-not-a-directory = not a directory
problem-read-only = read-only
problem-storage-full = the disk is full
problem-connection-refused = connection refused
problem-connection-reset = connection reset
problem-timeout = no answer
problem-unreachable = network unreachable
problem-addr-in-use = already in use
problem-addr-not-available = not an address of this machine
problem-tls = TLS handshake failed
problem-auth-failed = authentication failed
problem-database-missing = the database does not exist
problem-cannot-open = cannot open the database file

## Web: common
web-footer = cybersecurity operations for medical institutions
web-back-to-top = Back to the top
web-forbidden-title = You may not open this page
web-forbidden-body = If you need access, ask your institution's administrator.
web-not-found-title = Page not found
web-not-found-body = Check the address.
web-csrf-title = The request was not accepted
web-csrf-body = The page expired or the request came from another site. Reopen the page and try again.
web-error-title = Something went wrong
web-error-body = The server had a problem. If it persists, contact the administrator.
web-error-code = The code is not right. Enter the current 6 digits from your authenticator app.
web-error-display-name = Enter a name.
web-error-kind = Choose a kind.
web-error-login-format = Login names are 3 to 64 characters of a-z, 0-9 and ". _ - @".
web-error-password-mismatch = The passwords do not match.
nav-dashboard = Dashboard
nav-jobs = Jobs
nav-audit = Audit log
nav-users = Users and roles
nav-institutions = Switch institution
nav-institutions-admin = Institutions
nav-users-admin = Users
nav-audit-system = System audit log
nav-admin-group = Installation administration
nav-logout = Log out
field-login = Login name
field-display-name = Name
field-password = Password
field-password-confirm = Password (again)
field-code = Code (6 digits)
field-institution-name = Institution name
field-institution-kind = Kind
password-rule = At least 8 characters mixing letters, digits and symbols (not containing the login name, not a well-known password). Two-factor authentication is mandatory, so periodic changes are not required.
password-problem-too-short = The password is shorter than 8 characters.
password-problem-too-long = The password is too long (256 characters at most).
password-problem-not-mixed = The password must contain letters, digits and symbols.
password-problem-contains-login = The password must not contain the login name.
password-problem-common = That password is too easy to guess.
mfa-enrol-lead = Scan the QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, …) and enter the 6-digit code it shows.
mfa-secret-label = If you cannot scan it, enter this key:
role-admin = Administrator
role-operator = Operator
role-auditor = Auditor
role-vendor = Vendor
role-admin-desc = Everything in this institution, including its users and roles.
role-operator-desc = Edits data such as the ledgers and runs jobs (imports, scans, …).
role-auditor-desc = Reads everything including the audit log; changes nothing.
role-vendor-desc = Only the vendor pages of the institutions assigned to it.
ledger-assets = Devices
ledger-software = Software
ledger-staff = Staff
ledger-accounts = Accounts
ledger-vendors = Vendors
ledger-remote-maintenance = Remote maintenance
severity-critical = Critical
severity-high = High
severity-medium = Medium
severity-low = Low

## Web: first run
setup-title = First-run setup
setup-mfa-title = Register two-factor authentication
setup-lead = Register mamori's first administrator (of the whole installation). You need the setup token printed when the server started.
setup-token = Setup token
setup-token-hint-web = Printed by mamori init or mamori serve.
setup-error-token = The setup token is wrong or has expired. Restart mamori serve to get a new one.
setup-admin = Administrator
setup-institution = Institution (you can add more later)
setup-next = Next: two-factor authentication
setup-finish = Finish setup

## Web: login
login-title = Log in
login-mfa-title = Enter your code
login-next = Next
login-submit = Log in
login-cancel = Cancel and go back to login
login-hint = After repeated failures, logging in is blocked for a while.
login-failed = The login name or password is wrong, or the account cannot log in now.
login-code-failed = The code is not right.
login-mfa-lead = Enter the 6-digit code from your authenticator app.

## Web: dashboard
dashboard-title = Dashboard
dashboard-choose = Choose an institution.
dashboard-no-institution = There is no institution you can use yet.
dashboard-findings = Open findings
dashboard-ledgers = Ledger entries
dashboard-jobs = Recent jobs
dashboard-audit = Audit log entries
dashboard-audit-hint = Every action is recorded in a hash chain that shows tampering.

## Web: jobs
jobs-title = Jobs
jobs-lead = Long work such as imports, scans and verifications. Progress updates by itself.
jobs-cancel = Cancel

## Web: audit log
audit-title = Audit log
audit-institution-heading = What was done in this institution.
audit-system-heading = What was done across the installation (logins, user management, …).
audit-filter-action = Action
audit-filter-actor = Actor
audit-filter = Filter
audit-details = Details
audit-shown-of = Showing the newest { $shown } of { $total } entries.
audit-verify-button = Verify for tampering
audit-verify-running = Verification is taking a while. See the result on the jobs page.
audit-web-ok = No tampering detected.

## Web: users and roles
users-title = Users and roles
users-role = Role
users-mfa = Two-factor
users-mfa-yes = registered
users-mfa-pending = at first login
users-mfa-first-login = The user registers two-factor authentication at first login.
users-disabled = disabled
users-locked = locked for now
users-active = active
users-state = State
users-last-login = Last login
users-remove = Remove from this institution
users-change = Change
users-new = Register a new user
users-existing = Add an existing user
users-initial-password = Initial password
users-add = Add
users-saved = Saved.
users-installation-admin = Installation administrator
users-enable = Enable
users-disable = Disable
users-reset-mfa = Reset two-factor
users-set-password = Set a new password
users-revoke-sessions = End their sessions
users-roles-heading = Roles
users-error-role = Choose a role.
users-error-self = You cannot change your own role or state. Ask another administrator.
users-error-login-taken = That login name is taken.
users-error-unknown-login = No user has that login name.

## Web: institutions and users (administrator)
institutions-title = Institutions
institutions-add = Add an institution
institutions-open = Open
institutions-error-name = Enter the institution's name.
institutions-error-code = The medical institution code is 7 to 10 digits.
admin-users-title = Users

## Web: profile
profile-title = Profile
profile-password = Change password
profile-current-password = Current password
profile-new-password = New password
profile-change = Change
profile-error-current = The current password is not right.
profile-error-same = The new password is the same as the current one.
profile-mfa = Two-factor authentication (authenticator app)
profile-mfa-hint = Use this when you move to a new phone.
profile-mfa-start = Register again
profile-mfa-confirm = Register
profile-mfa-done = Your authenticator app has been registered again.
profile-sessions = Sessions
profile-last-seen = Last activity
profile-browser = Browser
profile-this-session = this one
profile-tokens = API tokens
profile-token-scope = Scope
profile-token-institution = Institution
profile-token-role = Role limit
profile-token-all-institutions = all my institutions
profile-token-my-role = up to my own role
profile-token-create = Issue
profile-token-created = Issued an API token:
profile-token-revoke = Revoke
api-forbidden = You may not do this.
problem-tls-file-unreadable = cannot read the certificate or key file
problem-tls-file-unwritable = cannot write the certificate or key file
problem-tls-no-certificate = no PEM certificate in the file
problem-tls-no-private-key = no PEM private key in the file
problem-tls-key-encrypted = the private key is password-protected; give an unprotected key
problem-tls-pem-malformed = not readable as PEM
problem-tls-key-mismatch = the private key does not belong to the certificate
problem-tls-rejected = the certificate or key cannot be used
problem-tls-invalid-hostname = invalid host name
problem-tls-generate-failed = cannot create the self-signed certificate

## mamori ledger
cli-ledger = Show ledgers (assets, staff, vendors, …) and export them to Excel or CSV
cli-ledger-list = Show a ledger
cli-ledger-export = Export a ledger to an XLSX or CSV file
cli-ledger-template = Write a blank ledger to fill in (header row and an example)
cli-arg-ledger-kind = Ledger (assets, software, staff, accounts, vendors, contracts, remote-maintenance, mds-sds, segments, sites)
cli-arg-format = File format (xlsx or csv)
cli-arg-encoding = CSV encoding (cp932: what Excel expects; utf8-bom: for characters CP932 lacks)
cli-arg-output = File to write
ledger-none = { $ledger } has no records.
ledger-exported = Wrote { $count } records to { $path }.
ledger-template-written = Wrote a blank { $ledger } ledger to { $path }.
err-bad-ledger-kind = There is no ledger "{ $value }" (use one of { $kinds }).
err-no-institution = No institution is registered. Add one with mamori institution add.
err-institution-required = { $count } institutions are registered. Choose one with --institution (see mamori institution list).
err-not-representable = Row { $row }, "{ $column }": the character "{ $char }" cannot be written in CP932 (Shift_JIS). Use --encoding utf8-bom.
err-export = Cannot create the file: { $reason }
err-write-file = Cannot write { $path } ({ $reason }). Check the folder and its permissions.

## Ledger import
cli-ledger-import = Import a ledger from Excel (XLSX, XLS, ODS) or CSV (checks only unless --yes is given)
cli-arg-file = The file to import
cli-arg-import-encoding = CSV text encoding (auto, utf8, cp932 = Shift_JIS)
cli-arg-yes = Save the records when the check finds no error
import-summary = Read sheet "{ $sheet }" with row { $header } as the header: { $create } new, { $update } updated, { $unchanged } unchanged.
import-unmapped = Column not imported: { $column } "{ $title }"
import-problem-line = { $level } { $sheet } row { $row } { $column }: { $what }
import-level-error = [error]
import-level-warning = [warning]
import-dry-run = Checked only; nothing saved yet. If this looks right, run again with --yes.
import-done = Saved ({ $create } new, { $update } updated).
import-problem-other = cannot read the value ({ $code })
import-problem-date-empty = the date is empty
import-problem-date-unrecognised = not a date (e.g. 2026/4/1, 令和8年4月1日, R8.4.1)
import-problem-date-serial-out-of-range = the date value is out of range
import-problem-date-outside-era = the date is outside the era
import-problem-date-no-such-day = no such date
import-problem-not-a-bool = use yes/no, ○/× or similar
import-problem-not-an-ip = not an IP address
import-problem-not-a-mac = not a MAC address
import-problem-not-an-integer = not a whole number
import-problem-not-a-cidr = not a network address (e.g. 192.168.10.0/24)
import-problem-unknown-asset-kind = unknown device kind (server, PC, network device, medical device, IoT, other)
import-problem-unknown-choice = not one of the choices
import-problem-unknown-reference = no record has this name (imported as empty)
import-problem-ambiguous-reference = several records have this name (imported as empty)
import-problem-duplicate-key = the same device, person, … appears twice in the file
import-problem-formula-error = a formula error (fix it in Excel)
import-problem-missing-required = a required field is empty
import-problem-invalid = the value is not valid
import-read-empty = the file is empty
import-read-file-too-large = the file is too large
import-read-too-many-rows = too many rows
import-read-password-protected = the file is password-protected; remove the protection in Excel and save again
import-read-damaged = the file is damaged or cut short
import-read-encoding = cannot tell the text encoding; give --encoding
import-read-not-text = neither an Excel file nor CSV
import-read-csv-malformed = the CSV is malformed
err-read-file = Cannot read { $path } ({ $reason }).
err-import-unreadable = Cannot read this as a ledger: { $what }.
err-import-unreadable-row = Cannot read this as a ledger: { $what } (row { $row }).
err-import-no-header = No header row for { $ledger }. Check that a row holds the column titles (e.g. 機器名, IPアドレス).
err-import-has-errors = Nothing saved: { $count } errors. Fix them as listed above and import again.
nav-ledgers = Ledgers
ledger-web-title = Ledgers
ledger-web-count = { $total } records ({ $shown } shown)
ledger-web-empty = This ledger has no records yet.
ledger-web-import-hint = Import Excel or CSV ledgers on the server with mamori ledger import FILE --kind KIND (import through these pages comes later).
