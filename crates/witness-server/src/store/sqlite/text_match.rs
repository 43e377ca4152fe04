//! Free text without the text index: `witness_text_match(q, <SEARCH_COLUMNS>)`, an SQL function
//! on every connection, for partitions whose text index is not built yet. It matches words as
//! the index does (`witness_api::TextMatcher`, also used by the live tail), so a page does not
//! change when its partition is sealed.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use witness_api::TextMatcher;

/// The columns free text searches, in the order [`super::row::EventRow::search_text`] joins
/// them for the text index.
pub const SEARCH_COLUMNS: &str = "message, action, actor_id, actor_name, actor_email, \
    target_type, target_id, target_name, status, client_ip, org_id, org_name, ws_id, ws_name, \
    details, properties";

pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "witness_text_match",
        -1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            // The query is the same for every row of a statement: parsed once.
            let matcher =
                ctx.get_or_create_aux(0, |q| -> Result<TextMatcher, rusqlite::Error> {
                    Ok(TextMatcher::new(q.as_str().unwrap_or_default()))
                })?;
            let parts = (1..ctx.len()).filter_map(|i| ctx.get_raw(i).as_str().ok());
            Ok(matcher.matches_parts(parts))
        },
    )
}
