//! Seq-compatible ingestion: CLEF and the classic JSON body, mapped onto audit events.
