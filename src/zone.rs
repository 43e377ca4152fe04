//! Named time zones through the browser's `Intl.DateTimeFormat`: the browser already holds the
//! zone database, so the panel ships none (a tz crate would add hundreds of KB to the .wasm).

use std::cell::RefCell;

use chrono::{DateTime, NaiveDate, Utc};
use leptos::web_sys::js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Intl, js_name = DateTimeFormat)]
    type ZoneFormat;

    /// Throws a RangeError for a zone the browser does not know.
    #[wasm_bindgen(catch, constructor, js_namespace = Intl, js_class = "DateTimeFormat")]
    fn new(locale: &str, options: &Object) -> Result<ZoneFormat, JsValue>;

    #[wasm_bindgen(method, js_name = formatToParts)]
    fn format_to_parts(this: &ZoneFormat, millis: f64) -> Array;
}

thread_local! {
    /// One formatter per zone asked for (`None`: not a zone), as building one is slow and a
    /// page has a hundred rows. A list, not a map: a session asks for a handful of zones, and
    /// a `HashMap` would bring its hasher into the .wasm for nothing else.
    static FORMATS: RefCell<Vec<(String, Option<ZoneFormat>)>> = const { RefCell::new(Vec::new()) };
}

fn formatter(zone: &str) -> Option<ZoneFormat> {
    let options = Object::new();
    let set = |key: &str, value: &str| {
        let _ = Reflect::set(&options, &key.into(), &value.into());
    };
    set("timeZone", zone);
    set("hourCycle", "h23");
    for field in ["year", "month", "day", "hour", "minute", "second"] {
        set(field, "numeric");
    }
    ZoneFormat::new("en-US", &options).ok()
}

/// Whether the browser knows `zone` (an IANA name such as `Europe/Paris`).
pub fn known(zone: &str) -> bool {
    with_formatter(zone, |_| ()).is_some()
}

fn with_formatter<T>(zone: &str, use_it: impl FnOnce(&ZoneFormat) -> T) -> Option<T> {
    FORMATS.with(|formats| {
        let mut formats = formats.borrow_mut();
        let index = match formats.iter().position(|(name, _)| name == zone) {
            Some(index) => index,
            None => {
                formats.push((zone.to_string(), formatter(zone)));
                formats.len() - 1
            }
        };
        formats[index].1.as_ref().map(use_it)
    })
}

/// Seconds east of UTC in `zone` at `at`: the zone's wall clock then, minus UTC's.
pub fn offset(zone: &str, at: DateTime<Utc>) -> Option<i32> {
    let millis = at.timestamp_millis() as f64;
    let parts = with_formatter(zone, |format| format.format_to_parts(millis))?;
    let mut fields = [0i64; 6];
    for part in parts.iter() {
        let kind = Reflect::get(&part, &"type".into()).ok()?.as_string()?;
        let slot = match kind.as_str() {
            "year" => 0,
            "month" => 1,
            "day" => 2,
            "hour" => 3,
            "minute" => 4,
            "second" => 5,
            _ => continue,
        };
        let value = Reflect::get(&part, &"value".into()).ok()?.as_string()?;
        fields[slot] = value.parse().ok()?;
    }
    let [year, month, day, hour, minute, second] = fields;
    let wall = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month as u32, day as u32)?
        .and_hms_opt(hour as u32, minute as u32, second as u32)?;
    let utc_second = at.timestamp();
    let offset = wall.and_utc().timestamp() - utc_second;
    i32::try_from(offset).ok()
}
