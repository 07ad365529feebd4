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
err-not-loopback = { $addr } is reachable from other machines. It cannot be served without TLS (give --insecure-http only if you must).
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
