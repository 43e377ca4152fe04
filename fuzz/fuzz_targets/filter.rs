//! The audit filter as a query string (`GET /api/audit/events?…`, the panel's URL) and the
//! panel's search syntax (`actor:alice -result:success "free words"`): every input is either
//! a filter or a message naming the parameter or token; never a panic. A parsed filter
//! survives its own round trip through the query string.
#![no_main]

use libfuzzer_sys::fuzz_target;
use witness_api::EventFilter;
use witness_panel::filters::{apply_search, filter_from_query, query_from_filter};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(data)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    match EventFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(filter) => {
            let again = filter_from_query(&query_from_filter(&filter, &[]))
                .expect("a filter's own query string parses");
            assert_eq!(again, filter);
        }
        Err(error) => assert!(!error.parameter.is_empty() && !error.message.is_empty()),
    }
    match apply_search(&EventFilter::default(), text) {
        Ok(_) => {}
        Err(message) => assert!(!message.is_empty()),
    }
});
