//! What a saved view may be: its name and its query, one home for the API and restore alike
//! (as `accounts.rs` is for users). The HTTP layer only turns a complaint into a field error.

use chrono::{SubsecRound, Utc};
use witness_api::{EventFilter, SavedView};

/// A view's name as stored: trimmed, 1–100 characters, no control characters (a name is
/// shown in a list and an audit record, where a line break or an escape would mislead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewName(String);

impl ViewName {
    /// The name in `text` (surrounding spaces dropped), or what is wrong with it, worded to
    /// follow the field's name.
    pub fn parse(text: &str) -> Result<Self, String> {
        let name = text.trim();
        if name.is_empty() {
            return Err("is required".to_string());
        }
        if name.chars().count() > SavedView::MAX_NAME_CHARS {
            return Err(format!(
                "must be at most {} characters",
                SavedView::MAX_NAME_CHARS
            ));
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters (line breaks, tabs)".to_string());
        }
        Ok(ViewName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A view's query as stored: the Audit logs tab's query string, its filter parameters valid
/// as the API reads them, written back in one encoding. Parameters that are not filters are
/// kept (the tab may read more than the filter, such as how it shows times), except `cursor`:
/// a page position belongs to one moment's results, a view to every later visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewQuery(String);

impl ViewQuery {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let text = text.strip_prefix('?').unwrap_or(text);
        if text.chars().count() > SavedView::MAX_QUERY_CHARS {
            return Err(format!(
                "must be at most {} characters",
                SavedView::MAX_QUERY_CHARS
            ));
        }
        let pairs: Vec<(String, String)> = form_urlencoded::parse(text.as_bytes())
            .filter(|(key, _)| key != "cursor")
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        if pairs
            .iter()
            .any(|(key, value)| key.chars().chain(value.chars()).any(char::is_control))
        {
            return Err("must not contain control characters".to_string());
        }
        EventFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(
            |error| {
                format!(
                    "is not a valid Audit logs filter: `{}` {}",
                    error.parameter, error.message
                )
            },
        )?;
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in &pairs {
            query.append_pair(key, value);
        }
        Ok(ViewQuery(query.finish()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A new view, with a new id and made now (to the microsecond, as stores keep it, so the
/// answer to its creation is the view as listed later).
pub fn new_view(name: ViewName, query: ViewQuery) -> SavedView {
    SavedView {
        id: format!("view-{}", hex::encode(rand::random::<[u8; 6]>())),
        name: name.into_string(),
        query: query.into_string(),
        created_at: Utc::now().trunc_subsecs(6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(
            ViewName::parse("  Failed logins ").map(ViewName::into_string),
            Ok("Failed logins".to_string())
        );
        assert_eq!(ViewName::parse(" \t "), Err("is required".to_string()));
        assert!(ViewName::parse(&"é".repeat(100)).is_ok());
        assert!(ViewName::parse(&"é".repeat(101)).is_err());
        assert!(ViewName::parse("two\nlines").is_err());
        assert!(ViewName::parse("bell\u{7}").is_err());
        assert!(
            ViewName::parse("<b>bold</b> & \u{202e}").is_ok(),
            "shown as text"
        );
    }

    #[test]
    fn queries_must_be_filters_and_lose_their_page_position() {
        let parse = |text: &str| ViewQuery::parse(text).map(ViewQuery::into_string);
        assert_eq!(
            parse("?actor=alice&action=member.*&cursor=1.2.3"),
            Ok("actor=alice&action=member.*".to_string())
        );
        assert_eq!(parse(""), Ok(String::new()), "no filter is a view too");
        assert_eq!(parse("q=a%20b&tz=local"), Ok("q=a+b&tz=local".to_string()));
        let refused = parse("from=2026-02-01&to=2026-01-01").expect_err("to before from");
        assert!(refused.contains("`to`"), "{refused}");
        assert!(parse("result=maybe").is_err());
        assert!(parse("q=a%0Ab").is_err());
        assert!(parse(&format!("q={}", "a".repeat(4000))).is_err());
    }

    #[test]
    fn new_views_get_distinct_ids() {
        let view = || {
            new_view(
                ViewName::parse("v").expect("name"),
                ViewQuery::parse("").expect("query"),
            )
        };
        let (one, two) = (view(), view());
        assert_ne!(one.id, two.id);
        assert!(one.id.starts_with("view-"));
    }
}
