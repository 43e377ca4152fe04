//! The canonical bytes of an event and the tamper-evident chain (docs/tamper-evidence.md).
//!
//! Every backend hashes exactly these bytes, so a chain verifies the same whatever stored it.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// `prev_hash` of the first event ever stored.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// The fields of a stored event in canonical order, as text (absent fields are `None`).
pub struct CanonicalFields<'a> {
    pub seq: i64,
    pub ts_micros: i64,
    pub action: &'a str,
    pub actor_type: &'a str,
    pub actor_id: Option<&'a str>,
    pub actor_name: Option<&'a str>,
    pub actor_email: Option<&'a str>,
    pub target_type: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub target_name: Option<&'a str>,
    pub result: &'a str,
    pub status: Option<&'a str>,
    pub client_ip: Option<&'a str>,
    pub org_id: Option<&'a str>,
    pub org_name: Option<&'a str>,
    pub ws_id: Option<&'a str>,
    pub ws_name: Option<&'a str>,
    pub level: &'a str,
    pub message: &'a str,
    /// Canonical JSON text (see [`canonical_json`]).
    pub details: &'a str,
    /// Canonical JSON text (see [`canonical_json`]).
    pub properties: &'a str,
    /// Who handed the event in (an API key id, or `witness`); `None` for events stored before
    /// sources were recorded, which keep their version-1 bytes so that old chains verify.
    pub source: Option<&'a str>,
}

impl CanonicalFields<'_> {
    /// `witness-event-v2\n` followed by each field as a netstring (`<len>:<bytes>,`), an absent
    /// field as `~,`, the source last. Length prefixes make the encoding unambiguous without
    /// escaping. An event without a source (stored before sources were recorded) is
    /// `witness-event-v1\n` and the same fields without the source.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.details.len() + self.properties.len());
        out.extend_from_slice(match self.source {
            Some(_) => b"witness-event-v2\n",
            None => b"witness-event-v1\n",
        });
        let (mut seq, mut ts) = (itoa::Buffer::new(), itoa::Buffer::new());
        let (seq, ts) = (seq.format(self.seq), ts.format(self.ts_micros));
        let fields: [Option<&str>; 21] = [
            Some(seq),
            Some(ts),
            Some(self.action),
            Some(self.actor_type),
            self.actor_id,
            self.actor_name,
            self.actor_email,
            self.target_type,
            self.target_id,
            self.target_name,
            Some(self.result),
            self.status,
            self.client_ip,
            self.org_id,
            self.org_name,
            self.ws_id,
            self.ws_name,
            Some(self.level),
            Some(self.message),
            Some(self.details),
            Some(self.properties),
        ];
        let source = self.source.map(Some);
        let mut digits = itoa::Buffer::new();
        for field in fields.into_iter().chain(source) {
            match field {
                Some(text) => {
                    out.extend_from_slice(digits.format(text.len()).as_bytes());
                    out.push(b':');
                    out.extend_from_slice(text.as_bytes());
                    out.push(b',');
                }
                None => out.extend_from_slice(b"~,"),
            }
        }
        out
    }

    pub fn hash(&self, prev_hash: &[u8; 32]) -> [u8; 32] {
        chain_hash(prev_hash, &self.bytes())
    }
}

/// `SHA-256(prev_hash ‖ canonical bytes)`.
pub fn chain_hash(prev_hash: &[u8; 32], canonical: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash);
    hasher.update(canonical);
    hasher.finalize().into()
}

/// JSON with object keys sorted (by their UTF-8 bytes) at every depth and no insignificant
/// whitespace; scalars as serde_json writes them. Independent of map ordering features.
pub fn canonical_json(map: &Map<String, Value>) -> String {
    let mut out = Vec::with_capacity(64);
    write_object(map, &mut out);
    // serde_json writes UTF-8 and the rest is ASCII punctuation, so this never replaces
    // anything; it only avoids an unchecked conversion.
    String::from_utf8(out).unwrap_or_else(|bad| String::from_utf8_lossy(bad.as_bytes()).into())
}

fn write_object(map: &Map<String, Value>, out: &mut Vec<u8>) {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out.push(b'{');
    for (index, (key, value)) in entries.into_iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_scalar(key.as_str(), out);
        out.push(b':');
        write_value(value, out);
    }
    out.push(b'}');
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => write_object(map, out),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

/// A key or a scalar as serde_json writes it, straight into `out` (writing to a `Vec` cannot
/// fail).
fn write_scalar(value: &(impl serde::Serialize + ?Sized), out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(&mut *out, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let value = json!({"b": 1, "a": {"d": [3, {"z": 1, "y": 2}], "c": "x"}});
        let Value::Object(map) = value else {
            unreachable!()
        };
        assert_eq!(
            canonical_json(&map),
            r#"{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}"#
        );
    }

    fn fields<'a>(message: &'a str, status: Option<&'a str>) -> CanonicalFields<'a> {
        CanonicalFields {
            seq: 7,
            ts_micros: 1_700_000_000_000_000,
            action: "member.added",
            actor_type: "user",
            actor_id: Some("u1"),
            actor_name: None,
            actor_email: None,
            target_type: None,
            target_id: None,
            target_name: None,
            result: "success",
            status,
            client_ip: None,
            org_id: None,
            org_name: None,
            ws_id: None,
            ws_name: None,
            level: "Information",
            message,
            details: "{}",
            properties: "{}",
            source: Some("key-1"),
        }
    }

    #[test]
    fn absent_and_empty_fields_hash_differently() {
        let absent = fields("m", None).hash(&GENESIS_HASH);
        let empty = fields("m", Some("")).hash(&GENESIS_HASH);
        assert_ne!(absent, empty);
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        // "ab" + "" must not equal "a" + "b".
        let one = fields("ab", Some("")).bytes();
        let two = fields("a", Some("b")).bytes();
        assert_ne!(one, two);
    }

    #[test]
    fn the_source_is_hashed_and_its_absence_is_version_1() {
        let from_key = fields("m", None);
        let from_other = CanonicalFields {
            source: Some("key-2"),
            ..fields("m", None)
        };
        let before_sources = CanonicalFields {
            source: None,
            ..fields("m", None)
        };
        assert_ne!(from_key.hash(&GENESIS_HASH), from_other.hash(&GENESIS_HASH));
        assert!(from_key.bytes().starts_with(b"witness-event-v2\n"));
        assert!(from_key.bytes().ends_with(b"5:key-1,"));
        let old = before_sources.bytes();
        assert!(old.starts_with(b"witness-event-v1\n") && old.ends_with(b"2:{},"));
    }

    #[test]
    fn the_hash_depends_on_the_previous_hash() {
        let first = fields("m", None).hash(&GENESIS_HASH);
        let second = fields("m", None).hash(&first);
        assert_ne!(first, second);
    }

    /// Stored chains verify only if these bytes never change: a fixed event, its canonical
    /// JSON and its hash, as written since the format's version 2.
    #[test]
    fn the_canonical_bytes_and_hash_of_a_fixed_event_never_change() {
        let value = json!({
            "z": [1, -2.5, true, null, "tab\there \"quoted\" é 🙂"],
            "a": {"new": "admin", "old": "member", "\u{1}": {}},
            "m": "line\nbreak"
        });
        let Value::Object(map) = value else {
            unreachable!()
        };
        let details = canonical_json(&map);
        assert_eq!(
            details,
            "{\"a\":{\"\\u0001\":{},\"new\":\"admin\",\"old\":\"member\"},\"m\":\"line\\nbreak\",\
             \"z\":[1,-2.5,true,null,\"tab\\there \\\"quoted\\\" é 🙂\"]}"
        );
        let event = CanonicalFields {
            seq: 1_234_567,
            actor_name: Some("Alice Ämberg"),
            target_id: Some("repo-42"),
            details: &details,
            ..fields("m", Some("201"))
        };
        let hash: String = event
            .hash(&[7; 32])
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(
            hash,
            "f9ab6ad08e7aa3b8ec5295ff4a08c50d44814c8272681fb49dddd5470da0fb8d"
        );
    }
}
