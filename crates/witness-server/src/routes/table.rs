//! The API described once: every route, who may call it, and what it takes and answers.
//!
//! The router ([`super::api`], [`super::root`]), the README's permission table
//! ([`permission_table`]), the access test (`tests/api/access.rs`) and the OpenAPI document
//! (`GET /api/openapi.json`, [`super::openapi`]) all come from [`ROUTES`].

/// An HTTP method the API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// Lower case, as OpenAPI's path items name operations.
    pub const fn openapi_name(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Delete => "delete",
        }
    }

    /// Whether a session call needs the `X-CSRF-Token` header.
    pub const fn is_unsafe(self) -> bool {
        !matches!(self, Method::Get)
    }
}

/// Who may call a route: what the route's extractor (`src/auth.rs`) enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No credentials needed.
    Anyone,
    /// An API key with the ingest permission (ingestion checks it itself; cookies are ignored).
    IngestKey,
    /// `Reader`: any logged-in user, or an API key with the read permission.
    Reader,
    /// `SessionUser`: a logged-in user of any role, through a session only.
    SessionUser,
    /// `Person`: a logged-in user of any role, for what is their own; every API key is 403.
    Person,
    /// `Admin`: a logged-in admin.
    Admin,
}

/// The kinds of caller the permission table has a column for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallerKind {
    Anonymous,
    IngestKey,
    ReadKey,
    AuditorSession,
    AdminSession,
}

impl CallerKind {
    pub const ALL: [CallerKind; 5] = [
        CallerKind::Anonymous,
        CallerKind::IngestKey,
        CallerKind::ReadKey,
        CallerKind::AuditorSession,
        CallerKind::AdminSession,
    ];

    /// The permission table's column heading.
    pub const fn heading(self) -> &'static str {
        match self {
            CallerKind::Anonymous => "anyone",
            CallerKind::IngestKey => "ingest key",
            CallerKind::ReadKey => "read key",
            CallerKind::AuditorSession => "auditor session",
            CallerKind::AdminSession => "admin session",
        }
    }
}

/// What the server answers a kind of caller on a route, as far as permission goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Let through: the answer is the route's own (2xx, or a 4xx other than 401/403).
    Allowed,
    /// 401: no credentials, or not the kind this route takes.
    Unauthorized,
    /// 403: credentials that are known but not enough.
    Forbidden,
}

impl Verdict {
    pub const fn cell(self) -> &'static str {
        match self {
            Verdict::Allowed => "✓",
            Verdict::Unauthorized => "401",
            Verdict::Forbidden => "403",
        }
    }
}

impl Access {
    /// What the extractors answer `caller` here. `Caller` (auth.rs) tries a session cookie,
    /// then an API key with the read permission: a key without it is refused with 403 before
    /// `SessionUser` can ask for a session, so an ingest key is 403 on session-only routes
    /// while a read key (accepted as a caller, but not a session) is 401 there.
    pub const fn verdict(self, caller: CallerKind) -> Verdict {
        use CallerKind as C;
        use Verdict::{Allowed, Forbidden, Unauthorized};
        match (self, caller) {
            (Access::Anyone, _) => Allowed,
            (_, C::Anonymous) => Unauthorized,
            (Access::IngestKey, C::IngestKey) => Allowed,
            (Access::IngestKey, C::ReadKey) => Forbidden,
            // Ingestion looks at keys only; a session cookie is no key.
            (Access::IngestKey, C::AuditorSession | C::AdminSession) => Unauthorized,
            (Access::Reader, C::IngestKey) => Forbidden,
            (Access::Reader, C::ReadKey | C::AuditorSession | C::AdminSession) => Allowed,
            (Access::SessionUser, C::IngestKey) => Forbidden,
            (Access::SessionUser, C::ReadKey) => Unauthorized,
            (Access::SessionUser, C::AuditorSession | C::AdminSession) => Allowed,
            (Access::Person, C::IngestKey | C::ReadKey) => Forbidden,
            (Access::Person, C::AuditorSession | C::AdminSession) => Allowed,
            (Access::Admin, C::AdminSession) => Allowed,
            (Access::Admin, C::IngestKey | C::ReadKey | C::AuditorSession) => Forbidden,
        }
    }
}

/// Which handler serves a route; [`super::method_router`] maps each to its `MethodRouter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handler {
    Health,
    IngestClef,
    IngestRaw,
    OpenApi,
    Login,
    Logout,
    Me,
    ChangePassword,
    ListEvents,
    GetEvent,
    Histogram,
    Export,
    Stream,
    Verify,
    Diagnostics,
    DiagnosticReport,
    GetSettings,
    PutSettings,
    ListBackups,
    CreateBackup,
    DownloadBackup,
    ListApiKeys,
    CreateApiKey,
    RevokeApiKey,
    ListUsers,
    CreateUser,
    UpdateUser,
    RemoveUser,
    ListViews,
    CreateView,
    RemoveView,
}

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum In {
    Path,
    Query,
}

/// A parameter's JSON Schema type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    String,
    Integer,
    Boolean,
    /// One of these strings.
    OneOf(&'static [&'static str]),
}

/// A path or query parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub location: In,
    pub kind: ParamType,
    pub description: &'static str,
    /// A value that works in a request (path parameters: used by the access test).
    pub example: &'static str,
}

const fn path(name: &'static str, description: &'static str, example: &'static str) -> Param {
    Param {
        name,
        location: In::Path,
        kind: ParamType::String,
        description,
        example,
    }
}

const fn query(
    name: &'static str,
    kind: ParamType,
    description: &'static str,
    example: &'static str,
) -> Param {
    Param {
        name,
        location: In::Query,
        kind,
        description,
        example,
    }
}

/// A request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestBody {
    /// JSON of this component schema (a `witness_api` type).
    Json(&'static str),
    /// Seq's ingestion body: CLEF lines, or the classic `{"Events": […]}`.
    Ingest { clef_only: bool },
}

/// What a successful answer carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// JSON of this component schema.
    Json(&'static str),
    /// A JSON array of this component schema.
    JsonArray(&'static str),
    /// Not JSON: a media type and what it is.
    Other {
        media_type: &'static str,
        description: &'static str,
    },
    /// The export: CSV or NDJSON of events.
    Export,
    /// No body (204).
    Empty,
}

/// The successful answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content: Content,
}

const fn ok(content: Content) -> Answer {
    Answer {
        status: 200,
        content,
    }
}

const fn created(content: Content) -> Answer {
    Answer {
        status: 201,
        content,
    }
}

const NO_CONTENT: Answer = Answer {
    status: 204,
    content: Content::Empty,
};

/// One route of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    /// The whole path, in axum's syntax (`/api/users/{id}`).
    pub path: &'static str,
    pub access: Access,
    pub handler: Handler,
    /// One line for people.
    pub summary: &'static str,
    /// Path and query parameters (the event filters come with `filters`).
    pub params: &'static [Param],
    /// Takes the event filters of `witness_api::FILTER_PARAMETERS` as query parameters.
    pub filters: bool,
    pub body: Option<RequestBody>,
    pub answer: Answer,
    /// Error statuses besides 401/403 (which come from `access`) and 500.
    pub errors: &'static [u16],
}

impl Route {
    /// `GET /api/users/{id}`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }

    /// The path with every path parameter replaced by its example.
    pub fn example_path(&self) -> String {
        let mut path = self.path.to_string();
        for param in self.params.iter().filter(|p| p.location == In::Path) {
            path = path.replace(&format!("{{{}}}", param.name), param.example);
        }
        path
    }
}

const EVENT_ID: Param = path(
    "id",
    "The event's id (its sequence number, 16 hex digits)",
    "0000000000000001",
);
const BACKUP_ID: Param = path(
    "id",
    "The backup's id, e.g. `20261122T020000Z`",
    "20260101T000000Z",
);
const KEY_ID: Param = path("id", "The API key's id", "key-x");
const USER_ID: Param = path("id", "The user's id", "user-x");
const VIEW_ID: Param = path("id", "The saved view's id", "view-x");
const CLEF_FLAG: Param = query(
    "clef",
    ParamType::String,
    "Present (any value): the body is CLEF, as with `Content-Type: application/vnd.serilog.clef`",
    "",
);
const LIMIT: Param = query(
    "limit",
    ParamType::Integer,
    "Events per page, 1 to 1000 (default 100)",
    "100",
);
const CURSOR: Param = query(
    "cursor",
    ParamType::String,
    "`next_cursor` of the previous page",
    "",
);
const BUCKET: Param = query(
    "bucket",
    ParamType::String,
    "Bucket width, e.g. `3600`, `1h`, `1d` (default: chosen from the range)",
    "1h",
);
const FORMAT: Param = query(
    "format",
    ParamType::OneOf(&["csv", "ndjson"]),
    "The export's format (default csv)",
    "csv",
);
const FULL: Param = query(
    "full",
    ParamType::Boolean,
    "Verify the whole chain from the first event, not only what is new since the last verify",
    "false",
);

/// Errors of an operation that is audited before it runs: `503` when auditing is unavailable.
const AUDITED: &[u16] = &[503];

/// Every route, in the order the README's table lists them.
pub const ROUTES: &[Route] = &[
    Route {
        method: Method::Get,
        path: "/health",
        access: Access::Anyone,
        handler: Handler::Health,
        summary: "Whether the server is up",
        params: &[],
        filters: false,
        body: None,
        answer: ok(Content::Json("Health")),
        errors: &[],
    },
    Route {
        method: Method::Get,
        path: "/api/openapi.json",
        access: Access::Anyone,
        handler: Handler::OpenApi,
        summary: "This API as an OpenAPI 3.1 document",
        params: &[],
        filters: false,
        body: None,
        answer: ok(Content::Other {
            media_type: "application/json",
            description: "An OpenAPI 3.1 document",
        }),
        errors: &[],
    },
    Route {
        method: Method::Post,
        path: "/api/auth/login",
        access: Access::Anyone,
        handler: Handler::Login,
        summary: "Log in: sets the session cookie and answers the CSRF token",
        params: &[],
        filters: false,
        body: Some(RequestBody::Json("LoginRequest")),
        answer: ok(Content::Json("LoginResponse")),
        errors: &[400, 401, 413, 422, 429, 503],
    },
    Route {
        method: Method::Post,
        path: "/ingest/clef",
        access: Access::IngestKey,
        handler: Handler::IngestClef,
        summary: "Ingest CLEF events (Seq-compatible)",
        params: &[],
        filters: false,
        body: Some(RequestBody::Ingest { clef_only: true }),
        answer: created(Content::Json("IngestResponse")),
        errors: &[400, 413, 503],
    },
    Route {
        method: Method::Post,
        path: "/api/events/raw",
        access: Access::IngestKey,
        handler: Handler::IngestRaw,
        summary: "Ingest events, classic Seq JSON or CLEF (Seq-compatible)",
        params: &[CLEF_FLAG],
        filters: false,
        body: Some(RequestBody::Ingest { clef_only: false }),
        answer: created(Content::Json("IngestResponse")),
        errors: &[400, 413, 503],
    },
    Route {
        method: Method::Get,
        path: "/api/auth/me",
        access: Access::SessionUser,
        handler: Handler::Me,
        summary: "The logged-in user, the session's CSRF token and expiry",
        params: &[],
        filters: false,
        body: None,
        answer: ok(Content::Json("Me")),
        errors: &[],
    },
    Route {
        method: Method::Put,
        path: "/api/auth/password",
        access: Access::SessionUser,
        handler: Handler::ChangePassword,
        summary: "Change your own password; ends your sessions and starts a new one",
        params: &[],
        filters: false,
        body: Some(RequestBody::Json("PasswordChange")),
        answer: ok(Content::Json("LoginResponse")),
        errors: &[400, 413, 422, 429, 503],
    },
    Route {
        method: Method::Post,
        path: "/api/auth/logout",
        access: Access::SessionUser,
        handler: Handler::Logout,
        summary: "End this session",
        params: &[],
        filters: false,
        body: None,
        answer: NO_CONTENT,
        errors: AUDITED,
    },
    Route {
        method: Method::Get,
        path: "/api/audit/events",
        access: Access::Reader,
        handler: Handler::ListEvents,
        summary: "A page of events matching the filter, newest first",
        params: &[LIMIT, CURSOR],
        filters: true,
        body: None,
        answer: ok(Content::Json("EventPage")),
        errors: &[400, 503],
    },
    Route {
        method: Method::Get,
        path: "/api/audit/events/{id}",
        access: Access::Reader,
        handler: Handler::GetEvent,
        summary: "One event",
        params: &[EVENT_ID],
        filters: false,
        body: None,
        answer: ok(Content::Json("AuditEvent")),
        errors: &[400, 404, 503],
    },
    Route {
        method: Method::Get,
        path: "/api/audit/histogram",
        access: Access::Reader,
        handler: Handler::Histogram,
        summary: "How many events match the filter, per time bucket",
        params: &[BUCKET],
        filters: true,
        body: None,
        answer: ok(Content::Json("Histogram")),
        errors: &[400, 503],
    },
    Route {
        method: Method::Get,
        path: "/api/audit/export",
        access: Access::Reader,
        handler: Handler::Export,
        summary: "Every event matching the filter as CSV or NDJSON, streamed",
        params: &[FORMAT],
        filters: true,
        body: None,
        answer: ok(Content::Export),
        errors: &[400, 503],
    },
    Route {
        method: Method::Get,
        path: "/api/audit/stream",
        access: Access::Reader,
        handler: Handler::Stream,
        summary: "Live tail: new events matching the filter as server-sent events",
        params: &[],
        filters: true,
        body: None,
        answer: ok(Content::Other {
            media_type: "text/event-stream",
            description: "`event: audit` with one AuditEvent as JSON per new event; \
                          `event: lagged` with how many were missed",
        }),
        errors: &[400, 503],
    },
    Route {
        method: Method::Get,
        path: "/api/audit/verify",
        access: Access::Reader,
        handler: Handler::Verify,
        summary: "Verify the hash chain and the signed checkpoints",
        params: &[FULL],
        filters: false,
        body: None,
        answer: ok(Content::Json("VerifyReport")),
        errors: &[400, 503],
    },
    Route {
        method: Method::Get,
        path: "/api/diagnostics",
        access: Access::Admin,
        handler: Handler::Diagnostics,
        summary: "The server's live status",
        params: &[],
        filters: false,
        body: None,
        answer: ok(Content::Json("Diagnostics")),
        errors: AUDITED,
    },
    Route {
        method: Method::Get,
        path: "/api/diagnostics/report",
        access: Access::Admin,
        handler: Handler::DiagnosticReport,
        summary: "A diagnostic report to download (no secrets)",
        params: &[],
        filters: false,
        body: None,
        answer: ok(Content::Other {
            media_type: "text/plain",
            description: "The diagnostic report, as an attachment",
        }),
        errors: AUDITED,
    },
    Route {
        method: Method::Get,
        path: "/api/settings",
        access: Access::Admin,
        handler: Handler::GetSettings,
        summary: "The current settings",
        params: &[],
        filters: false,
        body: None,
        answer: ok(Content::Json("Settings")),
        errors: AUDITED,
    },
    Route {
        method: Method::Put,
        path: "/api/settings",
        access: Access::Admin,
        handler: Handler::PutSettings,
        summary: "Change the settings",
        params: &[],
        filters: false,
        body: Some(RequestBody::Json("SettingsUpdate")),
        answer: ok(Content::Json("Settings")),
        errors: &[400, 413, 422, 503],
    },
    Route {
        method: Method::Get,
        path: "/api/backups",
        access: Access::Admin,
        handler: Handler::ListBackups,
        summary: "The backups, newest first",
        params: &[],
        filters: false,
        body: None,
        answer: ok(Content::JsonArray("BackupInfo")),
        errors: AUDITED,
    },
    Route {
        method: Method::Post,
        path: "/api/backups",
        access: Access::Admin,
        handler: Handler::CreateBackup,
        summary: "Make a backup now",
        params: &[],
        filters: false,
        body: None,
        answer: created(Content::Json("BackupInfo")),
        errors: &[409, 503],
    },
    Route {
        method: Method::Get,
        path: "/api/backups/{id}/download",
        access: Access::Admin,
        handler: Handler::DownloadBackup,
        summary: "Download a backup file (encrypted under the server's secret key)",
        params: &[BACKUP_ID],
        filters: false,
        body: None,
        answer: ok(Content::Other {
            media_type: "application/octet-stream",
            description: "The backup file, as an attachment",
        }),
        errors: &[404, 503],
    },
    Route {
        method: Method::Get,
        path: "/api/apikeys",
        access: Access::Admin,
        handler: Handler::ListApiKeys,
        summary: "The API keys (never their tokens)",
        params: &[],
        filters: false,
        body: None,
        answer: ok(Content::JsonArray("ApiKey")),
        errors: AUDITED,
    },
    Route {
        method: Method::Post,
        path: "/api/apikeys",
        access: Access::Admin,
        handler: Handler::CreateApiKey,
        summary: "Create an API key; the answer is the only time its token is shown",
        params: &[],
        filters: false,
        body: Some(RequestBody::Json("NewApiKey")),
        answer: created(Content::Json("CreatedApiKey")),
        errors: &[400, 413, 422, 503],
    },
    Route {
        method: Method::Delete,
        path: "/api/apikeys/{id}",
        access: Access::Admin,
        handler: Handler::RevokeApiKey,
        summary: "Revoke an API key",
        params: &[KEY_ID],
        filters: false,
        body: None,
        answer: NO_CONTENT,
        errors: &[404, 503],
    },
    Route {
        method: Method::Get,
        path: "/api/users",
        access: Access::Admin,
        handler: Handler::ListUsers,
        summary: "The users",
        params: &[],
        filters: false,
        body: None,
        answer: ok(Content::JsonArray("User")),
        errors: AUDITED,
    },
    Route {
        method: Method::Post,
        path: "/api/users",
        access: Access::Admin,
        handler: Handler::CreateUser,
        summary: "Create a user",
        params: &[],
        filters: false,
        body: Some(RequestBody::Json("NewUser")),
        answer: created(Content::Json("User")),
        errors: &[400, 409, 413, 422, 503],
    },
    Route {
        method: Method::Put,
        path: "/api/users/{id}",
        access: Access::Admin,
        handler: Handler::UpdateUser,
        summary: "Change a user's role, password, display name or email",
        params: &[USER_ID],
        filters: false,
        body: Some(RequestBody::Json("UserUpdate")),
        answer: ok(Content::Json("User")),
        errors: &[400, 404, 409, 413, 422, 503],
    },
    Route {
        method: Method::Delete,
        path: "/api/users/{id}",
        access: Access::Admin,
        handler: Handler::RemoveUser,
        summary: "Remove a user",
        params: &[USER_ID],
        filters: false,
        body: None,
        answer: NO_CONTENT,
        errors: &[404, 409, 503],
    },
    Route {
        method: Method::Get,
        path: "/api/views",
        access: Access::Person,
        handler: Handler::ListViews,
        summary: "Your saved views of the Audit logs tab, by name",
        params: &[],
        filters: false,
        body: None,
        answer: ok(Content::JsonArray("SavedView")),
        errors: &[],
    },
    Route {
        method: Method::Post,
        path: "/api/views",
        access: Access::Person,
        handler: Handler::CreateView,
        summary: "Save a view: a name for filters and a time range (a query string)",
        params: &[],
        filters: false,
        body: Some(RequestBody::Json("NewSavedView")),
        answer: created(Content::Json("SavedView")),
        errors: &[400, 409, 413, 422, 503],
    },
    Route {
        method: Method::Delete,
        path: "/api/views/{id}",
        access: Access::Person,
        handler: Handler::RemoveView,
        summary: "Delete one of your saved views",
        params: &[VIEW_ID],
        filters: false,
        body: None,
        answer: NO_CONTENT,
        errors: &[404, 503],
    },
];

/// The README's permission table (between `<!-- routes:begin -->` and `<!-- routes:end -->`).
pub fn permission_table() -> String {
    let mut table = String::from("| method, path |");
    for caller in CallerKind::ALL {
        table.push_str(&format!(" {} |", caller.heading()));
    }
    table.push_str("\n|---|");
    for _ in CallerKind::ALL {
        table.push_str("---|");
    }
    table.push('\n');
    for route in ROUTES {
        table.push_str(&format!("| `{}` |", route.label()));
        for caller in CallerKind::ALL {
            table.push_str(&format!(" {} |", route.access.verdict(caller).cell()));
        }
        table.push('\n');
    }
    table
}

/// The README's block between the route markers, if both are there.
pub fn readme_block(readme: &str) -> Option<&str> {
    let begin = "<!-- routes:begin -->\n";
    let start = readme.find(begin)? + begin.len();
    let end = start + readme[start..].find("<!-- routes:end -->")?;
    Some(&readme[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_table_is_the_route_table() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
                .expect("README.md");
        let block = readme_block(&readme).expect("README.md has <!-- routes:begin/end -->");
        let expected = permission_table();
        assert!(
            block == expected,
            "README.md's route table differs from ROUTES (src/routes/table.rs); put this \
             between <!-- routes:begin --> and <!-- routes:end -->:\n\n{expected}"
        );
    }

    #[test]
    fn each_method_and_path_is_listed_once() {
        for (index, route) in ROUTES.iter().enumerate() {
            assert!(
                !ROUTES[..index]
                    .iter()
                    .any(|other| other.method == route.method && other.path == route.path),
                "{} twice",
                route.label()
            );
        }
    }

    #[test]
    fn every_path_parameter_is_described() {
        for route in ROUTES {
            let in_path: Vec<&str> = route
                .path
                .split('/')
                .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let described: Vec<&str> = route
                .params
                .iter()
                .filter(|param| param.location == In::Path)
                .map(|param| param.name)
                .collect();
            assert_eq!(in_path, described, "{}", route.label());
        }
    }
}
