//! Free text without the text index: `witness_text_match(q, <columns>)` (the columns of
//! `witness_api::SearchFields::columns`), an SQL function on every connection, for partitions
//! whose text index is not built yet. It matches words as the index does
//! (`witness_api::TextMatcher`, also used by the live tail), so a page does not change when
//! its partition is sealed.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use witness_api::TextMatcher;

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
