//! SQL text through parse, validation, privileges, inference, literal
//! typing, the fragment split and the SQLite rewrite. No input may panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(sql) = std::str::from_utf8(data) {
        mosaic::plan::exercise::exercise(sql);
    }
});
